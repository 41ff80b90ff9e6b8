"""One self-contained HTML report (plotly.js embedded) for a run, compare or frontier folder."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from optimize.data.modeldata import Decision
from optimize.report import figures
from optimize.results.safety import OutputRefused, check_report_folder
from optimize.results.write import write_text_atomically

#: How every report starts: ``report.html`` beginning so is ree-plan's to replace.
REPORT_START = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>ree-plan'

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; }
.figure { margin: 1em 0; } .note { color: #666; font-size: 0.85em; }
"""


def _table(frame: pd.DataFrame) -> str:
    years = [c for c in frame.columns if c == "year" or str(c).endswith("_year")]
    frame = frame.astype({c: "Int64" for c in years})
    return frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:,.2f}",
                         border=0, escape=True)


def _figure(fig: go.Figure, div_id: str) -> str:
    return '<div class="figure">' + fig.to_html(full_html=False, include_plotlyjs=False,
                                                div_id=div_id) + "</div>"


def _page(title: str, body: list[str]) -> str:
    return (REPORT_START[:-len("ree-plan")] +
            f"{html.escape(title)}</title><style>{STYLE}</style>"
            f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
            + "\n".join(body) + "</body></html>\n")


def _esc(v: Any) -> str:
    """Return any value as HTML text (summary.json and the CSVs may be edited by hand)."""
    return html.escape(str(v))


def _joined(values: Any) -> str:
    """Return a list from summary.json as escaped, comma-separated text."""
    if isinstance(values, (list, tuple)):
        return _esc(", ".join(str(v) for v in values))
    return _esc(values)


def _summary_block(s: dict[str, Any]) -> str:
    rows = [("status", f"{s['status']}" + (f" ({s['message']})" if s.get("message") else "")),
            ("mode", s.get("mode")), ("subsidy NPV (MUSD)", _num(s.get("subsidy_npv_musd"))),
            ("shortfall penalty NPV (MUSD)", _num(s.get("penalty_npv_musd"))),
            ("MIP gap", f"{(s.get('mip_gap') or 0):.3%}"), ("money", s.get("currency")),
            ("solver", s.get("solver")), ("inputs sha256", s.get("inputs_sha256"))]
    if s.get("decisions"):
        rows.append(("decisions", "; ".join(str(Decision.from_given(d))
                                            for d in s["decisions"])))
    if "unforced_objective_musd" in s:
        rows.append(("objective without the decisions (MUSD)",
                     _num(s.get("unforced_objective_musd")) or s.get("unforced_status")))
        rows.append(("what the decisions cost (MUSD)", _num(s.get("decisions_cost_musd"))))
    for p, year in (s.get("first_full_coverage_year") or {}).items():
        rows.append((f"{p}: fully covered from", year or "never"))
        rows.append((f"{p}: shortfall (t)", _num(s["shortfall_t"][p])))
    return "<table>" + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>"
                               for k, v in rows) + "</table>"


def _num(v: Any) -> str:
    return "" if v is None else f"{v:,.1f}"


def _assumptions(s: dict[str, Any]) -> str:
    a = s.get("assumptions") or {}
    parts = [f"<li>horizon {_esc(a.get('horizon'))}, discount rate "
             f"{_esc(a.get('discount_rate'))}, constant {_esc(a.get('currency_year'))} US "
             "dollars</li>",
             f"<li>covered countries: {_joined(a.get('covered_countries', []))}</li>"]
    for p, pen in (a.get("penalty_usd_per_kg") or {}).items():
        parts.append(f"<li>{_esc(p)}: shortfall penalty {pen:,.0f} USD/kg</li>")
    for g, f in (a.get("funding_programs") or {}).items():
        total = f"{f['total_musd']:,.0f}" if f.get("total_musd") is not None else "no cap"
        parts.append(f"<li>{_esc(g)}: {_joined(f['countries'])}; {_joined(f['stages'])}; "
                     f"{_joined(f['covers'])}; {_esc(f['years'])}; "
                     f"{f['annual_musd']:,.0f} MUSD/yr, total {total}</li>")
    if a.get("funding_programs") is None:
        parts.append("<li>no funding.csv: budgets unlimited</li>")
    return "<ul>" + "".join(parts) + "</ul>"


def run_report(folder: Path, year: int | None = None) -> str:
    """Return the report of a run folder; the flow diagram shows ``year`` (default: the last)."""
    run = figures.read_run(folder)
    s = run.summary
    body = [f"<h1>ree-plan: {html.escape(str(s.get('scenario')))}</h1>",
            "<h2>Summary</h2>", _summary_block(s)]
    if s.get("objective_musd") is None:
        body.append("<p>No plan was found, so there is nothing to plot.</p>")
        return _page(f"ree-plan {s.get('scenario')}", body)
    plan = run["plan"]
    year = year if year is not None else _last_year(run["flows"])
    body += ["<h2>Investment timeline</h2>", _figure(figures.investment_timeline(plan), "gantt"),
             "<h2>Supply and demand</h2>",
             _figure(figures.supply_and_demand(run["deliveries"], run["elements"]), "supply"),
             f"<h2>Material flows in {year}</h2>",
             _figure(figures.material_sankey(run["flows"], plan, year), "sankey"),
             "<h2>Money</h2>",
             _figure(figures.money(run["funding"], run["finance"], plan, run["budgets"]), "money"),
             "<h2>The funded plan</h2>", _table(plan[plan.fid_year.notna()]),
             *_marginals(s),
             "<h2>Key assumptions</h2>", _assumptions(s),
             f"<p class=\"note\">Tables: {_esc(', '.join(sorted(run.frames)))} (CSV) and "
             "summary.json in this folder.</p>"]
    return _page(f"ree-plan {s.get('scenario')}", body)


def _marginals(s: dict[str, Any]) -> list[str]:
    """Return the marginal values of budgets and demand (summary.json), as a section."""
    mv = s.get("marginals")
    if not mv:
        return []
    total = mv.get("total_budget_musd_per_musd", {})
    rows = [(g, f"{v:.3f}", "" if g not in total else f"{total[g]:.3f}")
            for g, v in mv.get("annual_budget_musd_per_musd", {}).items()]
    budgets = pd.DataFrame(rows, columns=["funding program",
                                          "NPV saved per extra MUSD of annual budget "
                                          "(every year)", "... of total budget"])
    demand = pd.DataFrame(
        [(p, f"{min(by.values()):.3f}", f"{max(by.values()):.3f}")
         for p, by in mv.get("demand_musd_per_t", {}).items() if by],
        columns=["program", "one more t of demand costs (MUSD NPV), least",
                 "... most (by year)"])
    return ["<h2>What another MUSD or tonne is worth</h2>",
            "<p class=\"note\">Duals of the plan's LP with its FIDs fixed: marginal values "
            "given this plan (marginals.csv has them by year).</p>",
            _table(budgets), _table(demand)]


def _last_year(flows: pd.DataFrame) -> int:
    """Return the last year with flows (a year with the plan in place), else 0."""
    return int(flows.year.max()) if not flows.empty else 0


def compare_report(folder: Path) -> str:
    """Return the report of a compare folder."""
    table = pd.read_csv(folder / "comparison.csv")
    return _page(f"ree-plan {folder.name}", [
        f"<h1>ree-plan: {html.escape(folder.name)}</h1>",
        _figure(figures.portfolio_comparison(table), "portfolio"),
        "<h2>Side by side</h2>", _table(table)])


def frontier_report(folder: Path) -> str:
    """Return the report of a frontier folder."""
    table = pd.read_csv(folder / "frontier.csv")
    entry = pd.read_csv(folder / "entry_order.csv")
    return _page(f"ree-plan {folder.name}", [
        f"<h1>ree-plan: {html.escape(folder.name)}</h1>",
        _figure(figures.budget_frontier(table, entry), "frontier"),
        "<h2>Frontier</h2>", _table(table), "<h2>Order of entry</h2>", _table(entry)])


def report_target(folder: str | Path) -> Path:
    """Return the resolved folder to write ``report.html`` into, or raise OutputRefused.

    The folder must be a run, compare or frontier folder ree-plan wrote, and a
    ``report.html`` already there must be one ree-plan wrote (it is replaced).
    """
    text = str(folder)
    if text == "":
        raise OutputRefused("the folder to report on is empty (an unset shell variable?); give "
                            "a run, compare or frontier folder, e.g. results/baseline")
    if "\0" in text:
        raise OutputRefused(f"folder {text!r} holds a NUL character")
    target = Path(text).resolve()
    check_report_folder(target, f"folder {text!r}", REPORT_START)
    return target


def write_report(folder: str | Path, year: int | None = None) -> Path:
    """Write ``report.html`` into a run, compare or frontier folder (atomically).

    ``year`` picks the year of a run's material-flow diagram (default: the last year). The
    folder is checked first (``report_target``).
    """
    given = folder
    folder = report_target(folder)
    if (folder / "comparison.csv").exists():
        text = compare_report(folder)
    elif (folder / "frontier.csv").exists():
        text = frontier_report(folder)
    elif (folder / "summary.json").exists():
        text = run_report(folder, year)
    else:
        raise OutputRefused(f"{given} holds no table to report on yet (a sweep stopped before "
                            "its first table?); run it again with --resume")
    write_text_atomically(folder / "report.html", text)
    return Path(given) / "report.html"
