"""The mixed-integer model of docs/formulation.md as one Pyomo ``ConcreteModel``.

``build_model(data)`` returns the model. Each topic module (``investment``, ``balances``,
``capacity``, ``demand``, ``finance``, ``funding``) declares its Sets, Params, Vars and
Expressions (``declare``) and one function per constraint family, named after its rule.
The model also carries what it was built from: ``m.data`` (ModelData), ``m.net`` (the
sparse network) and ``m.ix`` (variable keys grouped by what they touch).

Add a constraint of your own as to any Pyomo model, then solve it with ``optimize.api``
(which also writes the run folder and report)::

    m = api.build("inputs/baseline")
    m.strange_lake_by_2030 = Constraint(
        expr=sum(m.fid[f, y] for f, y in m.fid_years if f == "strange-lake" and y <= 2030) == 1)
    run = api.solve(m, out="results/strange-lake-2030")
"""

from __future__ import annotations

from collections.abc import Callable

from pyomo.common.gc_manager import PauseGC
from pyomo.environ import ConcreteModel

from optimize.data.modeldata import ModelData
from optimize.model import balances, capacity, deals, demand, finance, funding, investment
from optimize.model.balances import (
    magnet_balance,
    magnet_use,
    metal_balance,
    pool_balance,
    separation_balance,
    stream_split,
)
from optimize.model.capacity import (
    magnet_capacity,
    metal_capacity,
    mine_capacity,
    separation_capacity,
    stock_limit,
)
from optimize.model.deals import floor_payment
from optimize.model.demand import demand_met, offer_limit
from optimize.model.finance import objective, operating_support
from optimize.model.funding import annual_budget, funding_balance, total_budget
from optimize.model.index import build_index
from optimize.model.investment import fund_at_most_once, phase_order, project_decisions
from optimize.model.network import build_network
from optimize.model.qualification import qualified_delivery

#: The topics' declarations of Sets, Params, Vars and Expressions, in dependency order.
DECLARATIONS: tuple[Callable[[ConcreteModel], None], ...] = (
    investment.declare,
    balances.declare,
    capacity.declare,
    demand.declare,
    deals.declare,
    finance.declare,
    funding.declare,
)

#: The constraint families, in the order of docs/formulation.md; each adds a Constraint
#: component of its own name. docs/formulation.md is generated from their docstrings.
CONSTRAINT_FAMILIES: tuple[Callable[[ConcreteModel], None], ...] = (
    fund_at_most_once,
    phase_order,
    project_decisions,
    mine_capacity,
    separation_capacity,
    stream_split,
    separation_balance,
    pool_balance,
    metal_balance,
    metal_capacity,
    magnet_balance,
    magnet_capacity,
    magnet_use,
    demand_met,
    offer_limit,
    stock_limit,
    floor_payment,
    operating_support,
    funding_balance,
    annual_budget,
    total_budget,
    qualified_delivery,
)

#: The constraint families whose rows hold a mutable Param (prices, offers, demand,
#: penalties, budgets): what an in-place parameter update recompiles
#: (``optimize.solve.HighsModel.update``). tests/test_update.py checks that it is exactly
#: the families whose rows name a mutable Param.
PARAMETRIC_FAMILIES = ("demand_met", "offer_limit", "stock_limit", "floor_payment",
                       "operating_support", "annual_budget", "total_budget")
#: The Expressions that hold a mutable Param (checked likewise).
PARAMETRIC_EXPRESSIONS = ("concentrate_value", "revenue", "cost", "penalty_musd_per_t",
                          "penalty")

#: The variables, in the column order the solver gets them.
VARIABLES = ("fid", "conc", "stream", "oxide", "metal", "sell_oxide", "sell_metal", "buy", "make",
             "sell_magnet", "deliver", "short", "support", "fund", "floor_paid")


def build_model(data: ModelData) -> ConcreteModel:
    """Return the model for ``data``: every Set, Param, Var, Expression and Constraint.

    Python's cyclic garbage collector is paused while the model is built (as Pyomo's own
    writers do): the build makes many small objects and frees none, and the collector's
    passes over them took half the build time.
    """
    with PauseGC():
        m = ConcreteModel(name="ree-plan")
        m.data = data
        m.net = build_network(data)
        m.ix = build_index(data, m.net)
        for declare in DECLARATIONS:
            declare(m)
        for family in CONSTRAINT_FAMILIES:
            family(m)
        objective(m)
    m.built_components = frozenset(c.local_name for c in m.component_objects())
    return m


def extensions(m: ConcreteModel) -> list[str]:
    """Return the names of the components added to ``m`` after ``build_model``."""
    return [c.local_name for c in m.component_objects()
            if c.local_name not in m.built_components]


__all__ = ["CONSTRAINT_FAMILIES", "DECLARATIONS", "PARAMETRIC_EXPRESSIONS", "PARAMETRIC_FAMILIES",
           "VARIABLES", "build_model", "extensions"]
