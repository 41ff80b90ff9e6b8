"""Deals in force: price floors and grants already committed, paid apart from new subsidy."""

from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, NonNegativeReals, Param, Set, Var

from optimize.model.capacity import metal_out_vars
from optimize.model.parameters import parameter_values

MUSD_PER_T_USD_PER_KG = 0.001


def declare(m: ConcreteModel) -> None:
    """Declare ``floor_paid[d,y]`` (MUSD) and the floors' top-ups (mutable).

    ``floor_top_up[d,y] = max(0, floor_d - price[c_d, i_d, y])`` (USD/kg): what a floor pays
    on a kg sold. It follows the prices, so a price scenario updates it in place.
    """
    values = parameter_values(m.data, m.ix)["floor_top_up"]
    m.floor_years = Set(initialize=m.ix.floor, dimen=2, ordered=True,
                        doc="(floor deal, year) in which it is in force and its facility sells")
    m.floor_top_up = Param(m.floor_years, mutable=True, initialize=values,
                           doc="floor less reference price, if positive (USD/kg)")
    m.floor_paid = Var(m.floor_years, domain=NonNegativeReals,
                       doc="paid under a floor deal in force (MUSD; committed subsidy)")


def sold_vars(m: ConcreteModel, f: str, item: str, y: int) -> list:
    """Return the variables of ``f``'s sales of ``item`` in ``y``, every provenance.

    Oxide from a separation plant (to metal plants, the pool or the market), metal from a
    metal plant, magnets of grade ``item`` from a line (to programs or the market).
    """
    ix, stage = m.ix, m.data.facilities[f].stage
    if stage == "separation":
        return [v for o in ("clean", "tainted")
                for v in [*(m.oxide[k] for k in ix.oxide_out.get((f, item, o, y), ())),
                          *(m.sell_oxide[k] for k in ix.sell_oxide_by.get((f, item, o, y), ()))]]
    if stage == "metal":
        return [v for o in ("clean", "tainted") for v in metal_out_vars(m, f, item, o, y)]
    programs = m.data.programs
    out = [m.deliver[k] for k in ix.deliver_by_line.get((f, y), ())
           if programs[k[1]].grade == item]
    return out + [m.sell_magnet[k] for k in ix.make_by_line.get((f, y), ()) if k[1] == item]


def floor_payment(m: ConcreteModel) -> None:
    r"""A price floor in force pays its facility the gap to the floor on what it sells.

    Deal ``d`` (deals.csv, kind ``floor``) guarantees facility ``f_d`` the price ``floor_d``
    on ``share_d`` of its sales of ``c_d`` ``i_d`` in its years; the paying program ``g_d``
    tops up the reference price. The payment is committed subsidy: it is part of the
    facility's income in ``operating_support`` and counts against ``g_d``'s budgets, but it
    is not in the subsidy the objective minimises (the plan did not decide it). A tie-break
    of 1e-4 per MUSD (``FLOOR_TIEBREAK_MUSD_PER_MUSD``) keeps it the least of equally cheap
    plans.

    .. math::

        floor\_paid_{d,y} = 0.001\, share_d \max(0, floor_d - price_{c_d,i_d,y})
        \sum sold_{f_d,c_d,i_d,y}
    """
    deals = {d.name: d for d in m.data.deals}

    def rule(m: ConcreteModel, d: str, y: int) -> object:
        deal = deals[d]
        assert deal.item is not None
        sold = sold_vars(m, deal.facility, deal.item, y)
        return m.floor_paid[d, y] == MUSD_PER_T_USD_PER_KG * deal.share \
            * m.floor_top_up[d, y] * sum(sold)

    m.floor_payment = Constraint(m.floor_years, rule=rule)
