"""The answer in sentences, and the key figures, generated from a run's result tables.

Every number comes from the tables or summary.json; every sentence says what it rests on
in the report's sections below it. Texts are plain: the HTML report escapes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimize.report.figures import ELEMENT_ORDER, POOLS, RunTables, comparison_rows, metric

#: A facility through which more than this share of an element's clean supply passes is a
#: single point of failure.
MOST = 0.5
#: Tonnes below this are rounding: no shortfall, nothing missing.
TOLERANCE_T = 1e-6


@dataclass(frozen=True)
class Figure:
    """A key figure: its value as text, its unit and what it is."""

    value: str
    unit: str
    label: str


def musd(v: float) -> str:
    """Return money as a reader wants it: 1,234 or 12.3 MUSD (without the unit)."""
    return f"{v:,.0f}" if abs(v) >= 10 or v == 0 else f"{v:,.1f}"


def tonnes(v: float) -> str:
    """Return a tonnage: 1,234, 12.3, 0.12 or 0 t (without the unit)."""
    if abs(v) >= 100 or v == 0:
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 1 else f"{v:,.2g}"


def share(v: float) -> str:
    """Return a share as a percentage."""
    return f"{v:.0%}" if v >= 0.01 or v == 0 else f"{v:.1%}"


def listed(parts: list[str]) -> str:
    """Return ``a``, ``a and b`` or ``a, b and c``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def funded(plan: pd.DataFrame) -> pd.DataFrame:
    """Return the funded projects of a plan, by FID year."""
    if plan.empty or "fid_year" not in plan:
        return plan
    return plan[plan.fid_year.notna()].sort_values(["fid_year", "facility"], kind="stable")


# -- a run ----------------------------------------------------------------------------------

def run_answer(run: RunTables) -> list[str]:
    """Return the answer of a run in sentences: what to fund, cost, who pays, coverage, risks."""
    s = run.summary
    if s.get("objective_musd") is None:
        return [f"No plan was found: the solver ended with status {s.get('status')}"
                + (f" ({s['message']})." if s.get("message") else ".")]
    sentences = [what_to_fund(run["plan"]), what_it_costs(s, run["finance"])]
    sentences += [x for x in (who_pays(run["funding"]), coverage(run["deliveries"]),
                              where_the_money_goes(run["finance"], run["plan"]),
                              tightest_element(run["elements"]),
                              single_points_of_failure(run["flows"], run["plan"],
                                                       run["elements"]),
                              largest_shortfall(run)) if x]
    return sentences


def what_to_fund(plan: pd.DataFrame) -> str:
    """Return which projects to fund and when (FID, first and full output, public capex)."""
    rows = funded(plan)
    if rows.empty:
        return "Fund no new project: existing and committed plants carry the plan."
    parts = [f"{r.facility} ({r.stage}, {r.country}): FID {int(r.fid_year)}, first output "
             f"{int(r.first_output_year)}, full output {int(r.full_output_year)}, "
             f"{musd(r.public_capex_musd)} MUSD of public capex" for r in rows.itertuples()]
    if len(parts) == 1:
        return f"Fund {parts[0]}."
    return f"Fund {len(parts)} projects: " + "; ".join(parts) + "."


def what_it_costs(s: dict[str, Any], finance: pd.DataFrame) -> str:
    """Return the subsidy NPV and its undiscounted split into capex and operating support."""
    a = s.get("assumptions") or {}
    start = (a.get("horizon") or [None])[0]
    rate = a.get("discount_rate")
    basis = f" (discounted to {start} at {rate * 100:g}% a year)" if start is not None and \
        rate is not None else ""
    subsidy = s.get("subsidy_npv_musd") or 0.0
    committed = s.get("committed_npv_musd") or 0.0
    already = (f" Deals already in force (price floors, grants) pay {musd(committed)} MUSD NPV "
               "besides, counted against their payers' budgets."
               if committed > 0.05 else "")
    spent = 0.0 if finance.empty else finance.capex_outlay_musd.sum() + finance.support_musd.sum()
    if subsidy == 0 and spent == 0:
        return (f"No {'new ' if already else ''}public money is needed: no project is funded "
                "and no plant loses money at reference prices." + already)
    text = f"{'New public' if already else 'Public'} subsidy: {musd(subsidy)} MUSD NPV{basis}"
    if not finance.empty:
        text += (f"; undiscounted, {musd(finance.capex_outlay_musd.sum())} MUSD of capex and "
                 f"{musd(finance.support_musd.sum())} MUSD of operating support for plants "
                 "that lose money at reference prices")
    return text + "." + already


def who_pays(funding: pd.DataFrame) -> str | None:
    """Return what each funding program pays (undiscounted), largest first."""
    if funding.empty:
        return None
    paid = funding.groupby(["program", "covers"]).musd.sum().unstack(fill_value=0.0)
    paid = paid.assign(total=paid.sum(axis=1)).sort_values("total", ascending=False)
    paid = paid[paid.total > 0.05]
    if paid.empty:
        return None
    parts = []
    for g, r in paid.iterrows():
        split = [f"{musd(r[c])} {c}" + (" under deals in force" if c == "committed" else "")
                 for c in ("capex", "operating", "committed") if c in r and r[c] > 0.05]
        parts.append(f"{g} {musd(r.total)} MUSD" + (f" ({', '.join(split)})" if split else ""))
    return "Who pays (undiscounted): " + listed(parts) + "."


def coverage(deliveries: pd.DataFrame) -> str | None:
    """Return coverage and the first fully covered year per program, US defense first.

    Allied defense and commercial programs (``buyer``) compete for the same supply; they
    get a sentence of their own so that the headline stays about US defense.
    """
    if deliveries.empty:
        return None
    buyer = deliveries.buyer if "buyer" in deliveries else pd.Series("us-defense",
                                                                     deliveries.index)
    us, others = deliveries[buyer == "us-defense"], deliveries[buyer != "us-defense"]
    sentences = [x for x in (program_coverage(us, "US defense program" if not others.empty
                                              else "program"),
                             competing_coverage(others, buyer)) if x]
    return " ".join(sentences) or None


def program_coverage(deliveries: pd.DataFrame, what: str) -> str | None:
    """Return when each program in ``deliveries`` is fully covered, or that all are on time."""
    if deliveries.empty:
        return None
    parts, late = [], []
    for p, d in deliveries.groupby("program", sort=False):
        d = d.sort_values("year")
        first = first_full_year(d)
        mean = d.delivered_t.sum() / d.demand_t.sum() if d.demand_t.sum() > 0 else 1.0
        required = int(d.year.min())
        if first != required:
            late.append(p)
        when = f"fully covered from {first}" if first is not None else "never fully covered"
        parts.append(f"{p} {when} (China-free from {required}; {share(mean)} of its demand "
                     "met)")
    if not late:
        years = sorted({int(d.year.min()) for _, d in deliveries.groupby("program")})
        return (f"Every {what} is fully covered from the year it must be China-free ("
                + listed([str(y) for y in years]) + ").")
    return "Coverage: " + "; ".join(parts) + "."


def competing_coverage(deliveries: pd.DataFrame, buyer: pd.Series) -> str | None:
    """Return the share of demand met for each allied or commercial program."""
    if deliveries.empty:
        return None
    parts = []
    for p, d in deliveries.groupby("program", sort=False):
        mean = d.delivered_t.sum() / d.demand_t.sum() if d.demand_t.sum() > 0 else 1.0
        first = first_full_year(d.sort_values("year"))
        when = f"fully covered from {first}" if first is not None else "never fully covered"
        parts.append(f"{p} ({buyer[d.index[0]]}) {share(mean)} met, {when}")
    return "Competing allied and commercial demand: " + "; ".join(parts) + "."


def first_full_year(d: pd.DataFrame) -> int | None:
    """Return the first year from which a program's rows are covered every year, or None."""
    first = None
    for r in d.itertuples():
        if r.shortfall_t > TOLERANCE_T * max(r.demand_t, 1.0):
            first = None
        elif first is None:
            first = int(r.year)
    return first


def where_the_money_goes(finance: pd.DataFrame, plan: pd.DataFrame) -> str | None:
    """Return the stage that takes most of the public money, and its largest recipients."""
    if finance.empty:
        return None
    stage = dict(zip(plan.facility, plan.stage, strict=True))
    spend = finance.assign(total=finance.capex_outlay_musd + finance.support_musd,
                           stage=finance.facility.map(stage))
    total = spend.total.sum()
    if total <= 0:
        return None
    by_stage = spend.groupby("stage").total.sum().sort_values(ascending=False)
    top = str(by_stage.index[0])
    by_facility = spend[spend.stage == top].groupby("facility").total.sum()
    by_facility = by_facility[by_facility > 0.05].sort_values(ascending=False)
    names = [f"{f} {musd(v)}" for f, v in by_facility.head(4).items()]
    return (f"The money goes to {top} ({share(by_stage.iloc[0] / total)} of capex and "
            f"support, undiscounted): {listed(names)} MUSD.")


def tightest_element(elements: pd.DataFrame) -> str | None:
    """Return the element whose clean separation covers programs' needs least, and when.

    Headroom is the clean oxide the allied chain separates over the metal programs need in
    their magnets (both t of the element): the element with the least is what runs out
    first, so what the plan pays to keep.
    """
    if elements.empty:
        return None
    needed = elements[elements.demand_t > TOLERANCE_T]
    if needed.empty:
        return None
    worst = needed.assign(headroom=needed.clean_oxide_t / needed.demand_t).sort_values(
        ["headroom", "year"]).iloc[0]
    text = (f"The tightest element is {worst.element}: in {int(worst.year)} the allied chain "
            f"separates {tonnes(worst.clean_oxide_t)} t of clean {worst.element} oxide for "
            f"{tonnes(worst.demand_t)} t of {worst.element} metal in the magnets programs need "
            f"({worst.headroom:,.1f} times).")
    short = needed[needed.delivered_t + TOLERANCE_T < needed.demand_t]
    for element, rows in short.groupby("element", sort=False):
        text += f" Programs get less {element} than they need in {_years(rows.year)}."
    return text


def _years(years: pd.Series) -> str:
    """Return years as ``2027`` or ``2027-2030`` (or a list when they are not consecutive)."""
    ys = sorted(int(y) for y in set(years))
    if ys == list(range(ys[0], ys[-1] + 1)):
        return str(ys[0]) if len(ys) == 1 else f"{ys[0]}-{ys[-1]}"
    return listed([str(y) for y in ys])


def supply_shares(flows: pd.DataFrame, plan: pd.DataFrame, commodity: str,
                  stage: str) -> pd.DataFrame:
    """Return, per element, each source's share of the clean ``commodity`` going on to programs.

    The sources are the facilities of ``stage`` (and offers of that commodity); what is sold
    to the market is left out, since it does not reach a program.
    """
    stages = dict(zip(plan.facility, plan.stage, strict=True))
    f = flows[(flows.commodity == commodity) & (flows.provenance == "clean")
              & (flows.target != "market") & ~flows.source.isin(POOLS)]
    f = f[f.source.map(lambda x: stages.get(x, stage) == stage)]
    by = f.groupby(["item", "source"]).tonnes.sum()
    if by.empty:
        return pd.DataFrame(columns=["item", "source", "share", "tonnes"])
    out = by.rename("tonnes").reset_index()
    out["share"] = out.tonnes / out.groupby("item").tonnes.transform("sum")
    return out


def element_order(items: pd.Series) -> pd.Series:
    """Return sort keys putting elements in ELEMENT_ORDER (the heavy ones first)."""
    order = {e: i for i, e in enumerate(ELEMENT_ORDER)}
    return items.map(lambda e: order.get(e, len(order)))


def single_points_of_failure(flows: pd.DataFrame, plan: pd.DataFrame,
                             elements: pd.DataFrame) -> str | None:
    """Return the facilities through which most of an element's clean supply passes."""
    if flows.empty:
        return None
    needed = set(elements[elements.demand_t > TOLERANCE_T].element) if not elements.empty \
        else set(flows.item)
    parts = []
    for commodity, stage, verb in (("oxide", "separation", "separates"),
                                   ("metal", "metal", "makes")):
        shares = supply_shares(flows, plan, commodity, stage)
        shares = shares[shares.item.isin(needed) & (shares.share > MOST)]
        for source, rows in shares.groupby("source", sort=False):
            rows = rows.sort_values("item", key=element_order)
            what = listed([f"{share(r.share)} of the clean {r.item}" for r in rows.itertuples()])
            parts.append(f"{source} {verb} {what} {commodity}")
    if not parts:
        return "No single point of failure: no facility carries most of an element's clean " \
               "supply."
    return ("Single points of failure (over the horizon, of what goes on to magnet makers): "
            + "; ".join(parts) + ".")


def largest_shortfall(run: RunTables) -> str:
    """Return the largest shortfall with what the tables show around it, or that there is none."""
    d = run["deliveries"]
    short = d[d.shortfall_t > TOLERANCE_T] if not d.empty else d
    if short.empty:
        return "No shortfall: every program gets all the clean magnets it needs."
    worst = short.sort_values(["shortfall_t", "year"], ascending=[False, True]).iloc[0]
    p, y = worst.program, int(worst.year)
    total = short[short.program == p].shortfall_t.sum()
    text = (f"Largest shortfall: {p}, {tonnes(worst.shortfall_t)} t of "
            f"{tonnes(worst.demand_t)} t in {y} ({tonnes(total)} t short over "
            f"{_years(short[short.program == p].year)}).")
    causes = shortfall_causes(run, y)
    return text + (" Why: " + "; ".join(causes) + "." if causes
                   else " The tables do not show why (no budget binds, no element is "
                        "missing, no funded project arrives later).")


def shortfall_causes(run: RunTables, year: int) -> list[str]:
    """Return what the tables show in ``year``: a binding budget, a missing element, lead time."""
    causes = []
    m = run["marginals"]
    if not m.empty:
        years = pd.to_numeric(m.year, errors="coerce")
        binding = m[(m.constraint == "annual_budget") & (years == year) & (m.value > 0)]
        binding = pd.concat([binding, m[(m.constraint == "total_budget") & (m.value > 0)]])
        for r in binding.itertuples():
            kind = "annual" if r.constraint == "annual_budget" else "total"
            causes.append(f"budget: {r.program}'s {kind} budget binds (one more MUSD saves "
                          f"{r.value:.2f} MUSD NPV)")
    e = run["elements"]
    if not e.empty:
        lacking = e[(e.year == year) & (e.delivered_t + TOLERANCE_T < e.demand_t)]
        for r in lacking.itertuples():
            causes.append(f"missing element: {tonnes(r.clean_metal_t)} t of clean {r.element} "
                          f"metal made, {tonnes(r.demand_t)} t needed")
    later = funded(run["plan"])
    later = later[pd.to_numeric(later.get("first_output_year"), errors="coerce") > year] \
        if not later.empty else later
    for r in later.itertuples():
        causes.append(f"lead time: {r.facility} (FID {int(r.fid_year)}) gives output only "
                      f"from {int(r.first_output_year)}")
    return causes


def run_figures(run: RunTables) -> list[Figure]:
    """Return the key figures of a run, formatted, with their units."""
    s = run.summary
    if s.get("objective_musd") is None:
        return [Figure(str(s.get("status")), "", "status")]
    plan, finance, deliveries = run["plan"], run["finance"], run["deliveries"]
    firsts = list((s.get("first_full_coverage_year") or {}).values())
    last_first = "never" if None in firsts else str(max(firsts)) if firsts else "-"
    figures = [
        Figure(musd(s.get("subsidy_npv_musd") or 0.0), "MUSD", "subsidy NPV"),
        Figure(str(len(funded(plan))), "", "projects funded"),
        Figure(musd(plan.public_capex_musd.sum()) if not plan.empty else "0", "MUSD",
               "public capex (undiscounted)"),
        Figure(musd(finance.support_musd.sum()) if not finance.empty else "0", "MUSD",
               "operating support (undiscounted)"),
        Figure(last_first, "", "every program fully covered from"),
        Figure(tonnes(deliveries.shortfall_t.sum()) if not deliveries.empty else "0", "t",
               "shortfall over the horizon"),
        Figure(musd(s.get("penalty_npv_musd") or 0.0), "MUSD", "shortfall penalty NPV"),
    ]
    gap = s.get("mip_gap")
    figures.append(Figure(f"{s.get('status')}", "", "status" + (f", gap {gap:.2%}"
                                                                 if gap is not None else "")))
    return figures


# -- a comparison and a frontier ------------------------------------------------------------

def compare_answer(comparison: pd.DataFrame) -> list[str]:
    """Return what a comparison says: cheapest and dearest, who falls short, what failed."""
    rows, scenarios = comparison_rows(comparison)
    status = metric(rows, "status")
    ok = [s for s in scenarios if not status.empty and str(status[s].iloc[0]) in
          ("optimal", "feasible")]
    failed = [s for s in scenarios if s not in ok]
    sentences = []
    subsidy = metric(rows, "subsidy_npv_musd")
    if ok and not subsidy.empty:
        values = pd.to_numeric(subsidy[ok].iloc[0], errors="coerce").dropna().sort_values()
        if not values.empty:
            sentences.append(
                f"Cheapest: {values.index[0]} at {musd(values.iloc[0])} MUSD subsidy NPV"
                + (f"; dearest: {values.index[-1]} at {musd(values.iloc[-1])} MUSD"
                   if len(values) > 1 else "") + f" ({len(values)} scenarios solved).")
    fids = metric(rows, "fid_year")
    for s in ok:
        chosen = fids[s].dropna() if not fids.empty else pd.Series(dtype=object)
        projects = [f"{f} {int(float(y))}" for f, y in chosen.items()]
        sentences.append(f"{s} funds " + (listed(projects) if projects else "nothing") + ".")
    cost = metric(rows, "decisions_cost_musd")
    for s in ok:
        if not cost.empty and pd.notna(cost[s].iloc[0]):
            value = pd.to_numeric(pd.Series([cost[s].iloc[0]]), errors="coerce").iloc[0]
            what = metric(rows, "decisions")[s].iloc[0]
            sentences.append(f"{s}'s decisions ({what}) cost "
                             + (f"{musd(value)} MUSD more than the plan without them."
                                if pd.notna(value) else f"an unknown amount: {cost[s].iloc[0]}."))
    short = metric(rows, "shortfall_t")
    if ok and not short.empty:
        values = short[ok].apply(pd.to_numeric, errors="coerce").fillna(0).sum()
        falling = [f"{s} ({tonnes(v)} t)" for s, v in values.items() if v > TOLERANCE_T]
        sentences.append("Every solved scenario covers every program." if not falling else
                         "Shortfall in " + listed(falling) + ".")
    messages = metric(rows, "message")
    for s in failed:
        why = str(messages[s].iloc[0]) if not messages.empty and pd.notna(messages[s].iloc[0]) \
            else "no message recorded"
        sentences.append(f"{s} {status[s].iloc[0] if not status.empty else 'failed'}: {why}")
    return sentences


def frontier_answer(frontier: pd.DataFrame, entry: pd.DataFrame) -> list[str]:
    """Return what a frontier says: coverage at the smallest and largest scale, full coverage."""
    ok = frontier[frontier.status.isin(["optimal", "feasible"])].sort_values("budget_scale")
    if ok.empty:
        return ["No budget scale was solved."]
    low, high = ok.iloc[0], ok.iloc[-1]
    sentences = [f"With every budget scaled by {low.budget_scale:g}, coverage is "
                 f"{share(low.coverage)}; by {high.budget_scale:g}, {share(high.coverage)} "
                 f"at {musd(high.subsidy_npv_musd)} MUSD subsidy NPV."]
    full = ok[ok.coverage >= 1 - 1e-6]
    if not full.empty:
        sentences.append(f"Full coverage from a scale of {full.iloc[0].budget_scale:g} "
                         f"({musd(full.iloc[0].subsidy_npv_musd)} MUSD subsidy NPV).")
    if not entry.empty:
        steps = [f"{r.facility} at {r.first_budget_scale:g} (FID {int(r.fid_year)})"
                 for r in entry.itertuples()]
        sentences.append("Projects enter as budgets grow: " + listed(steps) + ".")
    failed = frontier[~frontier.status.isin(["optimal", "feasible"])]
    if not failed.empty:
        sentences.append("No plan at " + listed([f"{r.budget_scale:g} ({r.status})"
                                                 for r in failed.itertuples()]) + ".")
    return sentences
