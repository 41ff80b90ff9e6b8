"""Burden sharing: which funding program pays what, within eligibility and budgets."""

from __future__ import annotations

from typing import Any

from pyomo.environ import (
    ConcreteModel,
    Constraint,
    Expression,
    NonNegativeReals,
    Param,
    Set,
    Var,
)

from optimize.model.parameters import parameter_values

#: Cost per MUSD paid, per step of a funding program's rank: breaks ties between programs
#: that could equally pay (see funding_priority). Kept out of the reported objective.
TIEBREAK_MUSD_PER_MUSD = 1e-7
#: Cost per MUSD paid under a floor in force (per step of the payer's rank): among plans of
#: equal new subsidy, the one that draws least on the floors. It must be seen by the solver:
#: at 1e-7 per MUSD the reduced costs it makes are below HiGHS's dual feasibility tolerance,
#: and the same chain reported 40 or 693 MUSD of committed payments by the solver's pick.
#: At 1e-4 the plan would give up at most 0.0001 MUSD of new subsidy per MUSD of floor
#: payments saved.
FLOOR_TIEBREAK_MUSD_PER_MUSD = 1e-4


def declare(m: ConcreteModel) -> None:
    """Declare ``fund[g,f,y,c]``, the budgets (mutable, times ``budget_scale``), the tie-break.

    ``budget_scale`` multiplies every annual and total budget (a frontier's sweep variable;
    1 otherwise).
    """
    data = m.data
    values = parameter_values(data, m.ix)
    funding = data.funding or {}
    m.funding_programs = Set(initialize=list(funding), ordered=True)
    m.fundings = Set(initialize=m.ix.fund, dimen=4, ordered=True,
                     doc="(program, facility, year, cover) a program may pay")
    m.fund = Var(m.fundings, domain=NonNegativeReals, doc="paid by program g (MUSD)")
    m.annual_musd = Param(m.funding_programs, mutable=True, initialize=values["annual_musd"],
                          doc="annual budget (MUSD/yr)")
    m.total_musd = Param(list(values["total_musd"]), mutable=True,
                         initialize=values["total_musd"], doc="total budget (MUSD)")
    m.budget_scale = Param(mutable=True, initialize=1.0, doc="multiplies every budget")
    rank = funding_priority(m)
    payer = {d.name: d.program for d in data.deals}
    terms = [TIEBREAK_MUSD_PER_MUSD * (1 + rank[k[0]]) * m.fund[k] for k in m.fundings]
    terms += [FLOOR_TIEBREAK_MUSD_PER_MUSD * (1 + rank.get(payer[k[0]], 0)) * m.floor_paid[k]
              for k in m.floor_years]
    m.tiebreak = Expression(expr=sum(terms),
                            doc="who pays first among equally cheap plans, and the least "
                                "floor payment among them (not reported)")


def funding_priority(m: ConcreteModel) -> dict[str, int]:
    """Return each funding program's rank: who pays first when several could (0 first).

    Programs that cover fewer countries pay first, so that a host country's own program pays
    before a multilateral one; ties go by the order of funding.csv. Without this rule the
    split between eligible programs is an arbitrary pick among equally cheap plans.
    """
    programs = list((m.data.funding or {}).values())
    order = sorted(range(len(programs)), key=lambda i: (len(programs[i].countries), i))
    return {programs[i].name: rank for rank, i in enumerate(order)}


def funding_balance(m: ConcreteModel) -> None:
    r"""Capex outlay and operating support are paid by eligible programs (only with funding.csv).

    A program ``g`` is eligible for ``f`` in ``y`` when ``f``'s country and stage are in its
    lists, ``y`` is within its years, and it covers that kind of cost. A candidate no program
    may fund in its construction years therefore cannot be built.

    .. math::

        capex\_out_{f,y} = \sum_{g \in G^{capex}_{f,y}} fund_{g,f,y,capex}, \qquad
        support_{f,y} = \sum_{g \in G^{operating}_{f,y}} fund_{g,f,y,operating}
    """
    if m.data.funding is None:
        return
    fund_by = m.ix.fund_by
    index = [(f, y, "capex") for f, y in m.capex_out]
    index += [(f, y, "operating") for f, y in m.support_years]

    fac = m.data.facilities

    def rule(m: ConcreteModel, f: str, y: int, c: str) -> object:
        payers = fund_by.get((f, y, c), ())
        if c == "capex" and not payers and not fac[f].public_share * fac[f].capex_musd:
            return Constraint.Skip  # nothing to pay and nobody to pay it: no variable
        paid = sum(m.fund[k] for k in payers)
        return (m.capex_out[f, y] if c == "capex" else m.support[f, y]) == paid

    m.funding_balance = Constraint(index, rule=rule)


def _left(m: ConcreteModel, budget: Any, grants: float) -> Any:
    """Return ``budget_scale x (budget - grants)``: what is left of a budget (scaled)."""
    return m.budget_scale * (budget - grants) if grants else m.budget_scale * budget


def annual_budget(m: ConcreteModel) -> None:
    r"""A funding program pays at most its annual budget in each year, deals in force included.

    New money and what floors in force cost it (``floor_paid``) count against the budget
    left after its grants in force (deals.csv, kind ``grant``: fixed sums, which validation
    keeps within the budget). A frontier's ``budget_scale`` scales what is left.

    .. math::

        \sum_{f,c} fund_{g,f,y,c} + \sum_{d: g_d = g} floor\_paid_{d,y}
        \le scale \,(annual\_musd_g - grants_{g,y})
    """
    data = m.data
    if data.funding is None:
        return
    by_year, floors = m.ix.fund_by_program_year, m.ix.floor_by_program_year
    index = list(by_year) + [k for k in floors if k not in by_year and k[0] in data.funding]

    def rule(m: ConcreteModel, g: str, y: int) -> object:
        paid = [m.fund[k] for k in by_year.get((g, y), ())]
        paid += [m.floor_paid[k] for k in floors.get((g, y), ())]
        return sum(paid) <= _left(m, m.annual_musd[g], data.grants_musd(g, year=y))

    m.annual_budget = Constraint(index, rule=rule)


def total_budget(m: ConcreteModel) -> None:
    r"""A funding program pays at most its total budget over the horizon (where one is set).

    Deals in force count as in ``annual_budget``.

    .. math::

        \sum_{f,y,c} fund_{g,f,y,c} + \sum_{d: g_d = g, y} floor\_paid_{d,y}
        \le scale \,(total\_musd_g - \sum_y grants_{g,y})
    """
    data = m.data
    if data.funding is None:
        return
    by_program, floors = m.ix.fund_by_program, m.ix.floor_by_program
    index = [g for g in [*by_program, *(g for g in floors if g not in by_program)]
             if g in m.total_musd]

    def rule(m: ConcreteModel, g: str) -> object:
        paid = [m.fund[k] for k in by_program.get(g, ())]
        paid += [m.floor_paid[k] for k in floors.get(g, ())]
        return sum(paid) <= _left(m, m.total_musd[g], data.grants_musd(g))

    m.total_budget = Constraint(index, rule=rule)
