"""Build the mixed-integer model of MODEL.md from ModelData: one function per constraint family."""

from __future__ import annotations

from collections.abc import Callable

from optimize.data.modeldata import ModelData
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
from optimize.model.context import Build
from optimize.model.demand import demand_met, offer_limit
from optimize.model.finance import objective, operating_support
from optimize.model.funding import annual_budget, funding_balance, total_budget
from optimize.model.investment import fund_at_most_once, phase_order
from optimize.model.lp import LinearModel
from optimize.model.network import build_network
from optimize.model.variables import declare_variables

#: The constraint families of MODEL.md section 6, in its order; each adds a row family
#: component of its own name. docs/formulation.md is generated from their docstrings.
CONSTRAINT_FAMILIES: tuple[Callable[[Build], None], ...] = (
    fund_at_most_once,
    phase_order,
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


def build_model(data: ModelData) -> Build:
    """Return the built model (``.m``, a LinearModel) with its data and index sets."""
    net = build_network(data)
    m = LinearModel()
    ix = declare_variables(m, data, net)
    b = Build(m, data, net, ix)
    for family in CONSTRAINT_FAMILIES:
        family(b)
    objective(b)
    return b


__all__ = ["CONSTRAINT_FAMILIES", "Build", "build_model"]
