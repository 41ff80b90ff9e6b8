"""Money: each facility's revenue and cost at reference prices, operating support, the objective."""

from __future__ import annotations

from typing import Any

from pyomo.environ import (
    ConcreteModel,
    Constraint,
    Expression,
    NonNegativeReals,
    Objective,
    Param,
    Set,
    Var,
    minimize,
)

from optimize.data.modeldata import ModelData
from optimize.model.capacity import metal_out_vars
from optimize.model.parameters import parameter_values

MUSD_PER_T_USD_PER_KG = 0.001  # 1 t x 1 USD/kg = 1,000 USD = 0.001 MUSD

#: A linear expression as its terms, ``[(coefficient, variable or sum of variables), ...]``;
#: a coefficient may be an expression of mutable Params (a price), so that prices change in
#: place.
Terms = list[tuple[Any, Any]]


def declare(m: ConcreteModel) -> None:
    """Declare prices, ``support``, and the money expressions of every facility-year.

    - ``concentrate_value[m,y]``: what a kg TREO of mine m's concentrate is paid (USD),
      ``payability * sum_e share_{m,e} * price[oxide,e,y]``;
    - ``revenue[f,y]``, ``cost[f,y]``: the facility's money at reference prices (MUSD);
    - ``penalty_musd_per_t[p,y]``: the discounted penalty of a t of demand not met;
    - ``subsidy``, ``penalty``: the two parts of the objective (NPV, MUSD).
    """
    data, ix, net = m.data, m.ix, m.net
    values = parameter_values(data, ix)
    m.price_points = Set(initialize=list(data.prices), dimen=3, ordered=True,
                         doc="(commodity, item, year) with a reference price")
    m.price = Param(m.price_points, mutable=True, initialize=values["price"],
                    doc="Chinese reference price (USD/kg)")
    m.offer_usd_per_kg = Param(m.offer_years, mutable=True,
                               initialize=values["offer_usd_per_kg"], doc="offer price (USD/kg)")
    m.programs = Set(initialize=list(data.programs), ordered=True)
    m.penalty_usd_per_kg = Param(m.programs, mutable=True,
                                 initialize=values["penalty_usd_per_kg"],
                                 doc="penalty per kg of clean demand not met (USD/kg)")
    m.support_years = Set(initialize=ix.support, dimen=2, ordered=True,
                          doc="(facility, year) in which operating support may be paid")
    m.support = Var(m.support_years, domain=NonNegativeReals, doc="operating support (MUSD)")

    assays = data.mine_assays
    m.concentrate_value = Expression(
        [(f, y) for f in assays for y in net.op_years[f]],
        rule=lambda m, f, y: data.facilities[f].payability
        * sum(share * m.price["oxide", e, y] for e, share in assays[f]),
        doc="what a kg TREO of the mine's concentrate is paid (USD)")
    money = {k: (revenue_terms(m, *k), cost_terms(m, *k)) for k in m.facility_years}
    m.revenue = Expression(
        m.facility_years, rule=lambda m, f, y: MUSD_PER_T_USD_PER_KG * _sum(money[f, y][0]),
        doc="revenue at reference prices (MUSD): 0.001 x sum of price x quantity sold")
    m.cost = Expression(
        m.facility_years, rule=lambda m, f, y: MUSD_PER_T_USD_PER_KG * _sum(money[f, y][1])
        + (fixed_om(m, f) * m.on[f, y] if fixed_om(m, f) else 0.0),
        doc="cost at reference prices (MUSD): inputs, purchases, variable cost, fixed O&M")
    m.money_years = Set(
        initialize=[k for k, (rev, cost) in money.items() if rev or cost or fixed_om(m, k[0])],
        dimen=2, ordered=True, doc="(facility, year) in which money can flow")
    m.penalty_musd_per_t = Expression(
        m.program_years, rule=lambda m, p, y: data.discount(y) * MUSD_PER_T_USD_PER_KG
        * m.penalty_usd_per_kg[p], doc="discounted penalty of a t not delivered (MUSD)")
    m.subsidy = Expression(expr=_sum(subsidy_terms(m)), doc="subsidy NPV (MUSD)")
    m.penalty = Expression(expr=sum(m.penalty_musd_per_t[k] * m.short[k]
                                    for k in m.program_years), doc="penalty NPV (MUSD)")


def _sum(terms: Terms) -> Any:
    return sum(c * v for c, v in terms)


def _grouped(pairs: list[tuple[Any, Any]]) -> Terms:
    """Return ``[(price, sum of the quantities at that price)]``, one term per price."""
    by_price: dict[int, tuple[Any, list[Any]]] = {}
    for price, quantity in pairs:
        by_price.setdefault(id(price), (price, []))[1].append(quantity)
    return [(price, sum(quantities)) for price, quantities in by_price.values()]


def revenue_terms(m: ConcreteModel, f: str, y: int) -> Terms:
    """Return the facility's sales in ``y`` as ``(price USD/kg, quantity t)`` terms."""
    data, ix, net = m.data, m.ix, m.net
    stage = data.facilities[f].stage
    if stage == "mine":
        sold = [(m.concentrate_value[f, y], m.conc[k]) for k in ix.conc_out.get((f, y), ())]
    elif stage == "separation":
        sold = [(m.price["oxide", e, y], v) for e, o in net.outputs[f]
                for v in [*(m.oxide[k] for k in ix.oxide_out.get((f, e, o, y), ())),
                          *(m.sell_oxide[k] for k in ix.sell_oxide_by.get((f, e, o, y), ()))]]
        sold += stream_value(m, ix.passed_from.get((f, y), ()))
    elif stage == "metal":
        sold = [(m.price["metal", e, y], v) for e, o in net.outputs[f]
                for v in metal_out_vars(m, f, e, o, y)]
    else:
        sold = [(m.price["magnet", data.programs[k[1]].grade, y], m.deliver[k])
                for k in ix.deliver_by_line.get((f, y), ())]
        sold += [(m.price["magnet", k[1], y], m.sell_magnet[k])
                 for k in ix.make_by_line.get((f, y), ())]
    return _grouped(sold)


def cost_terms(m: ConcreteModel, f: str, y: int) -> Terms:
    """Return the facility's costs in ``y`` that scale with quantities, as terms.

    ``(price USD/kg, quantity t)``: inputs at their reference prices, purchases at their
    offer prices, and the variable cost on throughput. Fixed O&M is apart (``cost``).
    """
    data, ix = m.data, m.ix
    fac = data.facilities[f]
    usd: Terms = []
    fed = [m.conc[k] for k in ix.conc_in.get((f, y), ())]
    if fac.variable_usd_per_kg and fac.stage == "separation" and fed:
        usd.append((fac.variable_usd_per_kg, sum(fed)))  # on concentrate, not on streams
    elif fac.variable_usd_per_kg and fac.stage != "separation" and (f, y) in m.throughput:
        usd.append((fac.variable_usd_per_kg, m.throughput[f, y]))
    if fac.stage == "separation":
        usd += [(m.concentrate_value[k[0], y], m.conc[k]) for k in ix.conc_in.get((f, y), ())]
        usd += _grouped(stream_value(m, ix.passed_into.get((f, y), ())))
    elif fac.stage == "metal":
        usd += _grouped([(m.price["oxide", k[2], y], m.oxide[k]) for e in data.elements
                         for o in ("clean", "tainted") for k in ix.oxide_in.get((f, e, o, y), ())])
    elif fac.stage == "magnet":
        usd += _grouped([(m.price["metal", k[2], y], m.metal[k]) for e in data.elements
                         for o in ("clean", "tainted") for k in ix.metal_in.get((f, e, o, y), ())])
    usd += [(m.offer_usd_per_kg[k[0], y], m.buy[k]) for k in ix.buy_in.get((f, y), ())]
    return usd


def stream_value(m: ConcreteModel, keys: Any) -> list[tuple[Any, Any]]:
    """Return streams ``passed[s,r,e,o,y]`` as ``(price, t)`` at what the receiver recovers.

    A stream is paid at the reference value of the oxide ``r`` recovers from it,
    ``price[oxide,e,y] * recovery_{r,e}`` per t passed: the sender earns what it would have
    had it separated the elements itself, the receiver's margin on it is nil.
    """
    rec = m.data.recoveries
    return [(m.price["oxide", k[2], k[4]], rec[(k[1], k[2])] * m.passed[k]) for k in keys]


def fixed_om(m: ConcreteModel, f: str) -> float:
    """Return the fixed O&M of candidate ``f`` while operating (MUSD/yr; 0 for existing)."""
    fac = m.data.facilities[f]
    return fac.fixed_om_musd if fac.candidate else 0.0


def operating_support(m: ConcreteModel) -> None:
    r"""Operating support covers each facility's loss at reference prices; profits are kept.

    Revenue and cost are valued at reference prices: a mine earns payability x contained oxide
    value per t TREO shipped; separation pays that and earns oxide prices (a stream to
    another plant is paid at the oxide value that plant recovers from it); metal plants pay
    oxide prices and earn metal prices; magnet lines pay metal prices and earn the grade's
    magnet price (defense deliveries too: the premium above it is subsidy); purchases cost
    their offer price; plus variable cost on throughput (a separation plant's on its
    concentrate feed only) and, for candidates, fixed O&M while operating. What floors
    in force pay the facility (``floor_payment``, committed subsidy) is income too: new
    support covers only the loss that is left. With funding.csv, a facility no program may
    support in ``y`` has no ``support`` variable and must cover its costs. A facility-year
    where no money can flow (no priced flow, no variable cost, no fixed O&M) has no row.

    .. math::

        support_{f,y} \ge cost_{f,y} - revenue_{f,y} - \sum_{d: f_d = f} floor\_paid_{d,y},
        \qquad support_{f,y} \ge 0
    """
    floors = m.ix.floor_by_facility

    def rule(m: ConcreteModel, f: str, y: int) -> object:
        support = m.support[f, y] if (f, y) in m.support_years else 0.0
        paid = floors.get((f, y))
        if paid:
            return m.cost[f, y] - m.revenue[f, y] - sum(m.floor_paid[k] for k in paid) <= support
        return m.cost[f, y] - m.revenue[f, y] <= support

    m.operating_support = Constraint(m.money_years, rule=rule)


def salvage_coefficient(data: ModelData, f: str, fid_year: int) -> float:
    """Return the salvage (MUSD, undiscounted) of a FID of ``f`` in ``fid_year``.

    ``public_share * capex * paid * after / life`` with ``paid = min(lead, end - fid + 1) / lead``
    and ``after = min(life, max(0, fid + lead + life - 1 - end))``.
    """
    fac, end = data.facilities[f], data.end_year
    paid = min(fac.lead_years, end - fid_year + 1) / fac.lead_years
    after = min(fac.life_years, max(0, fid_year + fac.lead_years + fac.life_years - 1 - end))
    return fac.public_share * fac.capex_musd * paid * after / fac.life_years


def subsidy_terms(m: ConcreteModel) -> Terms:
    """Return the subsidy NPV: discounted capex outlay and support, less discounted salvage."""
    data = m.data
    terms: Terms = [(data.discount(y), m.capex_out[f, y]) for f, y in m.capex_out]
    terms += [(-data.discount(data.end_year) * salvage_coefficient(data, f, t), m.fid[f, t])
              for f, t in m.fid_years]
    terms += [(data.discount(y), m.support[f, y]) for f, y in m.support_years]
    return terms


def objective(m: ConcreteModel) -> None:
    r"""Minimise the subsidy NPV plus the penalty of shortfalls, less salvage.

    ``min_subsidy`` solves this once. ``max_coverage`` first minimises the penalty term alone,
    then, with it held at its optimum (plus a tolerance), minimises the subsidy terms.

    .. math::

        \min \sum_y DF_y \Big(\sum_f capex\_out_{f,y} + \sum_f support_{f,y}
        + 0.001 \sum_p penalty_p\, short_{p,y}\Big) - salvage

        salvage = DF_{end} \sum_{f,\tau} fid_{f,\tau}\, public\_share_f\, capex_f
        \frac{\min(lead_f, end-\tau+1)}{lead_f}
        \frac{\min(life_f, \max(0, \tau + lead_f + life_f - 1 - end))}{life_f}
    """
    m.objective = Objective(expr=m.subsidy + m.penalty + m.tiebreak, sense=minimize)
