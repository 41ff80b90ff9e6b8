"""Capacity limits of each stage: what a facility can produce (or take in) each year."""

from __future__ import annotations

import numpy as np

from optimize.model.context import Build, Terms, add_constraints, at_most_columns
from optimize.model.investment import capacity_terms
from optimize.model.variables import NO_COLUMNS


def used_columns(b: Build, f: str, y: int) -> np.ndarray:
    """Return the columns whose sum is the throughput of ``f`` in ``y`` (t/yr)."""
    m, ix = b.m, b.ix
    stage = b.data.facilities[f].stage
    if stage == "mine":
        return ix.conc_out_columns.get((f, y), NO_COLUMNS)
    if stage == "separation":
        return ix.conc_in_columns.get((f, y), NO_COLUMNS)
    if stage == "metal":
        return np.array([v for e, o in b.net.outputs[f] for v in metal_out_vars(b, f, e, o, y)],
                        dtype=np.int64)
    return m.make.columns(ix.make_by_line.get((f, y), ()))


def used_terms(b: Build, f: str, y: int) -> Terms:
    """Return the throughput of ``f`` in ``y`` in its capacity unit (t/yr)."""
    return [(1.0, j) for j in used_columns(b, f, y).tolist()]


def metal_out_vars(b: Build, t: str, e: str, o: str, y: int) -> list:
    """Return the metal variables leaving plant ``t``: to magnet lines and to the market."""
    out = [b.m.metal[k] for k in b.ix.metal_out.get((t, e, o, y), ())]
    return out + [b.m.sell_metal[k] for k in b.ix.sell_metal_by.get((t, e, o, y), ())]


def _stage_limit(b: Build, name: str, stage: str) -> None:
    rows = {}
    for f in b.data.stage(stage):
        for y in b.net.op_years[f]:
            used = used_columns(b, f, y)
            if len(used):
                cap, const = capacity_terms(b, f, y)
                rows[(f, y)] = at_most_columns(used, cap, const)
    add_constraints(b, name, rows)


def mine_capacity(b: Build) -> None:
    r"""A mine ships at most its available capacity of concentrate (t TREO).

    .. math::

        \sum_s conc_{m,s,y} \le cap_{m,y}
    """
    _stage_limit(b, "mine_capacity", "mine")


def separation_capacity(b: Build) -> None:
    r"""A separation plant takes in at most its feed capacity of concentrate (t TREO).

    .. math::

        \sum_m conc_{m,s,y} \le cap_{s,y}
    """
    _stage_limit(b, "separation_capacity", "separation")


def metal_capacity(b: Build) -> None:
    r"""A metal plant puts out at most its capacity of metal, all elements and provenances.

    .. math::

        \sum_{e,o} \Big(\sum_l metal_{t,l,e,o,y} + sell^{metal}_{t,e,o,y}\Big) \le cap_{t,y}
    """
    _stage_limit(b, "metal_capacity", "metal")


def magnet_capacity(b: Build) -> None:
    r"""A magnet line makes at most its capacity, only of the grades it can make.

    .. math::

        \sum_{k \in grades_l, o} make_{l,k,o,y} \le cap_{l,y}
    """
    _stage_limit(b, "magnet_capacity", "magnet")
