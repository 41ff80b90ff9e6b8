"""Investment decisions: when each candidate is funded, built and operating."""

from __future__ import annotations

from optimize.model.context import Build, Terms, add_constraints, at_most


def operating_terms(b: Build, f: str, y: int) -> Terms:
    """Return ``on[f,y]`` for a candidate: FIDs whose plant is in its operating life in ``y``."""
    fac = b.data.facilities[f]
    return [(1.0, b.m.fid[f, t]) for _, t in b.ix.fid_by_facility.get(f, ())
            if 0 <= y - t - fac.lead_years < fac.life_years]


def capacity_terms(b: Build, f: str, y: int) -> tuple[Terms, float]:
    """Return ``cap[f,y]`` in t/yr as (terms in fid, constant)."""
    fac = b.data.facilities[f]
    if not fac.candidate:
        on = fac.existing_in_service(y)
        return [], fac.capacity_t * fac.available_share if on else 0.0
    terms = [(fac.capacity_t * fac.ramp_share(y - t - fac.lead_years), b.m.fid[f, t])
             for _, t in b.ix.fid_by_facility.get(f, ())]
    return [(c, v) for c, v in terms if c > 0], 0.0


def capex_terms(b: Build, f: str, y: int) -> Terms:
    """Return ``capex_out[f,y] = public_share * capex / lead * building[f,y]`` in MUSD."""
    fac = b.data.facilities[f]
    per_year = fac.public_share * fac.capex_musd / fac.lead_years
    return [(per_year, b.m.fid[f, t]) for _, t in b.ix.fid_by_facility.get(f, ())
            if t <= y < t + fac.lead_years]


def fund_at_most_once(b: Build) -> None:
    r"""Each candidate is funded at most once.

    .. math::

        \sum_y fid_{f,y} \le 1 \qquad \forall f \in \text{candidates}
    """
    add_constraints(b, "fund_at_most_once", {
        f: at_most([(1.0, b.m.fid[k]) for k in keys], [], 1.0)
        for f, keys in b.ix.fid_by_facility.items()
    })


def phase_order(b: Build) -> None:
    r"""A facility that requires another is not funded before it (phase 2 after phase 1).

    A candidate that requires an existing facility is unconstrained.

    .. math::

        \sum_{\tau \le y} fid_{f,\tau} \le \sum_{\tau \le y} fid_{q,\tau}
        \qquad \forall f, y \text{ with } requires_f = q
    """
    rows = {}
    for f, fac in b.data.facilities.items():
        q = fac.requires
        if not fac.candidate or q is None or not b.data.facilities[q].candidate:
            continue
        for _, y in b.ix.fid_by_facility.get(f, ()):
            mine = [(1.0, b.m.fid[f, t]) for _, t in b.ix.fid_by_facility[f] if t <= y]
            theirs = [(1.0, b.m.fid[q, t]) for _, t in b.ix.fid_by_facility.get(q, ()) if t <= y]
            rows[(f, y)] = at_most(mine, theirs)
    add_constraints(b, "phase_order", rows)
