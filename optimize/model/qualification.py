"""Defense qualification of magnet lines: when a line's magnets may go to defense programs."""

from __future__ import annotations

from pyomo.environ import ConcreteModel, Constraint

from optimize.data.modeldata import Facility, ModelData


def first_defense_year(f: Facility, data: ModelData) -> int:
    """Return the first year line ``f`` can be qualified for defense programs.

    ``qualification_years`` after its first possible output: ``online_year`` for an existing
    or committed line, the earliest FID plus lead for a candidate. The index has no
    ``deliver`` to a defense program before it (``qualified_delivery`` bounds the rest).
    """
    if f.candidate:
        assert f.earliest_fid is not None
        return max(f.earliest_fid, data.start_year) + f.lead_years + f.qualification_years
    assert f.online_year is not None
    return f.online_year + f.qualification_years


def qualified_delivery(m: ConcreteModel) -> None:
    r"""A candidate line serves defense programs only after its qualification years.

    A line with ``qualification_years`` ``q`` may deliver to programs whose buyer is
    defense (``us-defense``, ``allied-defense``) only from ``q`` years after its first
    output; before that its magnets go to commercial programs or the market. An existing or
    committed line has no ``deliver`` to defense programs before ``online_year + q``. Only
    candidate lines with ``q > 0`` have rows.

    .. math::

        \sum_{p \in defense} deliver_{l,p,y} \le
        \sum_{\tau \le y - lead_l - q_l} capacity_l\, ramp_l(y - \tau - lead_l)\, fid_{l,\tau}
    """
    data, ix = m.data, m.ix
    fac, programs = data.facilities, data.programs
    rows: dict[tuple[str, int], list] = {}
    for ln, y in ix.deliver_by_line:
        c = fac[ln]
        if c.candidate and c.qualification_years > 0:
            keys = [k for k in ix.deliver_by_line[ln, y] if programs[k[1]].defense]
            if keys:
                rows[ln, y] = keys

    def rule(m: ConcreteModel, ln: str, y: int) -> object:
        c = fac[ln]
        qualified = [(c.capacity_t * c.ramp_share(y - t - c.lead_years), t)
                     for _, t in ix.fid_by_facility.get(ln, ())
                     if y - t - c.lead_years >= c.qualification_years]
        return sum(m.deliver[k] for k in rows[ln, y]) <= sum(
            share * m.fid[ln, t] for share, t in qualified if share > 0)

    m.qualified_delivery = Constraint(list(rows), rule=rule)
