"""Element balances with provenance: what comes out of a plant is what went in, less losses.

They are equalities (no free disposal), so that balances close (docs/formulation.md): with
``<=`` a plant could take in material it never uses, even while unbuilt, and so pass a loss on
to a facility that may be supported.
"""

from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint, Expression, NonNegativeReals, Set, Var

from optimize.model.capacity import metal_out_vars
from optimize.model.network import METAL_POOL, OXIDE_POOL

PROVENANCES = ("clean", "tainted")


def declare(m: ConcreteModel) -> None:
    """Declare the flow variables (t/yr) over their sparse index sets."""
    ix = m.ix
    flows = (
        ("conc", "conc_arcs", ix.conc, "concentrate (t TREO) from mine m to plant s"),
        ("stream", "stream_arcs", ix.stream, "t TREO of mine m's concentrate at plant s whose "
                                             "unrecovered part s passes on to plant r"),
        ("oxide", "oxide_arcs", ix.oxide, "oxide of e, provenance o, from s to t"),
        ("metal", "metal_arcs", ix.metal, "metal of e, provenance o, from t to line l"),
        ("sell_oxide", "oxide_sales", ix.sell_oxide, "oxide sold to the market"),
        ("sell_metal", "metal_sales", ix.sell_metal, "metal sold to the market"),
        ("buy", "purchases", ix.buy, "bought from offer b by facility f"),
        ("make", "makes", ix.make, "magnets of grade k, provenance o, made by line l"),
        ("sell_magnet", "makes", None, "magnets sold to the market"),
    )
    for var, index, keys, doc in flows:
        if keys is not None:
            m.add_component(index, Set(initialize=keys, dimen=len(keys[0]) if keys else None,
                                       ordered=True))
        m.add_component(var, Var(m.component(index), domain=NonNegativeReals, doc=doc))
    terms = ix.passed
    m.passed_keys = Set(initialize=list(terms), dimen=5, ordered=True,
                        doc="(s, r, e, o, y): element e of provenance o passed from s to r")
    m.passed = Expression(m.passed_keys, rule=lambda m, *k: sum(c * m.stream[v]
                                                                for c, v in terms[k]),
                          doc="oxide of e (t) in the stream from plant s to plant r")


def maps_to(m: ConcreteModel, f: str, provenance_in: str, provenance_out: str) -> bool:
    """Return whether input of ``provenance_in`` at ``f`` can become output of ``provenance_out``.

    A facility in a covered country taints everything it puts out; elsewhere clean and
    tainted batches are kept apart (chain of custody).
    """
    if m.data.facilities[f].covered:
        return provenance_out == "tainted"
    return provenance_in == provenance_out


def bought(m: ConcreteModel, f: str, e: str, o: str, y: int) -> list:
    """Return purchases of element ``e`` by ``f`` in ``y`` whose provenance maps to ``o``."""
    offers = m.data.offers
    return [m.buy[k] for k in m.ix.buy_in.get((f, y), ())
            if offers[(k[0], y)].item == e and maps_to(m, f, offers[(k[0], y)].provenance, o)]


def _equal(lhs: list, rhs: list) -> object:
    """Return ``sum(lhs) == sum(rhs)``, or Skip when neither side has a variable."""
    if not lhs and not rhs:
        return Constraint.Skip
    return sum(lhs) == sum(rhs)


def pool_balance(m: ConcreteModel) -> None:
    r"""What enters a market pool leaves it, per commodity, element, provenance and year.

    Oxide from separation plants and metal from metal plants go through one pool per
    element and provenance (``oxide-pool``, ``metal-pool``) unless links.csv ties a plant to
    its targets; the pool keeps provenance, so chain of custody holds.

    .. math::

        \sum_s oxide_{s,pool,e,o,y} = \sum_t oxide_{pool,t,e,o,y}, \qquad
        \sum_t metal_{t,pool,e,o,y} = \sum_l metal_{pool,l,e,o,y}
    """
    ix = m.ix
    pools = {"oxide": (OXIDE_POOL, ix.oxide_out, ix.oxide_in, m.oxide),
             "metal": (METAL_POOL, ix.metal_out, ix.metal_in, m.metal)}
    index = [(c, *k) for c, (pool, out, into, _) in pools.items()
             for k in sorted({k[1:] for k in [*out, *into] if k[0] == pool})]

    def rule(m: ConcreteModel, commodity: str, e: str, o: str, y: int) -> object:
        pool, out, into, var = pools[commodity]
        return _equal([var[k] for k in out.get((pool, e, o, y), ())],
                      [var[k] for k in into.get((pool, e, o, y), ())])

    m.pool_balance = Constraint(index, rule=rule)


def separation_balance(m: ConcreteModel) -> None:
    r"""Oxide out of a separation plant is the recovered oxide of its feed.

    Per element e and provenance o; ``prov(m)`` is tainted for a mine in a covered country
    and ``maps`` is as in :func:`maps_to`. The feed is the concentrate of mines and the
    streams passed on by other plants (``stream_split``), each element of a stream in the
    provenance it left its plant with.

    .. math::

        \sum_t oxide_{s,t,e,o,y} + sell^{oxide}_{s,e,o,y} =
        recovery_{s,e} \Big(\sum_{m: prov(m) \mapsto o} share_{m,e}\, conc_{m,s,y}
        + \sum_{q, o': o' \mapsto o} passed_{q,s,e,o',y}\Big)
    """
    data, ix, net = m.data, m.ix, m.net
    index = [(s, e, o, y) for s in data.stage("separation") for e, o in net.outputs[s]
             for y in net.op_years[s]]
    feeds: dict[tuple[str, str, int], list] = {}  # (s, o, y): (mine, conc) whose feed becomes o

    def feed(s: str, o: str, y: int) -> list:
        key = (s, o, y)
        if key not in feeds:
            becomes_o = {p for p in PROVENANCES if maps_to(m, s, p, o)}
            feeds[key] = [(k[0], m.conc[k]) for k in ix.conc_in.get((s, y), ())
                          if net.mine_provenance[k[0]] in becomes_o]
        return feeds[key]

    def rule(m: ConcreteModel, s: str, e: str, o: str, y: int) -> object:
        out = [m.oxide[k] for k in ix.oxide_out.get((s, e, o, y), ())]
        out += [m.sell_oxide[k] for k in ix.sell_oxide_by.get((s, e, o, y), ())]
        rec = data.recoveries[(s, e)]
        recovered = [rec * share * conc for mine, conc in feed(s, o, y)
                     if (share := data.assays.get((mine, e), 0.0)) * rec != 0]
        recovered += [rec * m.passed[k] for k in ix.passed_into.get((s, y), ())
                      if k[2] == e and maps_to(m, s, k[3], o)]
        return _equal(out, recovered)

    m.separation_balance = Constraint(index, rule=rule)


def stream_split(m: ConcreteModel) -> None:
    r"""What a separation plant passes on is the unrecovered part of the concentrate it took in.

    A plant ``s`` with rows in streams.csv may pass what it does not recover of the listed
    elements (its heavy fraction, say) to another separation plant ``r`` as a mixed
    concentrate. ``stream[m,s,r,y]`` is the t TREO of mine ``m``'s concentrate fed to ``s``
    whose unrecovered part goes on to ``r``: at most what ``m`` fed to ``s``. Indexing by
    the mine keeps each mine's assay, so the stream's composition stays linear and its
    provenance is the mine's, tainted if ``s`` is in a covered country (and at ``r`` as in
    :func:`maps_to`). Element ``e`` passed on (t oxide, the Expression ``passed``) is
    ``share_{m,e} (1 - recovery_{s,e}) yield_{s,r,e}`` of it; ``r`` separates it with its
    own recoveries (``separation_balance``) and its feed capacity counts it
    (``separation_capacity``). A plant that receives a stream passes none on (validation),
    so streams have no chains or cycles. No row without streams.csv.

    .. math::

        \sum_r stream_{m,s,r,y} \le conc_{m,s,y}, \qquad
        passed_{s,r,e,o,y} = \sum_{m: prov_s(m) = o} share_{m,e}
        (1 - recovery_{s,e})\, yield_{s,r,e}\, stream_{m,s,r,y}
    """
    groups = m.ix.stream_from
    m.stream_split = Constraint(
        list(groups), rule=lambda m, mi, s, y: sum(m.stream[k] for k in groups[mi, s, y])
        <= m.conc[mi, s, y])


def metal_balance(m: ConcreteModel) -> None:
    r"""Metal out of a metal plant is the recovered metal of the oxide it received or bought.

    .. math::

        \sum_l metal_{t,l,e,o,y} + sell^{metal}_{t,e,o,y} =
        recovery_{t,e}\, mpo_e \Big(\sum_{s, o' \mapsto o} oxide_{s,t,e,o',y}
        + \sum_{b: oxide\ e,\ prov(b) \mapsto o} buy_{b,t,y}\Big)
    """
    data, ix, net = m.data, m.ix, m.net
    index = [(t, e, o, y) for t in data.stage("metal") for e, o in net.outputs[t]
             for y in net.op_years[t]]

    def rule(m: ConcreteModel, t: str, e: str, o: str, y: int) -> object:
        factor = data.recoveries[(t, e)] * data.metal_per_oxide[e]
        received = [m.oxide[k] for oi in PROVENANCES if maps_to(m, t, oi, o)
                    for k in ix.oxide_in.get((t, e, oi, y), ())]
        received += bought(m, t, e, o, y)
        return _equal(metal_out_vars(m, t, e, o, y), [factor * v for v in received])

    m.metal_balance = Constraint(index, rule=rule)


def magnet_balance(m: ConcreteModel) -> None:
    r"""Metal in the magnets a line makes is its yield times the metal it received or bought.

    .. math::

        \sum_k kg\_per\_kg_{k,e}\, make_{l,k,o,y} =
        yield_l \Big(\sum_{t, o' \mapsto o} metal_{t,l,e,o',y}
        + \sum_{b: metal\ e,\ prov(b) \mapsto o} buy_{b,l,y}\Big)
    """
    data, ix, net = m.data, m.ix, m.net
    index = [(ln, e, o, y) for ln in data.stage("magnet") for y in net.op_years[ln]
             for e in data.elements for o in PROVENANCES]

    def rule(m: ConcreteModel, ln: str, e: str, o: str, y: int) -> object:
        made = [kg * m.make[k] for k in ix.make_by_line.get((ln, y), ())
                if k[2] == o and (kg := data.grades[k[1]].get(e, 0.0)) > 0]
        received = [m.metal[k] for oi in PROVENANCES if maps_to(m, ln, oi, o)
                    for k in ix.metal_in.get((ln, e, oi, y), ())]
        received += bought(m, ln, e, o, y)
        yld = data.facilities[ln].yield_
        return _equal(made, [yld * v for v in received])

    m.magnet_balance = Constraint(index, rule=rule)


def magnet_use(m: ConcreteModel) -> None:
    r"""Every magnet made is delivered to a program (clean only) or sold.

    .. math::

        \sum_{p: grade_p = k} deliver_{l,p,y} + sell^{magnet}_{l,k,clean,y}
        = make_{l,k,clean,y}, \qquad
        sell^{magnet}_{l,k,tainted,y} = make_{l,k,tainted,y}
    """
    programs, ix = m.data.programs, m.ix

    def rule(m: ConcreteModel, ln: str, k: str, o: str, y: int) -> object:
        delivered = [m.deliver[d] for d in ix.deliver_by_line.get((ln, y), ())
                     if o == "clean" and programs[d[1]].grade == k]
        return sum(delivered) + m.sell_magnet[ln, k, o, y] == m.make[ln, k, o, y]

    m.magnet_use = Constraint(m.makes, rule=rule)
