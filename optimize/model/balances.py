"""Element balances with provenance: what comes out of a plant is what went in, less losses.

MODEL.md writes these balances as ``<=``. They are equalities here (no free disposal), as
its section 9 requires balances to close: with ``<=`` a plant could take in material it
never uses, even while unbuilt, and so pass a loss on to a facility that may be supported.
"""

from __future__ import annotations

import numpy as np

from optimize.model.capacity import metal_out_vars
from optimize.model.context import Build, Terms, add_constraints, balance, balance_columns
from optimize.model.network import METAL_POOL, OXIDE_POOL
from optimize.model.variables import NO_COLUMNS


def maps_to(b: Build, f: str, provenance_in: str, provenance_out: str) -> bool:
    """Return whether input of ``provenance_in`` at ``f`` can become output of ``provenance_out``.

    A facility in a covered country taints everything it puts out; elsewhere clean and
    tainted batches are kept apart (chain of custody).
    """
    if b.data.facilities[f].covered:
        return provenance_out == "tainted"
    return provenance_in == provenance_out


def bought_terms(b: Build, f: str, e: str, o: str, y: int) -> Terms:
    """Return purchases of element ``e`` by ``f`` in ``y`` whose provenance maps to ``o``."""
    terms = []
    for k in b.ix.buy_in.get((f, y), ()):
        offer = b.data.offers[(k[0], y)]
        if offer.item == e and maps_to(b, f, offer.provenance, o):
            terms.append((1.0, b.m.buy[k]))
    return terms


def pool_balance(b: Build) -> None:
    r"""What enters a market pool leaves it, per commodity, element, provenance and year.

    Oxide from separation plants and metal from metal plants go through one pool per
    element and provenance (``oxide-pool``, ``metal-pool``) unless links.csv ties a plant to
    its targets; the pool keeps provenance, so chain of custody holds.

    .. math::

        \sum_s oxide_{s,pool,e,o,y} = \sum_t oxide_{pool,t,e,o,y}, \qquad
        \sum_t metal_{t,pool,e,o,y} = \sum_l metal_{pool,l,e,o,y}
    """
    m, ix = b.m, b.ix
    rows = {}
    for commodity, pool, out, into, var in (("oxide", OXIDE_POOL, ix.oxide_out, ix.oxide_in,
                                             m.oxide),
                                            ("metal", METAL_POOL, ix.metal_out, ix.metal_in,
                                             m.metal)):
        keys = {k[1:] for k in [*out, *into] if k[0] == pool}
        for e, o, y in sorted(keys):
            leaving = [(1.0, var[k]) for k in out.get((pool, e, o, y), ())]
            entering = [(1.0, var[k]) for k in into.get((pool, e, o, y), ())]
            rows[(commodity, e, o, y)] = balance(leaving, entering)
    add_constraints(b, "pool_balance", rows)


def separation_balance(b: Build) -> None:
    r"""Oxide out of a separation plant is the recovered oxide of its feed.

    Per element e and provenance o; ``prov(m)`` is tainted for a mine in a covered country
    and ``maps`` is as in :func:`maps_to`.

    .. math::

        \sum_t oxide_{s,t,e,o,y} + sell^{oxide}_{s,e,o,y} =
        recovery_{s,e} \sum_{m: prov(m) \mapsto o} share_{m,e}\, conc_{m,s,y}
    """
    m, ix, data = b.m, b.ix, b.data
    mines = data.stage("mine")
    at = {mine: i for i, mine in enumerate(mines)}
    share = np.array([[data.assays.get((mine, e), 0.0) for e in data.elements]
                      for mine in mines]).reshape(len(mines), len(data.elements))
    element = {e: i for i, e in enumerate(data.elements)}
    tainted = np.array([b.net.mine_provenance[mine] == "tainted" for mine in mines], dtype=int)
    rows = {}
    for s in data.stage("separation"):
        # each year's feed: the concentrate columns, and the mine each comes from
        feed = {}
        for y in b.net.op_years[s]:
            keys = ix.conc_in.get((s, y), ())
            feed[y] = (ix.conc_in_columns.get((s, y), NO_COLUMNS),
                       np.fromiter((at[k[0]] for k in keys), dtype=np.int64, count=len(keys)))
        for e, o in b.net.outputs[s]:
            rec = data.recoveries[(s, e)]
            for y in b.net.op_years[s]:
                out = [m.oxide[k] for k in ix.oxide_out.get((s, e, o, y), ())]
                out += [m.sell_oxide[k] for k in ix.sell_oxide_by.get((s, e, o, y), ())]
                conc, mine = feed[y]
                maps = np.array([maps_to(b, s, "clean", o), maps_to(b, s, "tainted", o)])
                becomes_o = maps[tainted[mine]]  # whether each mine's feed becomes o
                rows[(s, e, o, y)] = balance_columns(
                    np.asarray(out, dtype=np.int64), conc[becomes_o],
                    rec * share[mine[becomes_o], element[e]])
    add_constraints(b, "separation_balance", rows)


def metal_balance(b: Build) -> None:
    r"""Metal out of a metal plant is the recovered metal of the oxide it received or bought.

    .. math::

        \sum_l metal_{t,l,e,o,y} + sell^{metal}_{t,e,o,y} =
        recovery_{t,e}\, mpo_e \Big(\sum_{s, o' \mapsto o} oxide_{s,t,e,o',y}
        + \sum_{b: oxide\ e,\ prov(b) \mapsto o} buy_{b,t,y}\Big)
    """
    m, ix, data = b.m, b.ix, b.data
    rows = {}
    for t in data.stage("metal"):
        for e, o in b.net.outputs[t]:
            factor = data.recoveries[(t, e)] * data.metal_per_oxide[e]
            for y in b.net.op_years[t]:
                out = [(1.0, v) for v in metal_out_vars(b, t, e, o, y)]
                received = [(factor, m.oxide[k]) for oi in ("clean", "tainted")
                            if maps_to(b, t, oi, o) for k in ix.oxide_in.get((t, e, oi, y), ())]
                received += [(factor * c, v) for c, v in bought_terms(b, t, e, o, y)]
                rows[(t, e, o, y)] = balance(out, received)
    add_constraints(b, "metal_balance", rows)


def magnet_balance(b: Build) -> None:
    r"""Metal in the magnets a line makes is its yield times the metal it received or bought.

    .. math::

        \sum_k kg\_per\_kg_{k,e}\, make_{l,k,o,y} =
        yield_l \Big(\sum_{t, o' \mapsto o} metal_{t,l,e,o',y}
        + \sum_{b: metal\ e,\ prov(b) \mapsto o} buy_{b,l,y}\Big)
    """
    m, ix, data = b.m, b.ix, b.data
    rows = {}
    for ln in data.stage("magnet"):
        yld = data.facilities[ln].yield_
        for y in b.net.op_years[ln]:
            made: dict[tuple[str, str], Terms] = {}
            for k in ix.make_by_line.get((ln, y), ()):
                for e, kg in data.grades[k[1]].items():
                    if kg > 0:
                        made.setdefault((e, k[2]), []).append((kg, m.make[k]))
            for e in data.elements:
                for o in ("clean", "tainted"):
                    received = [(yld, m.metal[k]) for oi in ("clean", "tainted")
                                if maps_to(b, ln, oi, o)
                                for k in ix.metal_in.get((ln, e, oi, y), ())]
                    received += [(yld * c, v) for c, v in bought_terms(b, ln, e, o, y)]
                    rows[(ln, e, o, y)] = balance(made.get((e, o), []), received)
    add_constraints(b, "magnet_balance", rows)


def magnet_use(b: Build) -> None:
    r"""Every magnet made is delivered to a program (clean only) or sold.

    .. math::

        \sum_{p: grade_p = k} deliver_{l,p,y} + sell^{magnet}_{l,k,clean,y}
        = make_{l,k,clean,y}, \qquad
        sell^{magnet}_{l,k,tainted,y} = make_{l,k,tainted,y}
    """
    m, ix, data = b.m, b.ix, b.data
    rows = {}
    for key in m.make_index:
        ln, k, o, y = key
        used = [(1.0, m.sell_magnet[key])]
        if o == "clean":
            used += [(1.0, m.deliver[d]) for d in ix.deliver_by_line.get((ln, y), ())
                     if data.programs[d[1]].grade == k]
        rows[key] = balance(used, [(1.0, m.make[key])])
    add_constraints(b, "magnet_use", rows)
