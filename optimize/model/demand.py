"""Program demand for clean magnets, and limits on purchases from offers."""

from __future__ import annotations

from optimize.model.context import Build, add_constraints, at_most, linear


def demand_met(b: Build) -> None:
    r"""Clean magnets delivered plus shortfall equal demand once a program must be China-free.

    .. math::

        \sum_l deliver_{l,p,y} + short_{p,y} = units_{p,y}\, kg\_per\_unit_p / 1000
        \qquad \forall y \ge required\_from_p
    """
    m, data = b.m, b.data
    rows = {}
    for p, y in m.short_index:
        terms = [(1.0, m.deliver[k]) for k in b.ix.deliver_by_program.get((p, y), ())]
        rows[(p, y)] = linear([*terms, (1.0, m.short[p, y])]) == data.demand_t(p, y)
    add_constraints(b, "demand_met", rows)


def offer_limit(b: Build) -> None:
    r"""Purchases from an offer in a year are at most what it offers.

    .. math::

        \sum_f buy_{b,f,y} \le max\_t_{b,y}
    """
    rows = {
        key: at_most([(1.0, b.m.buy[k]) for k in keys], [], b.data.offers[key].max_t)
        for key, keys in b.ix.buy_by_offer.items()
    }
    add_constraints(b, "offer_limit", rows)
