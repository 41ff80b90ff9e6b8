"""Sparse index sets as key lists, and who-touches-what groupings the rules sum over.

Only the arcs, elements, provenances and years that can carry flow get a key (see
``network.py``). The topic modules declare these lists as Pyomo ``Set``s; the groupings
(``Index.conc_in[s, y]``: the concentrate arcs into plant ``s`` in ``y``) let a rule sum over
exactly the variables it touches instead of scanning a whole set.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from optimize.data.modeldata import ModelData
from optimize.model.network import Network
from optimize.model.qualification import first_defense_year

Key = tuple[Any, ...]


def group(keys: Iterable[Key], by: Callable[[Key], Hashable]) -> dict[Any, list[Key]]:
    """Return the keys grouped by ``by(key)``, in their original order."""
    out: dict[Any, list[Key]] = defaultdict(list)
    for k in keys:
        out[by(k)].append(k)
    return dict(out)


@dataclass(frozen=True)
class Index:
    """The key list of every variable, and the groupings the rules read.

    A missing group means no variable, so rules write ``ix.conc_in.get((s, y), ())``.
    """

    fid: list[Key]
    conc: list[Key]
    stream: list[Key]
    oxide: list[Key]
    metal: list[Key]
    sell_oxide: list[Key]
    sell_metal: list[Key]
    buy: list[Key]
    make: list[Key]
    deliver: list[Key]
    short: list[Key]
    support: list[Key]
    fund: list[Key]
    conc_in: dict[Any, list[Key]]
    conc_out: dict[Any, list[Key]]
    stream_from: dict[Any, list[Key]]
    oxide_out: dict[Any, list[Key]]
    oxide_in: dict[Any, list[Key]]
    metal_out: dict[Any, list[Key]]
    metal_in: dict[Any, list[Key]]
    buy_in: dict[Any, list[Key]]
    buy_by_offer: dict[Any, list[Key]]
    make_by_line: dict[Any, list[Key]]
    deliver_by_line: dict[Any, list[Key]]
    deliver_by_program: dict[Any, list[Key]]
    sell_oxide_by: dict[Any, list[Key]]
    sell_metal_by: dict[Any, list[Key]]
    fid_by_facility: dict[Any, list[Key]]
    fund_by: dict[Any, list[Key]]
    fund_by_program_year: dict[Any, list[Key]]
    fund_by_program: dict[Any, list[Key]]
    passed: dict[Key, list[tuple[float, Key]]]
    passed_into: dict[Any, list[Key]]
    passed_from: dict[Any, list[Key]]
    floor: list[Key]
    floor_by_facility: dict[Any, list[Key]]
    floor_by_program_year: dict[Any, list[Key]]
    floor_by_program: dict[Any, list[Key]]


def build_index(data: ModelData, net: Network) -> Index:
    """Return the variables' keys (docs/formulation.md) and their groupings for ``data``."""
    fac = data.facilities
    years = net.years

    fid = [(f, y) for f, ys in net.fid_years.items() for y in ys]
    conc = [(mi, s, y) for mi, s in net.conc_arcs for y in years(mi, s)]
    stream = [(mi, s, r, y) for mi, s, r in net.stream_arcs for y in years(mi, s, r)]
    oxide = [(s, t, e, o, y) for s, t, e, o in net.oxide_arcs for y in years(s, t)]
    metal = [(t, ln, e, o, y) for t, ln, e, o in net.metal_arcs for y in years(t, ln)]
    sell_oxide = [(s, e, o, y) for s in data.stage("separation") for e, o in net.outputs[s]
                  for y in years(s)]
    sell_metal = [(t, e, o, y) for t in data.stage("metal") for e, o in net.outputs[t]
                  for y in years(t)]
    buy = [(b, f, y) for b, f in net.buy_arcs for y in years(f) if (b, y) in data.offers]
    make = [(ln, k, o, y) for ln, k, o in net.makes for y in years(ln)]
    qualified = {ln: first_defense_year(fac[ln], data) for ln in data.stage("magnet")}
    deliver = [(ln, p, y) for ln, p in net.deliveries for y in net.program_years[p]
               if y in net.operating(ln)
               and (y >= qualified[ln] or not data.programs[p].defense)]
    short = [(p, y) for p, ys in net.program_years.items() for y in ys]
    support = [(f, y) for f in fac for y in years(f)]
    fund: list[Key] = []
    if data.funding is not None:
        support = [(f, y) for f, y in support
                   if any(g.eligible(fac[f], y, "operating") for g in data.funding.values())]
        fund = [(g, f, y, c) for g, prog in data.funding.items() for f in fac
                for y in data.years for c in prog.covers
                if prog.eligible(fac[f], y, c)
                and (c == "capex" or y in net.operating(f))
                and (c == "operating" or (fac[f].candidate and fac[f].capex_musd > 0))]

    passed = stream_terms(data, net, stream)
    sells = {(k[0], k[2], k[4]) for k in [*oxide, *metal]}  # (plant, element, year)
    sells |= {(k[0], k[1], k[3]) for k in [*sell_oxide, *sell_metal]}
    sells |= {(k[0], k[1], k[3]) for k in make}  # (line, grade, year)
    deals = {d.name: d for d in data.deals}
    floor = [(d.name, y) for d in data.deals if d.kind == "floor" for y in years(d.facility)
             if d.pays_in(y) and (d.facility, d.item, y) in sells]
    return Index(
        fid=fid, conc=conc, stream=stream, oxide=oxide, metal=metal, sell_oxide=sell_oxide,
        sell_metal=sell_metal, buy=buy, make=make, deliver=deliver, short=short,
        support=support, fund=fund,
        conc_in=group(conc, itemgetter(1, 2)),
        conc_out=group(conc, itemgetter(0, 2)),
        stream_from=group(stream, itemgetter(0, 1, 3)),
        oxide_out=group(oxide, itemgetter(0, 2, 3, 4)),
        oxide_in=group(oxide, itemgetter(1, 2, 3, 4)),
        metal_out=group(metal, itemgetter(0, 2, 3, 4)),
        metal_in=group(metal, itemgetter(1, 2, 3, 4)),
        buy_in=group(buy, itemgetter(1, 2)),
        buy_by_offer=group(buy, itemgetter(0, 2)),
        make_by_line=group(make, itemgetter(0, 3)),
        deliver_by_line=group(deliver, itemgetter(0, 2)),
        deliver_by_program=group(deliver, itemgetter(1, 2)),
        sell_oxide_by=group(sell_oxide, itemgetter(0, 1, 2, 3)),
        sell_metal_by=group(sell_metal, itemgetter(0, 1, 2, 3)),
        fid_by_facility=group(fid, itemgetter(0)),
        fund_by=group(fund, itemgetter(1, 2, 3)),
        fund_by_program_year=group(fund, itemgetter(0, 2)),
        fund_by_program=group(fund, itemgetter(0)),
        passed=passed,
        passed_into=group(passed, itemgetter(1, 4)),
        passed_from=group(passed, itemgetter(0, 4)),
        floor=floor,
        floor_by_facility=group(floor, lambda k: (deals[k[0]].facility, k[1])),
        floor_by_program_year=group(floor, lambda k: (deals[k[0]].program, k[1])),
        floor_by_program=group(floor, lambda k: deals[k[0]].program),
    )


def stream_terms(data: ModelData, net: Network,
                 stream: list[Key]) -> dict[Key, list[tuple[float, Key]]]:
    """Return ``passed[s,r,e,o,y]`` as ``[(coefficient, stream key), ...]`` per key.

    The coefficient is ``share_{m,e} (1 - recovery_{s,e}) yield_{s,r,e}`` per t TREO of
    mine ``m``'s concentrate whose unrecovered part goes on; ``o`` is the provenance as it
    leaves ``s`` (tainted if ``s`` or ``m`` is in a covered country).
    """
    fac = data.facilities
    out: dict[Key, list[tuple[float, Key]]] = {}
    for k in stream:
        mine, s, r, y = k
        o = "tainted" if fac[s].covered else net.mine_provenance[mine]
        for e, yld in data.streams[(s, r)].items():
            c = data.assays.get((mine, e), 0.0) * data.unrecovered(s, e) * yld
            if c > 0:
                out.setdefault((s, r, e, o, y), []).append((c, k))
    return out
