"""Parameters: the input values a built model can take in place, so a scenario needs no rebuild.

A scenario that differs from a built model's data only in these values has the same
variables, rows and sparsity; only numbers change:

| input | where it enters the model |
|---|---|
| prices.csv ``usd_per_kg`` | ``operating_support`` coefficients |
| offers.csv ``usd_per_kg`` | ``operating_support`` coefficients |
| offers.csv ``max_t`` | ``offer_limit`` right-hand sides |
| demand.csv ``units``, programs.csv ``kg_per_unit`` | ``demand_met`` right-hand sides |
| programs.csv ``penalty_usd_per_kg`` | objective coefficients of ``short`` |
| funding.csv ``annual_musd``, ``total_musd`` | ``annual_budget``, ``total_budget`` bounds |

What stays structural: a demand that becomes zero or positive (a year gains or loses its
``short`` variable), a total budget that appears or goes, and a price change that gives a
facility-year with no money flow at all a first one (or takes its last away). ``structure``
keeps the first two distinctions, so two inputs with equal structures build the same model
up to these numbers; ``coefficient_rows`` detects the third.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from optimize.data.modeldata import ModelData, frozen
from optimize.model.context import Build, Terms
from optimize.model.finance import penalty_terms, support_terms
from optimize.model.lp import LinearModel


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
        offers=frozen({k: replace(o, max_t=0.0, usd_per_kg=0.0)
                       for k, o in data.offers.items()}),
        funding=funding,
    )


def same_structure(a: ModelData, b: ModelData) -> bool:
    """Return whether ``a`` and ``b`` build the same model up to parameter values."""
    return a is b or structure(a) == structure(b)


def row_bounds(b: Build) -> Iterator[tuple[int, float, float]]:
    """Yield ``(row, lower, upper)`` for every row whose bounds are parameters.

    Budget rows give their input budgets (a frontier scales them afterwards).
    """
    m, data = b.m, b.data
    for (p, y), row in _rows(m, "demand_met"):
        demand = data.demand_t(p, y)
        yield row, demand, demand
    for key, row in _rows(m, "offer_limit"):
        yield row, -math.inf, data.offers[key].max_t
    if data.funding is not None:
        for (g, _y), row in _rows(m, "annual_budget"):
            yield row, -math.inf, data.funding[g].annual_musd
        for g, row in _rows(m, "total_budget"):
            total = data.funding[g].total_musd
            if total is None:
                raise StructureChanged(f"funding program {g} no longer has a total budget")
            yield row, -math.inf, total


def coefficient_rows(b: Build) -> Iterator[tuple[int, Terms]]:
    """Yield ``(row, terms)`` for every row whose coefficients are parameters.

    Raises StructureChanged when the data would add or remove an ``operating_support`` row.
    """
    m = b.m
    rows = dict(_rows(m, "operating_support"))
    for f in b.data.facilities:
        for y in b.net.op_years[f]:
            terms = support_terms(b, f, y)
            if (f, y) in rows and terms:
                yield rows[(f, y)], terms
            elif (f, y) in rows or terms:
                change = "loses its" if terms is None else "gains an"
                raise StructureChanged(f"{f} {change} operating_support row in {y}")


def objective_terms(b: Build) -> Terms:
    """Return the objective terms whose coefficients are parameters: shortfall penalties."""
    return penalty_terms(b)


def _rows(m: LinearModel, name: str) -> Iterator[tuple[Any, int]]:
    family = m.families.get(name)
    return iter(()) if family is None else iter(family.items())
