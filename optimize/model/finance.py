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
from optimize.model.capacity import metal_out_vars, throughput_vars
from optimize.model.parameters import parameter_values

MUSD_PER_T_USD_PER_KG = 0.001  # 1 t x 1 USD/kg = 1,000 USD = 0.001 MUSD

#: A linear expression as its terms, ``[(coefficient, variable), ...]``; a coefficient may
#: be an expression of mutable Params (a price), so that prices change in place.
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
    m.revenue = Expression(m.facility_years, rule=lambda m, f, y: _sum(money[f, y][0]),
                           doc="revenue at reference prices (MUSD)")
    m.cost = Expression(m.facility_years, rule=lambda m, f, y: _sum(money[f, y][1]),
                        doc="cost at reference prices (MUSD)")
    m.money_years = Set(initialize=[k for k, (rev, cost) in money.items() if rev or cost],
                        dimen=2, ordered=True, doc="(facility, year) in which money can flow")
    m.penalty_musd_per_t = Expression(
        m.program_years, rule=lambda m, p, y: data.discount(y) * MUSD_PER_T_USD_PER_KG
        * m.penalty_usd_per_kg[p], doc="discounted penalty of a t not delivered (MUSD)")
    m.subsidy = Expression(expr=_sum(subsidy_terms(m)), doc="subsidy NPV (MUSD)")
    m.penalty = Expression(expr=sum(m.penalty_musd_per_t[k] * m.short[k]
                                    for k in m.program_years), doc="penalty NPV (MUSD)")


def _sum(terms: Terms) -> Any:
    return sum(c * v for c, v in terms)


def revenue_terms(m: ConcreteModel, f: str, y: int) -> Terms:
    """Return the facility's revenue in ``y`` at reference prices, in MUSD, as terms."""
    data, ix, net = m.data, m.ix, m.net
    stage = data.facilities[f].stage
    usd: Terms
    if stage == "mine":
        usd = [(m.concentrate_value[f, y], m.conc[k]) for k in ix.conc_out.get((f, y), ())]
    elif stage == "separation":
        usd = [(m.price["oxide", e, y], v) for e, o in net.outputs[f]
               for v in [*(m.oxide[k] for k in ix.oxide_out.get((f, e, o, y), ())),
                         *(m.sell_oxide[k] for k in ix.sell_oxide_by.get((f, e, o, y), ()))]]
    elif stage == "metal":
        usd = [(m.price["metal", e, y], v) for e, o in net.outputs[f]
               for v in metal_out_vars(m, f, e, o, y)]
    else:
        usd = [(m.price["magnet", data.programs[k[1]].grade, y], m.deliver[k])
               for k in ix.deliver_by_line.get((f, y), ())]
        usd += [(m.price["magnet", k[1], y], m.sell_magnet[k])
                for k in ix.make_by_line.get((f, y), ())]
    return [(MUSD_PER_T_USD_PER_KG * c, v) for c, v in usd]


def cost_terms(m: ConcreteModel, f: str, y: int) -> Terms:
    """Return the facility's cost in ``y`` in MUSD, as terms.

    Inputs, purchases, variable cost on throughput and, for a candidate, fixed O&M while
    operating.
    """
    data, ix = m.data, m.ix
    fac = data.facilities[f]
    usd: Terms = []
    if fac.variable_usd_per_kg:
        usd += [(fac.variable_usd_per_kg, v) for v in throughput_vars(m, f, y)]
    if fac.stage == "separation":
        usd += [(m.concentrate_value[k[0], y], m.conc[k]) for k in ix.conc_in.get((f, y), ())]
    elif fac.stage == "metal":
        usd += [(m.price["oxide", k[2], y], m.oxide[k]) for e in data.elements
                for o in ("clean", "tainted") for k in ix.oxide_in.get((f, e, o, y), ())]
    elif fac.stage == "magnet":
        usd += [(m.price["metal", k[2], y], m.metal[k]) for e in data.elements
                for o in ("clean", "tainted") for k in ix.metal_in.get((f, e, o, y), ())]
    usd += [(m.offer_usd_per_kg[k[0], y], m.buy[k]) for k in ix.buy_in.get((f, y), ())]
    terms = [(MUSD_PER_T_USD_PER_KG * c, v) for c, v in usd]
    if fac.candidate and fac.fixed_om_musd:
        terms.append((fac.fixed_om_musd, m.on[f, y]))
    return terms


def operating_support(m: ConcreteModel) -> None:
    r"""Operating support covers each facility's loss at reference prices; profits are kept.

    Revenue and cost are valued at reference prices: a mine earns payability x contained oxide
    value per t TREO shipped; separation pays that and earns oxide prices; metal plants pay
    oxide prices and earn metal prices; magnet lines pay metal prices and earn the grade's
    magnet price (defense deliveries too: the premium above it is subsidy); purchases cost
    their offer price; plus variable cost on throughput and, for candidates, fixed O&M while
    operating. With funding.csv, a facility no program may support in ``y`` has no ``support``
    variable and must cover its costs. A facility-year where no money can flow (no priced
    flow, no variable cost, no fixed O&M) has no row.

    .. math::

        support_{f,y} \ge cost_{f,y} - revenue_{f,y}, \qquad support_{f,y} \ge 0
    """
    def rule(m: ConcreteModel, f: str, y: int) -> object:
        support = m.support[f, y] if (f, y) in m.support_years else 0.0
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
