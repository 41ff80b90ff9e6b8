"""Capacity limits of each stage: what a facility can produce (or take in) each year."""

from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, Expression, Param, Set

from optimize.model.parameters import parameter_values


def throughput_vars(m: ConcreteModel, f: str, y: int) -> list:
    """Return the variables whose sum is the throughput of ``f`` in ``y`` (t/yr).

    A mine's concentrate shipped, a separation plant's concentrate and streams (t oxide of
    the elements passed) taken in, a metal plant's
    metal put out (to lines and market), a magnet line's magnets made.
    """
    ix = m.ix
    stage = m.data.facilities[f].stage
    if stage == "mine":
        return [m.conc[k] for k in ix.conc_out.get((f, y), ())]
    if stage == "separation":
        return [*(m.conc[k] for k in ix.conc_in.get((f, y), ())),
                *(m.passed[k] for k in ix.passed_into.get((f, y), ()))]
    if stage == "metal":
        return [v for e, o in m.net.outputs[f] for v in metal_out_vars(m, f, e, o, y)]
    return [m.make[k] for k in ix.make_by_line.get((f, y), ())]


def metal_out_vars(m: ConcreteModel, t: str, e: str, o: str, y: int) -> list:
    """Return the metal variables leaving plant ``t``: to magnet lines and to the market."""
    out = [m.metal[k] for k in m.ix.metal_out.get((t, e, o, y), ())]
    return out + [m.sell_metal[k] for k in m.ix.sell_metal_by.get((t, e, o, y), ())]


def declare(m: ConcreteModel) -> None:
    """Declare ``throughput[f,y]`` (t/yr) for every facility-year with a flow variable.

    And the finite stocks ``stock_t[kind, name]`` (t over the horizon; mutable): a mine's
    ``total_t`` (kind ``mine``) and an offer's (kind ``offer``).
    """
    used = {(f, y): throughput_vars(m, f, y) for f, y in m.facility_years}
    m.throughput = Expression([k for k, v in used.items() if v],
                              rule=lambda m, f, y: sum(used[f, y]),
                              doc="throughput in the capacity unit (t/yr)")
    values = parameter_values(m.data, m.ix)["stock_t"]
    m.stocks = Set(initialize=list(values), dimen=2, ordered=True,
                   doc="(mine or offer, name) with a finite total over the horizon")
    m.stock_t = Param(m.stocks, mutable=True, initialize=values,
                      doc="total over the horizon (t): mine t TREO shipped, offer t bought")


def _stage_limit(m: ConcreteModel, name: str, stage: str) -> None:
    stages = m.data.facilities
    m.add_component(name, Constraint(
        [(f, y) for f, y in m.throughput if stages[f].stage == stage],
        rule=lambda m, f, y: m.throughput[f, y] <= m.cap[f, y]))


def mine_capacity(m: ConcreteModel) -> None:
    r"""A mine ships at most its available capacity of concentrate (t TREO).

    .. math::

        \sum_s conc_{m,s,y} \le cap_{m,y}
    """
    _stage_limit(m, "mine_capacity", "mine")


def separation_capacity(m: ConcreteModel) -> None:
    r"""A separation plant takes in at most its feed capacity of concentrate (t TREO).

    Streams from other plants (``stream_split``) count by the oxide of the elements passed.

    .. math::

        \sum_m conc_{m,s,y} + \sum_{q,e,o} passed_{q,s,e,o,y} \le cap_{s,y}
    """
    _stage_limit(m, "separation_capacity", "separation")


def metal_capacity(m: ConcreteModel) -> None:
    r"""A metal plant puts out at most its capacity of metal, all elements and provenances.

    .. math::

        \sum_{e,o} \Big(\sum_l metal_{t,l,e,o,y} + sell^{metal}_{t,e,o,y}\Big) \le cap_{t,y}
    """
    _stage_limit(m, "metal_capacity", "metal")


def magnet_capacity(m: ConcreteModel) -> None:
    r"""A magnet line makes at most its capacity, only of the grades it can make.

    .. math::

        \sum_{k \in grades_l, o} make_{l,k,o,y} \le cap_{l,y}
    """
    _stage_limit(m, "magnet_capacity", "magnet")


def stock_vars(m: ConcreteModel, kind: str, name: str) -> list:
    """Return the variables whose sum over the horizon draws on a finite stock.

    A mine's concentrate shipped in every year, or the purchases from an offer in every year.
    """
    ix = m.ix
    if kind == "mine":
        return [m.conc[k] for y in m.data.years for k in ix.conc_out.get((name, y), ())]
    return [m.buy[k] for y in m.data.years for k in ix.buy_by_offer.get((name, y), ())]


def stock_limit(m: ConcreteModel) -> None:
    r"""A finite stock (a reserve, a stockpile) gives at most its total over the horizon.

    A mine with ``total_t`` ships at most that much concentrate (t TREO) in all years
    together, besides its yearly capacity; an offer with ``total_t`` sells at most that much
    in all years together, besides each year's ``max_t``. Without ``total_t`` there is no row.

    .. math::

        \sum_{s,y} conc_{m,s,y} \le total_m, \qquad \sum_{f,y} buy_{b,f,y} \le total_b
    """
    drawn = {k: stock_vars(m, *k) for k in m.stocks}
    m.stock_limit = Constraint([k for k, v in drawn.items() if v],
                               rule=lambda m, kind, name: sum(drawn[kind, name])
                               <= m.stock_t[kind, name])
