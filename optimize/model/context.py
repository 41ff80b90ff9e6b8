"""The build context shared by every rule, and linear-expression helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from optimize.data.modeldata import ModelData
from optimize.model.network import Network
from optimize.model.variables import Incidence

Terms = list[tuple[float, Any]]


@dataclass
class Build:
    """What every rule reads: the model being built, its data, index sets and incidence."""

    m: pyo.ConcreteModel
    data: ModelData
    net: Network
    ix: Incidence


def linear(terms: Terms, constant: float = 0.0) -> Any:
    """Return ``constant + sum(coef * var)`` as one Pyomo linear expression."""
    terms = [(c, v) for c, v in terms if c != 0]
    return LinearExpression(constant=constant, linear_coefs=[c for c, _ in terms],
                            linear_vars=[v for _, v in terms])


def value_of(terms: Terms, constant: float = 0.0) -> float:
    """Return the value of ``constant + sum(coef * var)`` at the loaded solution."""
    return constant + sum(c * (v.value or 0.0) for c, v in terms)


def add_constraints(b: Build, name: str, rows: dict[Any, Any]) -> None:
    """Add an indexed constraint ``name`` from ``{index: relational expression}``.

    Rows whose expression has no variable are dropped (they hold by construction); the
    index set is named ``<name>_index``.
    """
    rows = {k: r for k, r in rows.items() if r is not None}
    dimen = len(next(iter(rows))) if rows and isinstance(next(iter(rows)), tuple) else 1
    b.m.add_component(f"{name}_index", pyo.Set(initialize=list(rows), dimen=dimen, ordered=True))
    b.m.add_component(name, pyo.Constraint(b.m.component(f"{name}_index"),
                                           rule=lambda _m, *k: rows[k if len(k) > 1 else k[0]]))


def at_most(lhs: Terms, rhs: Terms, rhs_constant: float = 0.0) -> Any:
    """Return ``sum(lhs) <= sum(rhs) + rhs_constant``, or None when no variable appears."""
    terms = lhs + [(-c, v) for c, v in rhs]
    if not any(c for c, _ in terms):
        return None
    return linear(terms) <= rhs_constant


def balance(lhs: Terms, rhs: Terms) -> Any:
    """Return ``sum(lhs) == sum(rhs)``, or None when no variable appears."""
    terms = lhs + [(-c, v) for c, v in rhs]
    if not any(c for c, _ in terms):
        return None
    return linear(terms) == 0
