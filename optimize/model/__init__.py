"""The mixed-integer model of docs/formulation.md as one Pyomo ``ConcreteModel``.

``build_model(data)`` returns the model. Each topic module (``investment``, ``balances``,
``capacity``, ``demand``, ``finance``, ``funding``) declares its Sets, Params, Vars and
Expressions (``declare``) and one function per constraint family, named after its rule.
The model also carries what it was built from: ``m.data`` (ModelData), ``m.net`` (the
sparse network) and ``m.ix`` (variable keys grouped by what they touch).

Add a constraint of your own as to any Pyomo model, then solve it with ``optimize.api``::

    m = build_model(data)
    m.strange_lake_by_2030 = Constraint(expr=sum(m.fid["strange-lake", y]
                                                 for y in range(2026, 2031)) == 1)
"""

from __future__ import annotations

from collections.abc import Callable

from pyomo.environ import ConcreteModel

from optimize.data.modeldata import ModelData
from optimize.model import balances, capacity, demand, finance, funding, investment
from optimize.model.balances import (
    magnet_balance,
    magnet_use,
    metal_balance,
    pool_balance,
    separation_balance,
)
from optimize.model.capacity import (
    magnet_capacity,
    metal_capacity,
    mine_capacity,
    separation_capacity,
)
from optimize.model.demand import demand_met, offer_limit
from optimize.model.finance import objective, operating_support
from optimize.model.funding import annual_budget, funding_balance, total_budget
from optimize.model.index import build_index
from optimize.model.investment import fund_at_most_once, phase_order, project_decisions
from optimize.model.network import build_network

#: The topics' declarations of Sets, Params, Vars and Expressions, in dependency order.
DECLARATIONS: tuple[Callable[[ConcreteModel], None], ...] = (
    investment.declare,
    balances.declare,
    capacity.declare,
    demand.declare,
    finance.declare,
    funding.declare,
)

#: The constraint families of MODEL.md section 6, in its order; each adds a Constraint
#: component of its own name. docs/formulation.md is generated from their docstrings.
CONSTRAINT_FAMILIES: tuple[Callable[[ConcreteModel], None], ...] = (
    fund_at_most_once,
    phase_order,
    project_decisions,
    mine_capacity,
    separation_capacity,
    separation_balance,
    pool_balance,
    metal_balance,
    metal_capacity,
    magnet_balance,
    magnet_capacity,
    magnet_use,
    demand_met,
    offer_limit,
    operating_support,
    funding_balance,
    annual_budget,
    total_budget,
)

#: The variables, in the column order the solver gets them.
VARIABLES = ("fid", "conc", "oxide", "metal", "sell_oxide", "sell_metal", "buy", "make",
             "sell_magnet", "deliver", "short", "support", "fund")


def build_model(data: ModelData) -> ConcreteModel:
    """Return the model for ``data``: every Set, Param, Var, Expression and Constraint."""
    m = ConcreteModel(name="ree-plan")
    m.data = data
    m.net = build_network(data)
    m.ix = build_index(data, m.net)
    for declare in DECLARATIONS:
        declare(m)
    for family in CONSTRAINT_FAMILIES:
        family(m)
    objective(m)
    return m


__all__ = ["CONSTRAINT_FAMILIES", "DECLARATIONS", "VARIABLES", "build_model"]
