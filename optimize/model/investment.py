"""Investment decisions: when each candidate is funded, built and operating."""

from __future__ import annotations

from pyomo.environ import Binary, ConcreteModel, Constraint, Expression, Set, Var


def declare(m: ConcreteModel) -> None:
    """Declare ``fid`` over the candidates' FID years and the expressions derived from it.

    - ``on[f,y]``: FIDs of candidate ``f`` whose plant is in its operating life in ``y``;
    - ``cap[f,y]``: available capacity in t/yr (existing: ``capacity * available_share``
      while in service; committed: also times ``ramp(y - online_year)``; candidate:
      ``capacity * ramp(y - tau - lead) * fid[f,tau]``);
    - ``capex_out[f,y]``: public capex paid in ``y``, ``public_share * capex / lead`` for
      each FID whose plant is being built in ``y``.
    """
    data, net, ix = m.data, m.net, m.ix
    fac = data.facilities
    m.fid_years = Set(initialize=ix.fid, dimen=2, ordered=True,
                      doc="(candidate, year) in which a FID may be taken")
    m.fid = Var(m.fid_years, domain=Binary, doc="1 if candidate f takes its FID in year y")
    m.facility_years = Set(initialize=[(f, y) for f in fac for y in net.op_years[f]],
                           dimen=2, ordered=True, doc="(facility, year) it can operate in")

    def fids(f: str) -> list[int]:
        return [t for _, t in ix.fid_by_facility.get(f, ())]

    def on(m: ConcreteModel, f: str, y: int) -> object:
        c = fac[f]
        return sum(m.fid[f, t] for t in fids(f) if 0 <= y - t - c.lead_years < c.life_years)

    m.on = Expression([(f, y) for f, y in m.facility_years if fac[f].candidate], rule=on,
                      doc="FIDs of f whose plant is in its operating life in y")

    def cap(m: ConcreteModel, f: str, y: int) -> object:
        c = fac[f]
        if not c.candidate:
            return c.existing_capacity(y)
        terms = ((c.capacity_t * c.ramp_share(y - t - c.lead_years), t) for t in fids(f))
        return sum(share * m.fid[f, t] for share, t in terms if share > 0)

    m.cap = Expression(m.facility_years, rule=cap, doc="available capacity (t/yr)")

    def building(f: str, y: int) -> list[int]:
        return [t for t in fids(f) if t <= y < t + fac[f].lead_years]

    def capex_out(m: ConcreteModel, f: str, y: int) -> object:
        c = fac[f]
        return sum(c.public_share * c.capex_musd / c.lead_years * m.fid[f, t]
                   for t in building(f, y))

    m.capex_out = Expression([(f, y) for f in ix.fid_by_facility for y in data.years
                              if building(f, y)], rule=capex_out,
                             doc="public capex outlay (MUSD)")


def fund_at_most_once(m: ConcreteModel) -> None:
    r"""Each candidate is funded at most once.

    .. math::

        \sum_y fid_{f,y} \le 1 \qquad \forall f \in \text{candidates}
    """
    keys = m.ix.fid_by_facility
    m.fund_at_most_once = Constraint(
        list(keys), rule=lambda m, f: sum(m.fid[k] for k in keys[f]) <= 1)


def phase_order(m: ConcreteModel) -> None:
    r"""A facility that requires another is not funded before it (phase 2 after phase 1).

    A candidate that requires an existing facility is unconstrained.

    .. math::

        \sum_{\tau \le y} fid_{f,\tau} \le \sum_{\tau \le y} fid_{q,\tau}
        \qquad \forall f, y \text{ with } requires_f = q
    """
    fac, keys = m.data.facilities, m.ix.fid_by_facility
    index = [(f, y) for f, c in fac.items()
             if c.candidate and c.requires is not None and fac[c.requires].candidate
             for _, y in keys.get(f, ())]

    def rule(m: ConcreteModel, f: str, y: int) -> object:
        q = fac[f].requires
        return (sum(m.fid[f, t] for _, t in keys[f] if t <= y)
                <= sum(m.fid[q, t] for _, t in keys.get(q, ()) if t <= y))

    m.phase_order = Constraint(index, rule=rule)


def project_decisions(m: ConcreteModel) -> None:
    r"""The analyst's decisions (a scenario's ``[[decision]]``) hold.

    A project forced to be funded by year Y takes its FID in Y or before (``fund_by``), one
    forced to a year takes it in that year (``fid_year``), a forbidden one never (``never``).
    One row per decision; none without decisions. Validation keeps each Y among the
    candidate's FID years, so the forced rows are never empty.

    .. math::

        \sum_{\tau \le Y_f} fid_{f,\tau} = 1 \qquad \forall f \text{ with } fund\_by_f = Y_f

        \sum_\tau fid_{f,\tau} = 0 \qquad \forall f \text{ with } never_f

        fid_{f,Y_f} = 1 \qquad \forall f \text{ with } fid\_year_f = Y_f
    """
    keys = m.ix.fid_by_facility
    decisions = {d.facility: d for d in m.data.decisions}

    def rule(m: ConcreteModel, f: str) -> object:
        d = decisions[f]
        if d.kind == "fid_year":
            return m.fid[f, d.year] == 1
        if d.kind == "fund_by":
            return sum(m.fid[k] for k in keys[f] if k[1] <= d.year) == 1
        return sum(m.fid[k] for k in keys[f]) == 0

    m.project_decisions = Constraint(list(decisions), rule=rule)
