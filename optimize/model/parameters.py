"""Parameters: the input values a built model takes in place, so a scenario needs no rebuild.

Each is a mutable Pyomo ``Param``; a scenario that differs from a built model's data only
in these values has the same variables, rows and sparsity, and ``set_parameters`` moves the
model to it (the solver then gets the recompiled model: see ``optimize.solve``).

| input | Param | where it enters the model |
|---|---|---|
| prices.csv ``usd_per_kg`` | ``price[c,i,y]`` | ``revenue``, ``cost`` (``operating_support``) |
| offers.csv ``usd_per_kg`` | ``offer_usd_per_kg[b,y]`` | ``cost`` (``operating_support``) |
| offers.csv ``max_t`` | ``offer_max_t[b,y]`` | ``offer_limit`` |
| demand.csv ``units``, programs.csv ``kg_per_unit`` | ``demand_t[p,y]`` | ``demand_met`` |
| programs.csv ``penalty_usd_per_kg`` | ``penalty_usd_per_kg[p]`` | objective (``penalty``) |
| funding.csv ``annual_musd`` | ``annual_musd[g]`` | ``annual_budget`` |
| funding.csv ``total_musd`` | ``total_musd[g]`` | ``total_budget`` |
| facilities.csv, offers.csv ``total_t`` | ``stock_t[kind,name]`` | ``stock_limit`` |
| prices.csv with deals.csv floors | ``floor_top_up[d,y]`` | ``floor_payment`` |

What stays structural: a demand that becomes zero or positive (a year gains or loses its
``short`` variable) and a total budget or a finite stock that appears or goes. ``structure``
keeps those distinctions, so two inputs with equal structures build the same model up to
these numbers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pyomo.environ import ConcreteModel

from optimize.data.modeldata import ModelData, frozen
from optimize.model.index import Index


class StructureChanged(Exception):
    """The new data would build a model of another shape: rebuild instead of updating."""


def structure(data: ModelData) -> ModelData:
    """Return ``data`` with every parameter replaced by a placeholder that keeps its shape."""
    programs = {p: replace(prog, penalty_usd_per_kg=0.0,
                           kg_per_unit=float(prog.kg_per_unit > 0))
                for p, prog in data.programs.items()}
    funding = None if data.funding is None else frozen({
        g: replace(prog, annual_musd=0.0,
                   total_musd=None if prog.total_musd is None else 0.0)
        for g, prog in data.funding.items()})
    return replace(
        data,
        programs=frozen(programs),
        demand_units=frozen({k: float(v > 0) for k, v in data.demand_units.items()}),
        prices=frozen(dict.fromkeys(data.prices, 0.0)),
        offers=frozen({k: replace(o, max_t=0.0, usd_per_kg=0.0,
                                  total_t=None if o.total_t is None else 0.0)
                       for k, o in data.offers.items()}),
        facilities=frozen({f: replace(fac, total_t=None if fac.total_t is None else 0.0)
                           for f, fac in data.facilities.items()}),
        funding=funding,
    )


def same_structure(a: ModelData, b: ModelData) -> bool:
    """Return whether ``a`` and ``b`` build the same model up to parameter values."""
    return a is b or structure(a) == structure(b)


def parameter_values(data: ModelData, ix: Index) -> dict[str, dict[Any, float]]:
    """Return every mutable Param's values for ``data``, by Param name."""
    funding = data.funding or {}
    return {
        "price": dict(data.prices),
        "offer_usd_per_kg": {k: o.usd_per_kg for k, o in data.offers.items()},
        "offer_max_t": {k: o.max_t for k, o in data.offers.items()},
        "demand_t": {(p, y): data.demand_t(p, y) for p, y in ix.short},
        "penalty_usd_per_kg": {p: prog.penalty_usd_per_kg for p, prog in data.programs.items()},
        "annual_musd": {g: prog.annual_musd for g, prog in funding.items()},
        "total_musd": {g: prog.total_musd for g, prog in funding.items()
                       if prog.total_musd is not None},
        "stock_t": dict(data.stocks),
        "floor_top_up": floor_top_up(data, ix),
    }


def floor_top_up(data: ModelData, ix: Index) -> dict[Any, float]:
    """Return ``max(0, floor - price)`` (USD/kg) of every floor deal and year in force."""
    deals = {d.name: d for d in data.deals}
    out = {}
    for d, y in ix.floor:
        deal = deals[d]
        assert deal.commodity is not None and deal.item is not None
        out[(d, y)] = max(0.0, deal.usd_per_kg - data.prices[(deal.commodity, deal.item, y)])
    return out


def set_parameters(m: ConcreteModel, data: ModelData) -> None:
    """Give the built model ``m`` the parameter values of ``data`` (same structure).

    Raises StructureChanged, and changes nothing, when ``data`` would build another model.
    Afterwards ``m.data`` is ``data``.
    """
    if not same_structure(data, m.data):
        raise StructureChanged("the data differ from the built model in more than parameters")
    for name, values in parameter_values(data, m.ix).items():
        param = m.component(name)
        if param is not None:
            param.store_values(values, check=False)
    m.data = data
