"""Decision variables over the sparse index sets, and who-touches-what lookups for the rules."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np

from optimize.data.modeldata import ModelData
from optimize.model.lp import LinearModel
from optimize.model.network import Network

Key = tuple[Any, ...]
#: What a missing group of columns reads as: ``ix.conc_in_columns.get((s, y), NO_COLUMNS)``.
NO_COLUMNS = np.zeros(0, dtype=np.int64)
NO_COLUMNS.flags.writeable = False


def group(keys: Iterable[Key], by: Callable[[Key], Hashable]) -> dict[Any, list[Key]]:
    """Return the keys grouped by ``by(key)``, in their original order."""
    out: dict[Any, list[Key]] = defaultdict(list)
    for k in keys:
        out[by(k)].append(k)
    return out


def group_columns(keys: Iterable[Key], by: Callable[[Key], Hashable],
                  first: int) -> dict[Any, np.ndarray]:
    """Return the columns of ``keys`` grouped by ``by(key)``, in key order, as arrays.

    For a family whose columns are numbered from ``first`` in key order: the long rows
    read them without a lookup per key.
    """
    out: dict[Any, list[int]] = defaultdict(list)
    for j, k in enumerate(keys, start=first):
        out[by(k)].append(j)
    return {g: np.array(columns, dtype=np.int64) for g, columns in out.items()}


@dataclass
class Incidence:
    """Variable keys grouped by the facility (and element, provenance, year) they touch.

    A missing group means no variable, so rules write ``ix.conc_in.get((s, y), ())``.
    Concentrate arcs, the model's most numerous variable in its longest rows, are also
    grouped as column arrays: ``conc_out_columns`` by (mine, year), ``conc_in_columns``
    by (separation plant, year), the latter in the order of ``conc_in``.
    """

    conc_in: dict[Any, list[Key]] = field(default_factory=dict)
    oxide_out: dict[Any, list[Key]] = field(default_factory=dict)
    oxide_in: dict[Any, list[Key]] = field(default_factory=dict)
    metal_out: dict[Any, list[Key]] = field(default_factory=dict)
    metal_in: dict[Any, list[Key]] = field(default_factory=dict)
    buy_in: dict[Any, list[Key]] = field(default_factory=dict)
    buy_by_offer: dict[Any, list[Key]] = field(default_factory=dict)
    make_by_line: dict[Any, list[Key]] = field(default_factory=dict)
    deliver_by_line: dict[Any, list[Key]] = field(default_factory=dict)
    deliver_by_program: dict[Any, list[Key]] = field(default_factory=dict)
    sell_oxide_by: dict[Any, list[Key]] = field(default_factory=dict)
    sell_metal_by: dict[Any, list[Key]] = field(default_factory=dict)
    fid_by_facility: dict[Any, list[Key]] = field(default_factory=dict)
    fund_by: dict[Any, list[Key]] = field(default_factory=dict)
    fund_by_program_year: dict[Any, list[Key]] = field(default_factory=dict)
    fund_by_program: dict[Any, list[Key]] = field(default_factory=dict)
    conc_out_columns: dict[Any, np.ndarray] = field(default_factory=dict)
    conc_in_columns: dict[Any, np.ndarray] = field(default_factory=dict)


def _var(m: LinearModel, name: str, keys: list[Key], binary: bool = False) -> None:
    """Add the variable ``name`` over ``keys``: non-negative, or binary."""
    m.add_variables(name, keys, upper=1.0 if binary else math.inf, integer=binary)


def declare_variables(m: LinearModel, data: ModelData, net: Network) -> Incidence:
    """Add every decision variable of MODEL.md section 5 to ``m``; return their incidence."""
    fac = data.facilities
    years = net.years

    fid = [(f, y) for f, ys in net.fid_years.items() for y in ys]
    conc = [(mi, s, y) for mi, s in net.conc_arcs for y in years(mi, s)]
    oxide = [(s, t, e, o, y) for s, t, e, o in net.oxide_arcs for y in years(s, t)]
    metal = [(t, ln, e, o, y) for t, ln, e, o in net.metal_arcs for y in years(t, ln)]
    sell_oxide = [(s, e, o, y) for s in data.stage("separation") for e, o in net.outputs[s]
                  for y in years(s)]
    sell_metal = [(t, e, o, y) for t in data.stage("metal") for e, o in net.outputs[t]
                  for y in years(t)]
    buy = [(b, f, y) for b, f in net.buy_arcs for y in years(f) if (b, y) in data.offers]
    make = [(ln, k, o, y) for ln, k, o in net.makes for y in years(ln)]
    deliver = [(ln, p, y) for ln, p in net.deliveries for y in net.program_years[p]
               if y in set(years(ln))]
    short = [(p, y) for p, ys in net.program_years.items() for y in ys]
    support = [(f, y) for f in fac for y in years(f)]

    _var(m, "fid", fid, binary=True)
    first_conc = m.n_columns
    _var(m, "conc", conc)
    _var(m, "oxide", oxide)
    _var(m, "metal", metal)
    _var(m, "sell_oxide", sell_oxide)
    _var(m, "sell_metal", sell_metal)
    _var(m, "buy", buy)
    _var(m, "make", make)
    _var(m, "sell_magnet", make)
    _var(m, "deliver", deliver)
    _var(m, "short", short)

    fund: list[Key] = []
    if data.funding is not None:
        support = [(f, y) for f, y in support
                   if any(g.eligible(fac[f], y, "operating") for g in data.funding.values())]
        fund = [(g, f, y, c) for g, prog in data.funding.items() for f in fac
                for y in data.years for c in prog.covers
                if prog.eligible(fac[f], y, c)
                and (c == "capex" or y in set(years(f)))
                and (c == "operating" or (fac[f].candidate and fac[f].capex_musd > 0))]
    _var(m, "support", support)
    _var(m, "fund", fund)

    return Incidence(
        conc_in=group(conc, itemgetter(1, 2)),
        conc_out_columns=group_columns(conc, itemgetter(0, 2), first_conc),
        conc_in_columns=group_columns(conc, itemgetter(1, 2), first_conc),
        oxide_out=group(oxide, lambda k: (k[0], k[2], k[3], k[4])),
        oxide_in=group(oxide, lambda k: (k[1], k[2], k[3], k[4])),
        metal_out=group(metal, lambda k: (k[0], k[2], k[3], k[4])),
        metal_in=group(metal, lambda k: (k[1], k[2], k[3], k[4])),
        buy_in=group(buy, lambda k: (k[1], k[2])),
        buy_by_offer=group(buy, lambda k: (k[0], k[2])),
        make_by_line=group(make, lambda k: (k[0], k[3])),
        deliver_by_line=group(deliver, lambda k: (k[0], k[2])),
        deliver_by_program=group(deliver, lambda k: (k[1], k[2])),
        sell_oxide_by=group(sell_oxide, lambda k: (k[0], k[1], k[2], k[3])),
        sell_metal_by=group(sell_metal, lambda k: (k[0], k[1], k[2], k[3])),
        fid_by_facility=group(fid, lambda k: k[0]),
        fund_by=group(fund, lambda k: (k[1], k[2], k[3])),
        fund_by_program_year=group(fund, lambda k: (k[0], k[2])),
        fund_by_program=group(fund, lambda k: k[0]),
    )
