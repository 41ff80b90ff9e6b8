"""Sparse index sets: only the arcs, elements, provenances and years that can carry flow."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from optimize.data.modeldata import Facility, ModelData, possible_fid_years

Pair = tuple[str, str]  # (element, provenance)

#: Market pools between stages. Oxide and metal carry no arc-specific cost or limit, so
#: shipping through one pool per element and provenance is the same model as joining every
#: plant to every plant of the next stage, with arcs growing with S + T instead of S x T.
#: A plant listed as `from` in links.csv keeps direct arcs to its listed targets instead.
OXIDE_POOL = "oxide-pool"
METAL_POOL = "metal-pool"
RESERVED_NAMES = frozenset({OXIDE_POOL, METAL_POOL, "market"})


@dataclass(frozen=True)
class Network:
    """Index sets of the model, derived once from ModelData.

    ``outputs[f]`` holds the (element, provenance) pairs that separation or metal plant
    ``f`` can put out; ``op_years[f]`` the years in which ``f`` can operate at all.
    ``stream_arcs`` holds ``(m, s, r)``: mine ``m``'s concentrate at plant ``s`` leaves an
    unrecovered part that streams.csv passes on to plant ``r``, which can separate some of it.
    """

    op_years: dict[str, tuple[int, ...]]
    fid_years: dict[str, tuple[int, ...]]
    conc_arcs: list[tuple[str, str]]
    oxide_arcs: list[tuple[str, str, str, str]]
    metal_arcs: list[tuple[str, str, str, str]]
    outputs: dict[str, list[Pair]]
    buy_arcs: list[tuple[str, str]]
    makes: list[tuple[str, str, str]]
    deliveries: list[tuple[str, str]]
    program_years: dict[str, tuple[int, ...]]
    stream_arcs: list[tuple[str, str, str]] = field(default_factory=list)
    mine_provenance: dict[str, str] = field(default_factory=dict)
    op_sets: dict[str, frozenset[int]] = field(default_factory=dict)

    def years(self, *facilities: str) -> tuple[int, ...]:
        """Return the years in which all the given facilities can operate."""
        first = self.op_years[facilities[0]]
        if len(facilities) == 1:
            return first
        others = [self.operating(f) for f in facilities[1:]]
        return tuple(y for y in first if all(y in years for years in others))

    def operating(self, f: str) -> frozenset[int]:
        """Return the years in which ``f`` can operate, as a set (for membership tests)."""
        return self.op_sets[f]


def operating_years(f: Facility, data: ModelData) -> tuple[int, ...]:
    """Return the horizon years in which ``f`` can have capacity."""
    if f.candidate:
        assert f.earliest_fid is not None
        first = max(f.earliest_fid, data.start_year) + f.lead_years
    else:
        return tuple(y for y in data.years if f.existing_in_service(y))
    return tuple(range(first, data.end_year + 1))


def candidate_fid_years(f: Facility, data: ModelData) -> tuple[int, ...]:
    """Return the years in which a candidate may take its FID."""
    assert f.earliest_fid is not None
    return tuple(possible_fid_years(f.earliest_fid, data.start_year, data.end_year))


def _targets(data: ModelData, source: str, stage: str) -> list[str]:
    allowed = data.links.get(source)
    return [t for t in data.stage(stage) if allowed is None or t in allowed]


def _overlap(op_years: dict[str, tuple[int, ...]], *names: str) -> bool:
    """Return whether the facilities ``names`` have an operating year in common."""
    return bool(set.intersection(*(set(op_years[n]) for n in names)))


def _out(f: Facility, provenance: str) -> str:
    """Return the provenance of output made from input of ``provenance`` at ``f``."""
    return "tainted" if f.covered else provenance


def _stage_arcs(data: ModelData, op_years: dict[str, tuple[int, ...]], stage: str, to: str,
                outputs: dict[str, list[Pair]], accepts: Callable[[str, str], bool],
                pool: str) -> tuple[list[tuple[str, str, str, str]], dict[str, set[Pair]]]:
    """Return the arcs from ``stage`` to ``to`` and what each receiver gets, before its mapping.

    A plant listed as `from` in links.csv ships straight to its listed targets; every other
    plant ships into ``pool``, which feeds every receiver that ``accepts`` the element.
    """
    receivers = data.stage(to)
    arcs: list[tuple[str, str, str, str]] = []
    received: dict[str, set[Pair]] = defaultdict(set)
    pooled: set[Pair] = set()
    for s in data.stage(stage):
        if s in data.links:
            for t in _targets(data, s, to):
                for e, o in outputs[s]:
                    if accepts(t, e) and _overlap(op_years, s, t):
                        arcs.append((s, t, e, o))
                        received[t].add((e, o))
            continue
        for e, o in outputs[s]:
            if op_years[s] and any(accepts(t, e) for t in receivers):
                arcs.append((s, pool, e, o))
                pooled.add((e, o))
    for t in receivers:
        for e, o in sorted(pooled):
            if accepts(t, e) and op_years[t]:
                arcs.append((pool, t, e, o))
                received[t].add((e, o))
    return arcs, received


def build_network(data: ModelData) -> Network:
    """Return the sparse index sets for ``data``."""
    fac = data.facilities
    op_years = {n: operating_years(f, data) for n, f in fac.items()}
    op_years[OXIDE_POOL] = op_years[METAL_POOL] = tuple(data.years)
    fid_years = {n: candidate_fid_years(f, data) for n, f in fac.items() if f.candidate}
    mine_prov = {m: ("tainted" if fac[m].covered else "clean") for m in data.stage("mine")}

    conc_arcs = []
    sep_in: dict[str, set[Pair]] = defaultdict(set)
    for m in data.stage("mine"):
        for s in _targets(data, m, "separation"):
            elements = {e for e, share in data.mine_assays.get(m, ()) if share > 0}
            feeds = {(e, mine_prov[m]) for e in elements if (s, e) in data.recoveries}
            if feeds and _overlap(op_years, m, s):
                conc_arcs.append((m, s))
                sep_in[s] |= feeds
    stream_arcs = []
    for (s, r), passed in data.streams.items():
        for mi in (mi for mi, fed in conc_arcs if fed == s):
            feeds = {(e, _out(fac[s], mine_prov[mi])) for e in passed
                     if data.assays.get((mi, e), 0.0) * data.unrecovered(s, e) > 0}
            if feeds and _overlap(op_years, mi, s, r):
                stream_arcs.append((mi, s, r))
                sep_in[r] |= feeds
    outputs: dict[str, list[Pair]] = {}
    for s in data.stage("separation"):
        outputs[s] = sorted({(e, _out(fac[s], o)) for e, o in sep_in[s]})

    offers_by = defaultdict(set)
    for (b, _y), offer in data.offers.items():
        offers_by[(offer.commodity, offer.item)].add((b, offer.provenance))

    buy_arcs = set()
    metal_in: dict[str, set[Pair]] = defaultdict(set)
    for t in data.stage("metal"):
        for e in data.elements:
            if (t, e) not in data.recoveries:
                continue
            for b, o in offers_by[("oxide", e)]:
                buy_arcs.add((b, t))
                metal_in[t].add((e, o))
    oxide_arcs, received = _stage_arcs(data, op_years, "separation", "metal", outputs,
                                       lambda t, e: (t, e) in data.recoveries, OXIDE_POOL)
    for t, pairs in received.items():
        metal_in[t] |= pairs
    for t in data.stage("metal"):
        outputs[t] = sorted({(e, _out(fac[t], o)) for e, o in metal_in[t]})

    uses = {
        ln: sorted({e for k in data.line_grades.get(ln, ()) for e, kg in data.grades[k].items()
                    if kg > 0})
        for ln in data.stage("magnet")
    }
    magnet_in: dict[str, set[Pair]] = defaultdict(set)
    for ln in data.stage("magnet"):
        for e in uses[ln]:
            for b, o in offers_by[("metal", e)]:
                buy_arcs.add((b, ln))
                magnet_in[ln].add((e, _out(fac[ln], o)))
    metal_arcs, received = _stage_arcs(data, op_years, "metal", "magnet", outputs,
                                       lambda ln, e: e in uses[ln], METAL_POOL)
    for ln, pairs in received.items():
        magnet_in[ln] |= {(e, _out(fac[ln], o)) for e, o in pairs}

    makes = []
    for ln in data.stage("magnet"):
        for k in data.line_grades.get(ln, ()):
            needs = [e for e, kg in data.grades[k].items() if kg > 0]
            for o in ("clean", "tainted"):
                if all((e, o) in magnet_in[ln] for e in needs):
                    makes.append((ln, k, o))
    clean_grades = {(ln, k) for ln, k, o in makes if o == "clean"}
    program_years = {
        p: tuple(y for y in data.years if data.demand_t(p, y) > 0) for p in data.programs
    }
    deliveries = [(ln, p) for p, prog in data.programs.items() for ln in data.stage("magnet")
                  if (ln, prog.grade) in clean_grades]
    return Network(
        op_years=op_years, fid_years=fid_years, conc_arcs=conc_arcs, oxide_arcs=oxide_arcs,
        metal_arcs=metal_arcs, outputs=outputs, buy_arcs=sorted(buy_arcs), makes=makes,
        deliveries=deliveries, program_years=program_years, stream_arcs=stream_arcs,
        mine_provenance=mine_prov,
        op_sets={f: frozenset(ys) for f, ys in op_years.items()},
    )
