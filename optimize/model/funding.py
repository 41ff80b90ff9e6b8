"""Burden sharing: which funding program pays what, within eligibility and budgets."""

from __future__ import annotations

from optimize.model.context import Build, add_constraints, at_most, linear
from optimize.model.investment import capex_terms


def funding_balance(b: Build) -> None:
    r"""Capex outlay and operating support are paid by eligible programs (only with funding.csv).

    A program ``g`` is eligible for ``f`` in ``y`` when ``f``'s country and stage are in its
    lists, ``y`` is within its years, and it covers that kind of cost. A candidate no program
    may fund in its construction years therefore cannot be built.

    .. math::

        capex\_out_{f,y} = \sum_{g \in G^{capex}_{f,y}} fund_{g,f,y,capex}, \qquad
        support_{f,y} = \sum_{g \in G^{operating}_{f,y}} fund_{g,f,y,operating}
    """
    if b.data.funding is None:
        return
    m, ix, data = b.m, b.ix, b.data
    rows = {}
    for f, fac in data.facilities.items():
        if fac.candidate:
            for y in data.years:
                outlay = capex_terms(b, f, y)
                paid = [(1.0, m.fund[k]) for k in ix.fund_by.get((f, y, "capex"), ())]
                if outlay:
                    rows[(f, y, "capex")] = linear(outlay + [(-c, v) for c, v in paid]) == 0
    for f, y in m.support_index:
        paid = [(1.0, m.fund[k]) for k in ix.fund_by.get((f, y, "operating"), ())]
        support = [(1.0, m.support[f, y])]
        rows[(f, y, "operating")] = linear(support + [(-c, v) for c, v in paid]) == 0
    add_constraints(b, "funding_balance", rows)


def annual_budget(b: Build) -> None:
    r"""A funding program pays at most its annual budget in each year.

    .. math::

        \sum_{f,c} fund_{g,f,y,c} \le annual\_musd_g
    """
    if b.data.funding is None:
        return
    rows = {
        (g, y): at_most([(1.0, b.m.fund[k]) for k in keys], [], b.data.funding[g].annual_musd)
        for (g, y), keys in b.ix.fund_by_program_year.items()
    }
    add_constraints(b, "annual_budget", rows)


def total_budget(b: Build) -> None:
    r"""A funding program pays at most its total budget over the horizon (where one is set).

    .. math::

        \sum_{f,y,c} fund_{g,f,y,c} \le total\_musd_g
    """
    if b.data.funding is None:
        return
    rows = {}
    for g, keys in b.ix.fund_by_program.items():
        total = b.data.funding[g].total_musd
        if total is not None:
            rows[g] = at_most([(1.0, b.m.fund[k]) for k in keys], [], total)
    add_constraints(b, "total_budget", rows)
