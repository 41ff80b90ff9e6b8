"""The tidy result tables of a run (docs/formulation.md, Outputs), read from the solved Pyomo model.

Every number is the value of a model variable or of one of its Expressions (``cap``,
``throughput``, ``capex_out``, ``revenue``, ``cost``, ``subsidy``, ...): what the solver
optimised is what the tables report, with nothing computed a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyomo.common.gc_manager import PauseGC
from pyomo.environ import ConcreteModel, value

from optimize.data.modeldata import Facility, ModelData
from optimize.model.finance import salvage_coefficient

#: The commodity of a stream between separation plants in flows.csv (t oxide of each element).
STREAM_COMMODITY = "heavy-concentrate"
#: Values smaller than this (t or MUSD) are solver noise and are written as 0 / left out.
NOISE = 1e-9

COLUMNS = {
    "plan": ["facility", "stage", "country", "status", "fid_year", "first_output_year",
             "full_output_year", "last_output_year", "capacity_t", "capex_musd",
             "public_capex_musd", "earliest_output_year"],
    "capacity": ["facility", "year", "available_t", "used_t"],
    "flows": ["year", "source", "target", "commodity", "item", "provenance", "tonnes"],
    "deliveries": ["program", "year", "demand_t", "delivered_t", "shortfall_t", "buyer",
                   "platform"],
    "finance": ["facility", "year", "capex_outlay_musd", "revenue_musd", "cost_musd",
                "support_musd", "committed_musd"],
    "funding": ["program", "facility", "year", "covers", "musd"],
    "elements": ["year", "element", "demand_t", "delivered_t", "clean_oxide_t", "clean_metal_t"],
    "budgets": ["program", "year", "annual_musd", "total_musd"],
    "locations": ["facility", "latitude", "longitude"],
}


@dataclass
class Tables:
    """The result tables of one run, as pandas DataFrames keyed by file stem."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        """Return the table ``name`` (e.g. ``"plan"``)."""
        return self.frames[name]


def _clean(v: float) -> float:
    return 0.0 if abs(v) < NOISE else float(v)


def _frame(name: str, rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS[name])


def fid_year(m: ConcreteModel, f: str) -> int | None:
    """Return the year ``f`` is funded in the solution, or None."""
    for key in m.ix.fid_by_facility.get(f, ()):
        if (m.fid[key].value or 0.0) > 0.5:
            return int(key[1])
    return None


def output_years(fac: Facility, fid: int | None,
                 end_year: int) -> tuple[int | None, int | None, int | None]:
    """Return (first output year, first year at full capacity, last output year in horizon)."""
    if not fac.candidate:
        first = fac.online_year
        assert first is not None
        return first, first, min(end_year, first + fac.life_years - 1)
    if fid is None:
        return None, None, None
    first = fid + fac.lead_years
    full_after = next((i for i, r in enumerate(fac.ramp) if r >= 1), len(fac.ramp))
    return first, first + full_after, min(end_year, first + fac.life_years - 1)


def earliest_output_year(fac: Facility, start_year: int) -> int | None:
    """Return the first year the facility can give output: online year, or earliest FID + lead."""
    if not fac.candidate:
        return fac.online_year
    assert fac.earliest_fid is not None
    return max(fac.earliest_fid, start_year) + fac.lead_years


def plan_table(m: ConcreteModel) -> pd.DataFrame:
    """Return one row per facility: existing ones, funded candidates (with FID) and the rest.

    ``earliest_output_year`` is when an unfunded candidate could give output at the soonest
    (its earliest FID in the horizon plus its lead time), so the report can show the chain
    around the plan.
    """
    data = m.data
    rows = []
    for f, fac in data.facilities.items():
        fid = fid_year(m, f)
        first, full, last = output_years(fac, fid, data.end_year)
        public = fac.public_share * fac.capex_musd if fid is not None else 0.0
        rows.append((f, fac.stage, fac.country, fac.status, fid, first, full, last,
                     fac.capacity_t, fac.capex_musd if fac.candidate else 0.0, public,
                     earliest_output_year(fac, data.start_year)))
    df = _frame("plan", rows)
    for col in ("fid_year", "first_output_year", "full_output_year", "last_output_year",
                "earliest_output_year"):
        df[col] = df[col].astype("Int64")
    return df


#: The values of the model's Expressions at the plan, ``{(name, key): value}``, when the
#: solver interface has them at hand (``HighsModel.expression_values``); otherwise each is
#: evaluated from the variables (``Evaluate``).
ExpressionValues = Mapping[tuple[str, Any], float]


class Evaluate:
    """The value of an Expression of the solved model: ``of("revenue", (f, y))``."""

    def __init__(self, m: ConcreteModel, values: ExpressionValues | None = None) -> None:
        self.m, self.values = m, values

    def of(self, name: str, key: Any) -> float:
        """Return the value of ``m.<name>[key]`` at the plan."""
        if self.values is not None:
            return self.values[name, key]
        return float(value(self.m.component(name)[key]))


def capacity_table(m: ConcreteModel, ev: Evaluate) -> pd.DataFrame:
    """Return available and used capacity per facility and year (rows with either nonzero)."""
    rows = []
    for f, y in m.facility_years:
        available = _clean(ev.of("cap", (f, y)))
        used = _clean(ev.of("throughput", (f, y))) if (f, y) in m.throughput else 0.0
        if available or used:
            rows.append((f, y, available, used))
    return _frame("capacity", rows)


def _values(var: Any) -> np.ndarray:
    """Return the solution values of an indexed variable, in key order."""
    return np.fromiter((v.value for v in var.values()), dtype=np.float64, count=len(var))


def flows_table(m: ConcreteModel) -> pd.DataFrame:
    """Return every nonzero flow: concentrate, streams, oxide, metal, magnets, purchases, sales.

    A stream between separation plants (``passed``) is a row per element, commodity
    ``heavy-concentrate``, in t of the element's oxide.
    """
    data, net = m.data, m.net
    rows: list[tuple[Any, ...]] = []

    def add(var: Any, make_row: Any) -> None:
        values = _values(var)
        flowing = np.flatnonzero(values > NOISE)
        if len(flowing):
            keys = list(var.keys())
            rows.extend((*make_row(*keys[i]), float(values[i])) for i in flowing)

    def bought(bb: str, f: str, y: int) -> tuple[Any, ...]:
        of = data.offers[(bb, y)]
        return (y, bb, f, of.commodity, of.item, of.provenance)

    add(m.conc, lambda mi, s, y: (y, mi, s, "concentrate", "TREO", net.mine_provenance[mi]))
    rows.extend((y, s, r, STREAM_COMMODITY, e, o, t) for (s, r, e, o, y), p in m.passed.items()
                if (t := float(value(p))) > NOISE)
    add(m.oxide, lambda s, t, e, o, y: (y, s, t, "oxide", e, o))
    add(m.sell_oxide, lambda s, e, o, y: (y, s, "market", "oxide", e, o))
    add(m.buy, bought)
    add(m.metal, lambda t, ln, e, o, y: (y, t, ln, "metal", e, o))
    add(m.sell_metal, lambda t, e, o, y: (y, t, "market", "metal", e, o))
    add(m.deliver, lambda ln, p, y: (y, ln, p, "magnet", data.programs[p].grade, "clean"))
    add(m.sell_magnet, lambda ln, kk, o, y: (y, ln, "market", "magnet", kk, o))
    df = _frame("flows", rows)
    return df.sort_values(COLUMNS["flows"][:-1], kind="stable").reset_index(drop=True)


def deliveries_table(m: ConcreteModel) -> pd.DataFrame:
    """Return demand, clean deliveries and shortfall per program and year it must be China-free."""
    data = m.data
    rows = []
    for p, prog in data.programs.items():
        for y in data.years:
            if y < prog.required_from:
                continue
            demand = value(m.demand_t[p, y]) if (p, y) in m.program_years else 0.0
            delivered = sum(m.deliver[k].value for k in m.ix.deliver_by_program.get((p, y), ()))
            short = m.short[p, y].value if (p, y) in m.program_years else 0.0
            rows.append((p, y, demand, _clean(delivered), _clean(short), prog.buyer,
                         prog.platform))
    return _frame("deliveries", rows)


def committed_payments(m: ConcreteModel) -> dict[tuple[str, str, int], float]:
    """Return what deals in force pay, ``{(program, facility, year): MUSD}`` (undiscounted).

    Floors as the plan's sales make them (``floor_paid``), grants as committed.
    """
    data = m.data
    deals = {d.name: d for d in data.deals}
    out: dict[tuple[str, str, int], float] = {}
    for (d, y), var in m.floor_paid.items():
        if (var.value or 0.0) > NOISE:
            key = (deals[d].program, deals[d].facility, y)
            out[key] = out.get(key, 0.0) + float(var.value)
    for deal in data.deals:
        if deal.kind == "grant" and deal.musd > 0:
            for y in data.years:
                if deal.pays_in(y):
                    key = (deal.program, deal.facility, y)
                    out[key] = out.get(key, 0.0) + deal.musd
    return out


def finance_table(m: ConcreteModel, ev: Evaluate) -> pd.DataFrame:
    """Return capex outlay, revenue, cost, support and committed subsidy per facility and year.

    MUSD. ``support_musd`` is the new operating support the plan decides;
    ``committed_musd`` what deals in force pay the facility (floors and grants).
    """
    data = m.data
    committed: dict[tuple[str, int], float] = {}
    for (_g, f, y), musd in committed_payments(m).items():
        committed[(f, y)] = committed.get((f, y), 0.0) + musd
    rows = []
    for f in data.facilities:
        for y in data.years:
            capex = _clean(ev.of("capex_out", (f, y))) if (f, y) in m.capex_out else 0.0
            operating = (f, y) in m.facility_years
            revenue = _clean(ev.of("revenue", (f, y))) if operating else 0.0
            cost = _clean(ev.of("cost", (f, y))) if operating else 0.0
            sup = _clean(m.support[f, y].value) if (f, y) in m.support_years else 0.0
            paid = _clean(committed.get((f, y), 0.0))
            if capex or revenue or cost or sup or paid:
                rows.append((f, y, capex, revenue, cost, sup, paid))
    return _frame("finance", rows)


def funding_table(m: ConcreteModel) -> pd.DataFrame:
    """Return what each funding program paid to each facility, year and kind of cost.

    ``covers`` is ``capex`` or ``operating`` for the new subsidy the plan decides, and
    ``committed`` for what deals in force pay.
    """
    values = _values(m.fund)
    rows = [(*key, float(v)) for key, v in zip(m.fund.keys(), values, strict=True)
            if v > NOISE]
    rows += [(g, f, y, "committed", musd) for (g, f, y), musd in committed_payments(m).items()]
    return _frame("funding", rows)


def elements_table(m: ConcreteModel, deliveries: pd.DataFrame, flows: pd.DataFrame) -> pd.DataFrame:
    """Return per element and year the clean supply against what programs need.

    ``demand_t`` and ``delivered_t`` are the metal contained in the magnets programs need and
    get; ``clean_oxide_t`` and ``clean_metal_t`` what the allied chain separates and makes.
    """
    data = m.data
    content = pd.DataFrame(
        [(p, e, kg) for p, prog in data.programs.items()
         for e, kg in data.grades[prog.grade].items()], columns=["program", "element", "kg"])
    needed = deliveries.merge(content, on="program")
    needed = needed.assign(demand_t=needed.demand_t * needed.kg,
                           delivered_t=needed.delivered_t * needed.kg)
    by = needed.groupby(["year", "element"])[["demand_t", "delivered_t"]].sum()
    clean = flows[flows.provenance == "clean"]
    for column, commodity, stage in (("clean_oxide_t", "oxide", "separation"),
                                     ("clean_metal_t", "metal", "metal")):
        made = clean[(clean.commodity == commodity) & clean.source.isin(data.stage(stage))]
        by = by.join(made.groupby(["year", "item"]).tonnes.sum().rename(column)
                     .rename_axis(["year", "element"]), how="outer")
    grid = pd.MultiIndex.from_product([list(data.years), list(data.elements)],
                                      names=["year", "element"])
    table = by.reindex(grid).fillna(0.0).reset_index()[COLUMNS["elements"]]
    values = COLUMNS["elements"][2:]
    table[values] = table[values].map(_clean)
    return table[(table[values] != 0).any(axis=1)].reset_index(drop=True)


def budgets_table(data: ModelData) -> pd.DataFrame:
    """Return each funding program's annual budget in the horizon years it pays."""
    rows = [(g, y, prog.annual_musd, prog.total_musd)
            for g, prog in (data.funding or {}).items() for y in data.years
            if prog.first_year <= y <= prog.last_year]
    return _frame("budgets", rows)


def locations_table(data: ModelData) -> pd.DataFrame:
    """Return where each facility with a location is (inputs' locations.csv), for the map."""
    return _frame("locations", [(f, lat, lon) for f, (lat, lon) in data.locations.items()])


def assumptions(data: ModelData) -> dict[str, Any]:
    """Return the key assumptions of a run, for the summary and the report."""
    return {
        "horizon": [data.start_year, data.end_year],
        "discount_rate": data.discount_rate,
        "currency_year": data.currency_year,
        "covered_countries": sorted(data.covered_countries),
        "penalty_usd_per_kg": {p: prog.penalty_usd_per_kg for p, prog in data.programs.items()},
        "buyer": {p: prog.buyer for p, prog in data.programs.items()},
        "funding_programs": None if data.funding is None else {
            g: {"countries": sorted(prog.countries), "stages": sorted(prog.stages),
                "covers": list(prog.covers), "years": [prog.first_year, prog.last_year],
                "annual_musd": prog.annual_musd, "total_musd": prog.total_musd}
            for g, prog in data.funding.items()},
    }


def salvage_musd(m: ConcreteModel) -> float:
    """Return the salvage credited in the objective (discounted to start_year, MUSD)."""
    data = m.data
    return sum(data.discount(data.end_year) * salvage_coefficient(data, f, y)
               for f, y in m.fid_years if (m.fid[f, y].value or 0.0) > 0.5)


def extract(m: ConcreteModel, values: ExpressionValues | None = None) -> Tables:
    """Return every result table of a solved model.

    ``values`` are its Expressions' values at the plan where the solver interface has them
    (``HighsModel.expression_values``); without them each is evaluated from the variables.
    """
    with PauseGC():  # no collector passes over the model's objects while reading them
        return _extract(m, Evaluate(m, values))


def _extract(m: ConcreteModel, ev: Evaluate) -> Tables:
    deliveries, flows = deliveries_table(m), flows_table(m)
    return Tables({
        "plan": plan_table(m),
        "capacity": capacity_table(m, ev),
        "flows": flows,
        "deliveries": deliveries,
        "finance": finance_table(m, ev),
        "funding": funding_table(m),
        "elements": elements_table(m, deliveries, flows),
        "budgets": budgets_table(m.data),
        "locations": locations_table(m.data),
    })


def first_full_year(deliveries: pd.DataFrame, program: str, tolerance: float = 1e-6) -> int | None:
    """Return the first year from which the program is fully covered every year, or None."""
    d = deliveries[deliveries.program == program].sort_values("year")
    covered = (d.shortfall_t <= tolerance * d.demand_t.clip(lower=1.0)).tolist()
    years = d.year.tolist()
    first = None
    for y, ok in zip(years, covered, strict=True):
        if not ok:
            first = None
        elif first is None:
            first = y
    return int(first) if first is not None else None


def all_covered_from(first_years: dict[str, int | None]) -> int | None:
    """Return the year from which every one of these programs is fully covered, or None.

    None too when there are none: the headline is about US defense programs, and a run
    without them has no such year.
    """
    years = list(first_years.values())
    if not years or any(y is None for y in years):
        return None
    return max(y for y in years if y is not None)


def coverage(deliveries: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """Return delivered / demand per program and year (None where demand is 0)."""
    out: dict[str, dict[str, float | None]] = {}
    for r in deliveries.itertuples():
        share = r.delivered_t / r.demand_t if r.demand_t > 0 else None
        out.setdefault(r.program, {})[str(r.year)] = share
    return out


def summary_numbers(m: ConcreteModel, tables: Tables, data: ModelData) -> dict[str, Any]:
    """Return the plan-derived fields of summary.json."""
    d = tables["deliveries"]
    plan = tables["plan"]
    funded = plan[plan.fid_year.notna()]
    fund = tables["funding"]
    new = fund[fund.covers != "committed"]
    return {
        "subsidy_npv_musd": _clean(value(m.subsidy)),
        "penalty_npv_musd": _clean(value(m.penalty)),
        "penalty_npv_if_none_musd": sum(value(m.penalty_musd_per_t[k]) * value(m.demand_t[k])
                                        for k in m.program_years),
        "salvage_musd": salvage_musd(m),
        "shortfall_t": {p: float(d[d.program == p].shortfall_t.sum()) for p in data.programs},
        "coverage": coverage(d),
        "first_full_coverage_year": {p: first_full_year(d, p) for p in data.programs},
        "us_defense_first_full_coverage_year": all_covered_from(
            {p: first_full_year(d, p) for p, prog in data.programs.items()
             if prog.buyer == "us-defense"}),
        "funded": [{"facility": r.facility, "fid_year": int(r.fid_year),
                    "first_output_year": int(r.first_output_year)}
                   for r in funded.itertuples()],
        "assumptions": assumptions(data),
        "paid_by_funding_program_musd": {
            g: float(new[new.program == g].musd.sum()) for g in (data.funding or {})
        },
        **committed_numbers(m, fund),
    }


def committed_numbers(m: ConcreteModel, fund: pd.DataFrame) -> dict[str, Any]:
    """Return summary.json's committed subsidy: its NPV and what each program pays, if any.

    Only for inputs with deals in force, so that other runs' summaries are as they were.
    """
    data = m.data
    if not data.deals:
        return {}
    committed = fund[fund.covers == "committed"]
    payers = sorted({d.program for d in data.deals})
    return {
        "committed_npv_musd": _clean(float(sum(data.discount(r.year) * r.musd
                                               for r in committed.itertuples()))),
        "committed_by_funding_program_musd": {
            g: float(committed[committed.program == g].musd.sum()) for g in payers},
    }
