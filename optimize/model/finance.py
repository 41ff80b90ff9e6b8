"""Money: each facility's revenue and cost at reference prices, operating support, the objective."""

from __future__ import annotations

from optimize.data.modeldata import ModelData
from optimize.model.capacity import metal_out_vars, used_terms
from optimize.model.context import Build, Terms, add_constraints, linear
from optimize.model.investment import capex_terms, operating_terms
from optimize.model.variables import NO_COLUMNS

MUSD_PER_T_USD_PER_KG = 0.001  # 1 t x 1 USD/kg = 1,000 USD = 0.001 MUSD


def concentrate_value(b: Build, mine: str, y: int) -> float:
    """Return what a t of the mine's concentrate (t TREO) is paid, in USD/kg TREO."""
    return b.data.concentrate_usd_per_kg.get((mine, y), 0.0)


def _bought(b: Build, f: str, y: int) -> Terms:
    return [(b.data.offers[(k[0], y)].usd_per_kg, b.m.buy[k]) for k in b.ix.buy_in.get((f, y), ())]


def revenue_terms(b: Build, f: str, y: int) -> Terms:
    """Return the facility's revenue in ``y`` at reference prices, in MUSD."""
    m, ix, data = b.m, b.ix, b.data
    stage = data.facilities[f].stage
    usd: Terms
    if stage == "mine":
        v = concentrate_value(b, f, y)
        usd = [(v, j) for j in ix.conc_out_columns.get((f, y), NO_COLUMNS).tolist()]
    elif stage == "separation":
        usd = [(data.prices[("oxide", e, y)], var) for e, o in b.net.outputs[f]
               for var in [*(m.oxide[k] for k in ix.oxide_out.get((f, e, o, y), ())),
                           *(m.sell_oxide[k] for k in ix.sell_oxide_by.get((f, e, o, y), ()))]]
    elif stage == "metal":
        usd = [(data.prices[("metal", e, y)], var) for e, o in b.net.outputs[f]
               for var in metal_out_vars(b, f, e, o, y)]
    else:
        usd = [(data.prices[("magnet", data.programs[k[1]].grade, y)], m.deliver[k])
               for k in ix.deliver_by_line.get((f, y), ())]
        usd += [(data.prices[("magnet", k[1], y)], m.sell_magnet[k])
                for k in ix.make_by_line.get((f, y), ())]
    return [(MUSD_PER_T_USD_PER_KG * c, v) for c, v in usd]


def cost_terms(b: Build, f: str, y: int) -> Terms:
    """Return the facility's cost in ``y`` in MUSD: inputs, purchases, variable and fixed costs."""
    m, ix, data = b.m, b.ix, b.data
    fac = data.facilities[f]
    usd: Terms = [(fac.variable_usd_per_kg, v) for _, v in used_terms(b, f, y)]
    if fac.stage == "separation":
        usd += [(concentrate_value(b, k[0], y), j) for k, j in
                zip(ix.conc_in.get((f, y), ()), ix.conc_in_columns.get((f, y), NO_COLUMNS).tolist(),
                    strict=True)]
    elif fac.stage == "metal":
        usd += [(data.prices[("oxide", k[2], y)], m.oxide[k]) for e in data.elements
                for o in ("clean", "tainted") for k in ix.oxide_in.get((f, e, o, y), ())]
    elif fac.stage == "magnet":
        usd += [(data.prices[("metal", k[2], y)], m.metal[k]) for e in data.elements
                for o in ("clean", "tainted") for k in ix.metal_in.get((f, e, o, y), ())]
    usd += _bought(b, f, y)
    terms = [(MUSD_PER_T_USD_PER_KG * c, v) for c, v in usd]
    return terms + [(fac.fixed_om_musd, v) for _, v in operating_terms(b, f, y)]


def operating_support(b: Build) -> None:
    r"""Operating support covers each facility's loss at reference prices; profits are kept.

    Revenue and cost are valued at reference prices: a mine earns payability x contained oxide
    value per t TREO shipped; separation pays that and earns oxide prices; metal plants pay
    oxide prices and earn metal prices; magnet lines pay metal prices and earn the grade's
    magnet price (defense deliveries too: the premium above it is subsidy); purchases cost
    their offer price; plus variable cost on throughput and, for candidates, fixed O&M while
    operating. With funding.csv, a facility no program may support in ``y`` has no ``support``
    variable and must cover its costs.

    .. math::

        support_{f,y} \ge cost_{f,y} - revenue_{f,y}, \qquad support_{f,y} \ge 0
    """
    rows = {}
    for f in b.data.facilities:
        for y in b.net.op_years[f]:
            terms = support_terms(b, f, y)
            if terms is not None:
                rows[(f, y)] = linear(terms) <= 0
    add_constraints(b, "operating_support", rows)


def support_terms(b: Build, f: str, y: int) -> Terms | None:
    """Return ``cost - revenue - support`` of ``f`` in ``y``, or None when no money flows."""
    net = cost_terms(b, f, y) + [(-c, v) for c, v in revenue_terms(b, f, y)]
    if not any(c for c, _ in net):
        return None
    if (f, y) in b.m.support_index:
        net.append((-1.0, b.m.support[f, y]))
    return net


def salvage_coefficient(b: Build, f: str, fid_year: int) -> float:
    """Return the salvage (MUSD, undiscounted) of a FID of ``f`` in ``fid_year``.

    ``public_share * capex * paid * after / life`` with ``paid = min(lead, end - fid + 1) / lead``
    and ``after = min(life, max(0, fid + lead + life - 1 - end))``.
    """
    fac, end = b.data.facilities[f], b.data.end_year
    paid = min(fac.lead_years, end - fid_year + 1) / fac.lead_years
    after = min(fac.life_years, max(0, fid_year + fac.lead_years + fac.life_years - 1 - end))
    return fac.public_share * fac.capex_musd * paid * after / fac.life_years


def subsidy_terms(b: Build) -> Terms:
    """Return the subsidy NPV: discounted capex outlay and support, less discounted salvage."""
    m, data = b.m, b.data
    terms: Terms = []
    for f, keys in b.ix.fid_by_facility.items():
        for y in data.years:
            terms += [(data.discount(y) * c, v) for c, v in capex_terms(b, f, y)]
        terms += [(-data.discount(data.end_year) * salvage_coefficient(b, f, t), m.fid[f, t])
                  for _, t in keys]
    terms += [(data.discount(y), m.support[f, y]) for f, y in m.support_index]
    return terms


def penalty_musd_per_t(data: ModelData, program: str, year: int) -> float:
    """Return the discounted penalty of a t of the program's demand not delivered, in MUSD."""
    return data.discount(year) * MUSD_PER_T_USD_PER_KG * data.programs[program].penalty_usd_per_kg


def penalty_terms(b: Build) -> Terms:
    """Return the penalty NPV of shortfalls, in MUSD."""
    return [(penalty_musd_per_t(b.data, p, y), b.m.short[p, y]) for p, y in b.m.short_index]


def objective(b: Build) -> None:
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
    b.m.minimize(subsidy=linear(subsidy_terms(b)), penalty=linear(penalty_terms(b)))
