"""Program demand for clean magnets, and limits on purchases from offers."""

from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, NonNegativeReals, Param, Set, Var

from optimize.model.parameters import parameter_values


def declare(m: ConcreteModel) -> None:
    """Declare deliveries, shortfalls, and the demand and offer parameters."""
    ix = m.ix
    values = parameter_values(m.data, ix)
    m.deliveries = Set(initialize=ix.deliver, dimen=3, ordered=True)
    m.deliver = Var(m.deliveries, domain=NonNegativeReals,
                    doc="clean magnets (t) from line l to program p in year y")
    m.program_years = Set(initialize=ix.short, dimen=2, ordered=True,
                          doc="(program, year) with clean demand")
    m.short = Var(m.program_years, domain=NonNegativeReals, doc="demand not met (t)")
    m.demand_t = Param(m.program_years, mutable=True, initialize=values["demand_t"],
                       doc="clean magnets the program needs (t): units x kg_per_unit / 1000")
    m.offer_years = Set(initialize=list(m.data.offers), dimen=2, ordered=True,
                        doc="(offer, year) in which something is offered")
    m.offer_max_t = Param(m.offer_years, mutable=True,
                          initialize=values["offer_max_t"], doc="t offered")


def demand_met(m: ConcreteModel) -> None:
    r"""Clean magnets delivered plus shortfall equal demand once a program must be China-free.

    .. math::

        \sum_l deliver_{l,p,y} + short_{p,y} = units_{p,y}\, kg\_per\_unit_p / 1000
        \qquad \forall y \ge required\_from_p
    """
    by_program = m.ix.deliver_by_program

    def rule(m: ConcreteModel, p: str, y: int) -> object:
        delivered = sum(m.deliver[k] for k in by_program.get((p, y), ()))
        return delivered + m.short[p, y] == m.demand_t[p, y]

    m.demand_met = Constraint(m.program_years, rule=rule)


def offer_limit(m: ConcreteModel) -> None:
    r"""Purchases from an offer in a year are at most what it offers.

    .. math::

        \sum_f buy_{b,f,y} \le max\_t_{b,y}
    """
    by_offer = m.ix.buy_by_offer
    m.offer_limit = Constraint(
        list(by_offer), rule=lambda m, b, y: sum(m.buy[k] for k in by_offer[b, y])
        <= m.offer_max_t[b, y])
