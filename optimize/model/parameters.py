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
up to these numbers; ``PriceMap.check`` detects the third.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from optimize.data.modeldata import ModelData, frozen
from optimize.model.context import Build
from optimize.model.finance import support_terms
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


def _rows(m: LinearModel, name: str) -> Iterator[tuple[Any, int]]:
    family = m.families.get(name)
    return iter(()) if family is None else iter(family.items())


class Affine:
    """A number that is affine in the prices: ``const + sum(coef_k * price_k)``.

    Evaluating the rules' own ``support_terms`` on data whose prices are Affine symbols
    gives every ``operating_support`` coefficient as a function of the prices, exactly,
    without a second copy of the formulas.
    """

    __slots__ = ("const", "coefs")

    def __init__(self, const: float = 0.0, coefs: dict[Any, float] | None = None) -> None:
        self.const, self.coefs = const, coefs or {}

    @staticmethod
    def _of(other: object) -> Affine:
        if isinstance(other, Affine):
            return other
        if isinstance(other, int | float):
            return Affine(float(other))
        raise TypeError(f"an Affine price combines with numbers only, not {type(other)}")

    def __add__(self, other: object) -> Affine:
        """Return ``self + other``."""
        o = Affine._of(other)
        coefs = dict(self.coefs)
        for k, c in o.coefs.items():
            coefs[k] = coefs.get(k, 0.0) + c
        return Affine(self.const + o.const, coefs)

    __radd__ = __add__

    def __neg__(self) -> Affine:
        """Return ``-self``."""
        return Affine(-self.const, {k: -c for k, c in self.coefs.items()})

    def __sub__(self, other: object) -> Affine:
        """Return ``self - other``."""
        return self + -Affine._of(other)

    def __mul__(self, other: object) -> Affine:
        """Return ``self * number`` (a product of two prices is not affine)."""
        if not isinstance(other, int | float):
            raise TypeError("a product of prices is not affine")
        f = float(other)
        return Affine(self.const * f, {k: c * f for k, c in self.coefs.items()})

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        """Return whether the expression can be nonzero (some price or the constant)."""
        return self.const != 0 or any(c != 0 for c in self.coefs.values())

    def __ne__(self, other: object) -> bool:
        """Return ``not (self == other)`` symbolically (used as ``c != 0`` filters)."""
        return bool(self - Affine._of(other))

    def __eq__(self, other: object) -> bool:
        """Return whether ``self - other`` is identically zero."""
        return not self.__ne__(other)

    __hash__ = None  # type: ignore[assignment]


@dataclass
class PriceMap:
    """The ``operating_support`` coefficients as an affine map of the prices.

    One entry per (row, column) of ``operating_support``; ``row`` is -1 for the
    facility-years that have no row because no money flows there at the built prices.
    ``values(data) = const + sensitivity @ prices(data)``, with the sensitivity stored as
    (entry, price, coefficient) triples.
    """

    rows: np.ndarray
    columns: np.ndarray
    const: np.ndarray
    entry: np.ndarray
    price: np.ndarray
    coef: np.ndarray
    keys: dict[Any, int]
    support: np.ndarray  # whether the entry's column is a support variable (not a flow)

    @classmethod
    def of(cls, b: Build) -> PriceMap:
        """Return the map for the built model ``b`` (one symbolic pass over the rules)."""
        data = b.data
        symbolic = replace(
            data,
            prices=frozen({k: Affine(0.0, {("price", k): 1.0}) for k in data.prices}),
            offers=frozen({k: replace(o, usd_per_kg=Affine(0.0, {("offer", k): 1.0}))  # type: ignore[arg-type]
                           for k, o in data.offers.items()}))
        sb = replace(b, data=symbolic)
        existing = dict(_rows(b.m, "operating_support"))
        rows: list[int] = []
        columns: list[int] = []
        const: list[float] = []
        entry: list[int] = []
        price: list[int] = []
        coef: list[float] = []
        keys: dict[Any, int] = {}
        for f in data.facilities:
            for y in b.net.op_years[f]:
                merged: dict[int, Affine] = {}
                for c, j in support_terms(sb, f, y) or []:
                    merged[j] = merged.get(j, Affine()) + c
                for j, a in merged.items():
                    for k, c in a.coefs.items():
                        entry.append(len(rows))
                        price.append(keys.setdefault(k, len(keys)))
                        coef.append(c)
                    rows.append(existing.get((f, y), -1))
                    columns.append(j)
                    const.append(a.const)
        support = np.fromiter(b.m.support.values(), dtype=np.int64, count=len(b.m.support))
        return cls(np.array(rows, dtype=np.int64), np.array(columns, dtype=np.int64),
                   np.array(const, dtype=float), np.array(entry, dtype=np.int64),
                   np.array(price, dtype=np.int64), np.array(coef, dtype=float), keys,
                   np.isin(np.array(columns, dtype=np.int64), support))

    def values(self, data: ModelData) -> np.ndarray:
        """Return every entry's coefficient at ``data``'s prices and offer prices."""
        p = np.empty(len(self.keys))
        for (kind, k), i in self.keys.items():
            p[i] = data.prices[k] if kind == "price" else data.offers[k].usd_per_kg
        return self.const + np.bincount(self.entry, weights=self.coef * p[self.price],
                                        minlength=len(self.const))

    def check(self, values: np.ndarray) -> None:
        """Raise StructureChanged if ``values`` add or remove an ``operating_support`` row."""
        flows = (values != 0) & ~self.support
        if (flows & (self.rows < 0)).any():
            raise StructureChanged("a facility-year gains an operating_support row")
        existing = self.rows >= 0
        alive = np.zeros(int(self.rows.max(initial=-1)) + 1, dtype=bool)
        alive[self.rows[flows & existing]] = True
        if not alive[self.rows[existing]].all():
            raise StructureChanged("a facility-year loses its operating_support row")
