"""The build context shared by every rule, and linear-expression helpers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

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


# Array forms of at_most and balance, for the rows that carry concentrate arcs (the long ones):
# the same rows, written without a Python tuple per term.

def at_most_columns(lhs: np.ndarray, rhs: Terms, rhs_constant: float = 0.0) -> Row | None:
    """Return ``sum(lhs) <= sum(rhs) + rhs_constant`` for ``lhs`` distinct columns.

    The array form of :func:`at_most` when every left-hand coefficient is 1 and no
    left-hand column appears on the right.
    """
    rhs_part = Linear([(-c, v) for c, v in rhs])
    if not len(lhs) and not rhs_part.columns:
        return None
    return Row(np.concatenate([lhs, np.asarray(rhs_part.columns, dtype=np.int64)]),
               np.concatenate([np.ones(len(lhs)), rhs_part.coefs]), -math.inf,
               float(rhs_constant))


def balance_columns(lhs: np.ndarray, rhs: np.ndarray, rhs_coefs: np.ndarray) -> Row | None:
    """Return ``sum(lhs) == sum(rhs_coefs * rhs)``, or None when no variable appears.

    The array form of :func:`balance` when every left-hand coefficient is 1 and the
    columns are distinct; right-hand terms with a zero coefficient are left out.
    """
    keep = rhs_coefs != 0
    if not len(lhs) and not keep.any():
        return None
    return Row(np.concatenate([lhs, rhs[keep]]),
               np.concatenate([np.ones(len(lhs)), -rhs_coefs[keep]]), 0.0, 0.0)
