"""Capacity limits of each stage: what a facility can produce (or take in) each year."""

from __future__ import annotations

from optimize.model.context import Build, Terms, add_constraints, at_most
from optimize.model.investment import capacity_terms


def _limit(b: Build, name: str, stage: str, used: dict[tuple[str, int], Terms]) -> None:
    rows = {}
    for f in b.data.stage(stage):
        for y in b.net.op_years[f]:
            terms = used.get((f, y), [])
            if terms:
                cap, const = capacity_terms(b, f, y)
                rows[(f, y)] = at_most(terms, cap, const)
    add_constraints(b, name, rows)


def used_terms(b: Build, f: str, y: int) -> Terms:
    """Return the throughput of ``f`` in ``y`` in its capacity unit (t/yr)."""
    m, ix = b.m, b.ix
    stage = b.data.facilities[f].stage
    if stage == "mine":
        return [(1.0, m.conc[k]) for k in ix.conc_out.get((f, y), ())]
    if stage == "separation":
        return [(1.0, m.conc[k]) for k in ix.conc_in.get((f, y), ())]
    if stage == "metal":
        return [(1.0, v) for e, o in b.net.outputs[f] for v in metal_out_vars(b, f, e, o, y)]
    return [(1.0, m.make[k]) for k in ix.make_by_line.get((f, y), ())]


def metal_out_vars(b: Build, t: str, e: str, o: str, y: int) -> list:
    """Return the metal variables leaving plant ``t``: to magnet lines and to the market."""
    out = [b.m.metal[k] for k in b.ix.metal_out.get((t, e, o, y), ())]
    return out + [b.m.sell_metal[k] for k in b.ix.sell_metal_by.get((t, e, o, y), ())]


def _stage_limit(b: Build, name: str, stage: str) -> None:
    used = {(f, y): used_terms(b, f, y) for f in b.data.stage(stage) for y in b.net.op_years[f]}
    _limit(b, name, stage, used)


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
