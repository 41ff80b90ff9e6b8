"""The model as HiGHS takes it: columns and rows held in flat arrays as the rules add them.

The rules write ``m.conc[k]`` for a variable and ``linear(terms) <= rhs`` for a row, as they
would with an algebraic modelling layer; here a variable is its column index and a row goes
straight into compressed-row arrays. There is no expression tree and no compile step, so
building costs little more than the rules' own Python, and memory is about 16 bytes per
nonzero (the ``benchmarks/`` floor is HiGHS reading the same model from an MPS file).
"""

from __future__ import annotations

import math
import operator
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

Key = Any

#: Terms from which Linear merges duplicate columns with arrays instead of a dict.
_LONG = 64


class Family(dict[Key, int]):
    """A named, ordered set of keys, each with its index (a column or a row).

    A dict from key to index, so that ``m.conc[k]`` in the rules' inner loops is a plain
    dict lookup; iterating gives the keys in order.
    """

    __slots__ = ("name",)

    def __init__(self, name: str, index: dict[Key, int]) -> None:
        super().__init__(index)
        self.name = name

    def columns(self, keys: list[Key] | tuple[Key, ...]) -> np.ndarray:
        """Return the indices of ``keys`` as an array (one C-speed pass, for long key lists)."""
        return np.fromiter(map(self.__getitem__, keys), dtype=np.int64, count=len(keys))

    def label(self, key: Key) -> str:
        """Return ``name[k1,k2,...]``."""
        parts = key if isinstance(key, tuple) else (key,)
        return f"{self.name}[{','.join(str(p) for p in parts)}]"


@dataclass(slots=True)
class Row:
    """One row: ``lower <= sum(coefs * columns) <= upper``.

    Columns and coefficients are lists, or arrays for rules that write long rows at once
    (distinct columns, no zero coefficient: ``Linear`` is what merges and drops).
    """

    columns: list[int] | np.ndarray
    coefs: list[float] | np.ndarray
    lower: float
    upper: float


class Linear:
    """A linear expression ``sum(coef * column)``; ``<=``, ``>=`` and ``==`` give a Row."""

    __slots__ = ("columns", "coefs")

    def __init__(self, terms: Iterable[tuple[float, int]]) -> None:
        terms = terms if isinstance(terms, list) else list(terms)
        if not terms:
            self.columns, self.coefs = [], []
            return
        coefs, columns = zip(*terms, strict=True)  # the common case at C speed: distinct
        if 0 not in coefs and len(set(columns)) == len(columns):  # columns, no zero
            self.columns, self.coefs = list(columns), list(coefs)
            return
        if len(terms) >= _LONG:
            self._merge_arrays(np.asarray(columns, dtype=np.int64),
                               np.asarray(coefs, dtype=np.float64))
            return
        merged: dict[int, float] = {}
        for c, j in terms:
            if c:
                merged[j] = merged.get(j, 0.0) + c
        self.columns = [j for j, c in merged.items() if c != 0]
        self.coefs = [merged[j] for j in self.columns]

    def _merge_arrays(self, columns: np.ndarray, coefs: np.ndarray) -> None:
        """Merge as above, with arrays: the same sums, added in the same order, same order out.

        ``bincount`` adds each column's coefficients in the order they come, from 0.0,
        as the dict does; columns keep the order of their first term.
        """
        nonzero = coefs != 0
        columns, coefs = columns[nonzero], coefs[nonzero]
        unique, first, inverse = np.unique(columns, return_index=True, return_inverse=True)
        sums = np.bincount(inverse, weights=coefs, minlength=len(unique))
        order = np.argsort(first, kind="stable")
        keep = order[sums[order] != 0]
        self.columns, self.coefs = unique[keep].tolist(), sums[keep].tolist()

    def dense(self, n: int) -> np.ndarray:
        """Return the coefficients as a vector over ``n`` columns (zero where absent)."""
        out = np.zeros(n)
        out[np.asarray(self.columns, dtype=np.int64)] = self.coefs
        return out

    def __le__(self, rhs: float) -> Row:
        """Return the row ``self <= rhs``."""
        return Row(self.columns, self.coefs, -math.inf, float(rhs))

    def __ge__(self, rhs: float) -> Row:
        """Return the row ``self >= rhs``."""
        return Row(self.columns, self.coefs, float(rhs), math.inf)

    def __eq__(self, rhs: object) -> Row:  # type: ignore[override]
        """Return the row ``self == rhs``."""
        assert isinstance(rhs, int | float)
        return Row(self.columns, self.coefs, float(rhs), float(rhs))

    __hash__ = None  # type: ignore[assignment]


class LinearModel:
    """Columns (variables) and rows (constraints) by family, in the order they were added.

    ``m.<name>`` is a variable or constraint family, ``m.<name>_index`` the same family used
    as an index set (``for p, y in m.short_index``, ``(f, y) in m.support_index``).
    After a solve, ``x`` holds the solution, one value per column (``load``).
    """

    def __init__(self) -> None:
        self.families: dict[str, Family] = {}
        self.variables: list[Family] = []
        self.constraints: list[Family] = []
        self.col_lower = array("d")
        self.col_upper = array("d")
        self.integer = array("b")
        self.row_start = array("i", [0])
        self.row_columns = array("i")
        self.row_coefs = array("d")
        self.row_lower = array("d")
        self.row_upper = array("d")
        self.objective: dict[str, Linear] = {}
        self.x: np.ndarray | None = None
        self._x_list: list[float] = []

    def __getattr__(self, name: str) -> Family:
        """Return the family ``name`` (or ``<name>_index``)."""
        families = self.__dict__.get("families", {})
        family = families.get(name[:-6] if name.endswith("_index") else name)
        if family is None:
            raise AttributeError(name)
        return family

    @property
    def n_columns(self) -> int:
        """Return the number of columns."""
        return len(self.col_lower)

    @property
    def n_rows(self) -> int:
        """Return the number of rows."""
        return len(self.row_lower)

    def add_variables(self, name: str, keys: Iterable[Key], lower: float = 0.0,
                      upper: float = math.inf, integer: bool = False) -> Family:
        """Add one column per key; return the family."""
        start = self.n_columns
        index = {k: start + i for i, k in enumerate(keys)}
        n = len(index)
        self.col_lower.extend([lower] * n)
        self.col_upper.extend([upper] * n)
        self.integer.extend([int(integer)] * n)
        family = self._register(Family(name, index))
        self.variables.append(family)
        return family

    def add_constraints(self, name: str, rows: dict[Key, Row]) -> Family:
        """Add one row per key; a row without a column is left out if it holds (0 in bounds).

        Raises ValueError for a row without a column that cannot hold: a rule's mistake.
        """
        index = {}
        for key, row in rows.items():
            if not len(row.columns):
                if row.lower > 0 or row.upper < 0:
                    raise ValueError(f"{name} {key}: no variable, and 0 is not within "
                                     f"[{row.lower}, {row.upper}]")
                continue
            index[key] = self.n_rows
            if isinstance(row.columns, np.ndarray):
                self.row_columns.frombytes(row.columns.astype(np.int32).tobytes())
                self.row_coefs.frombytes(np.asarray(row.coefs, dtype=np.float64).tobytes())
            else:
                self.row_columns.extend(row.columns)
                self.row_coefs.extend(row.coefs)
            self.row_start.append(len(self.row_columns))
            self.row_lower.append(row.lower)
            self.row_upper.append(row.upper)
        family = self._register(Family(name, index))
        self.constraints.append(family)
        return family

    def _register(self, family: Family) -> Family:
        # plain attributes, so that the rules' m.conc[k] in inner loops is a dict lookup
        if family.name in self.families or family.name in self.__dict__ or \
                hasattr(type(self), family.name):
            raise ValueError(f"{family.name!r} is taken: name the family otherwise")
        self.families[family.name] = family
        self.__dict__[family.name] = self.__dict__[f"{family.name}_index"] = family
        return family

    def minimize(self, **parts: Linear) -> None:
        """Set the objective: minimise the sum of the named parts (kept apart for re-solves)."""
        self.objective = dict(parts)

    def costs(self, part: str) -> np.ndarray:
        """Return the objective part's coefficient of every column."""
        return self.objective[part].dense(self.n_columns)

    def load(self, x: np.ndarray) -> None:
        """Take a solution: one value per column."""
        self.x = x
        self._x_list = x.tolist()  # indexing a list is ~5x faster than a numpy array

    def value(self, column: int) -> float:
        """Return the solution value of a column (0 before a solve)."""
        return self._x_list[column] if self._x_list else 0.0

    def value_of(self, terms: Iterable[tuple[float, int]]) -> float:
        """Return ``sum(coef * column)`` at the solution (0 before a solve)."""
        xs = self._x_list
        if not xs:
            return 0.0
        terms = terms if isinstance(terms, list) else list(terms)
        if not terms:
            return 0
        coefs, columns = zip(*terms, strict=True)  # the same sum, in the same order, in C
        return sum(map(operator.mul, coefs, map(xs.__getitem__, columns)))

    def values(self, family: Family) -> np.ndarray:
        """Return the solution values of a variable family's columns, in key order."""
        if not len(family):
            return np.zeros(0)
        first = next(iter(family.values()))
        if self.x is None:
            return np.zeros(len(family))
        return self.x[first:first + len(family)]

    def column_names(self) -> list[str]:
        """Return every column's name, ``family[key]``, in column order."""
        return [f.label(k) for f in self.variables for k in f]

    def row_names(self) -> list[str]:
        """Return every row's name, ``family[key]``, in row order."""
        return [f.label(k) for f in self.constraints for k in f]
