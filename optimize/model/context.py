"""The build context shared by every rule, and linear-expression helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optimize.data.modeldata import ModelData
from optimize.model.lp import Linear, LinearModel, Row
from optimize.model.network import Network
from optimize.model.variables import Incidence

#: A linear expression as ``[(coefficient, column), ...]``.
Terms = list[tuple[float, int]]


@dataclass
class Build:
    """What every rule reads: the model being built, its data, index sets and incidence."""

    m: LinearModel
    data: ModelData
    net: Network
    ix: Incidence


def linear(terms: Terms) -> Linear:
    """Return ``sum(coef * column)``; compare it with a number to get a row."""
    return Linear(terms)


def value_of(b: Build, terms: Terms, constant: float = 0.0) -> float:
    """Return the value of ``constant + sum(coef * column)`` at the loaded solution."""
    return constant + b.m.value_of(terms)


def add_constraints(b: Build, name: str, rows: Mapping[Any, Row | None]) -> None:
    """Add the constraint family ``name`` from ``{index: row}``.

    Rows that are None or have no column hold by construction and are dropped.
    """
    b.m.add_constraints(name, {k: r for k, r in rows.items() if r is not None})


def at_most(lhs: Terms, rhs: Terms, rhs_constant: float = 0.0) -> Row | None:
    """Return ``sum(lhs) <= sum(rhs) + rhs_constant``, or None when no variable appears."""
    terms = lhs + [(-c, v) for c, v in rhs]
    if not any(c for c, _ in terms):
        return None
    return linear(terms) <= rhs_constant


def balance(lhs: Terms, rhs: Terms) -> Row | None:
    """Return ``sum(lhs) == sum(rhs)``, or None when no variable appears."""
    terms = lhs + [(-c, v) for c, v in rhs]
    if not any(c for c, _ in terms):
        return None
    return linear(terms) == 0
