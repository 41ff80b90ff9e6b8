"""One self-contained HTML report (plotly.js embedded) for a run, compare or frontier folder.

Each report opens with the answer, in sentences generated from the tables
(``optimize.report.answer``), then the figures that let a reader check it, one section each
(``<section class="section">``), then the tables and the run's details. It works offline:
plotly.js and the map's base layer (``assets/world_110m.json``) are in the page.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from optimize.data.modeldata import Decision
from optimize.report import answer, figures
from optimize.results.safety import OutputRefused, check_report_folder
from optimize.results.write import write_text_atomically

#: How every report starts: ``report.html`` beginning so is ree-plan's to replace.
REPORT_START = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>ree-plan'

#: The answer's own classes: all a notebook gets, so that it keeps its own page style.
ANSWER_STYLE = """
.answer { font-size: 1.05em; line-height: 1.5; background: #f5f8fc; border-left: 4px solid
          #1f77b4; padding: 0.6em 1em; }
.answer p { margin: 0.35em 0; }
.cards { display: flex; flex-wrap: wrap; gap: 0.6em; margin-top: 0.8em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.4em 0.8em; min-width: 9em; }
.card .value { font-size: 1.35em; font-weight: 600; } .card .label { color: #555;
          font-size: 0.8em; }
"""

STYLE = ANSWER_STYLE + """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1150px; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.3em; } h2 { font-size: 1.25em; margin: 0 0 0.4em; }
section.section { margin: 2.2em 0; }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.figure { margin: 0.6em 0; } .note { color: #666; font-size: 0.85em; }
.error { background: #fdecea; border-left: 4px solid #d62728; padding: 0.5em 1em;
         white-space: pre-wrap; font-size: 0.9em; }
"""


def _esc(v: Any) -> str:
    """Return any value as HTML text (summary.json and the CSVs may be edited by hand).

    Quotes stay as they are: the text goes between tags, never into an attribute.
    """
    return html.escape(str(v), quote=False)


def _joined(values: Any) -> str:
    """Return a list from summary.json as escaped, comma-separated text."""
    if isinstance(values, (list, tuple)):
        return _esc(", ".join(str(v) for v in values))
    return _esc(values)


def _num(v: Any) -> str:
    return "" if v is None else f"{v:,.1f}"


@cache
def _geo_assets() -> str:
    """Return the script that gives plotly.js its world map without the network."""
    topojson = (figures.ASSETS / "world_110m.json").read_text(encoding="utf-8")
    return ("<script>window.PlotlyGeoAssets = {topojson: {world_110m: "
            + topojson.replace("</", "<\\/") + "}};</script>")


def _page(title: str, body: list[str], geo: bool = False) -> str:
    return (REPORT_START[:-len("ree-plan")] +
            f"{html.escape(title)}</title><style>{STYLE}</style>"
            + (_geo_assets() if geo else "")
            + f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
            + "\n".join(body) + "</body></html>\n")


def _figure(fig: go.Figure, div_id: str, caption: str = "") -> str:
    # Sections carry the plain names as ids; a figure's div must not share one.
    plot = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{div_id}",
                       config={"displaylogo": False})
    note = f'<p class="note">{caption}</p>' if caption else ""
    return f'<div class="figure">{plot}{note}</div>'


def _section(key: str, title: str, *parts: str) -> str:
    return (f'<section class="section" id="{key}"><h2>{_esc(title)}</h2>' + "".join(parts)
            + "</section>")


def _answer_block(sentences: list[str], key_figures: list[answer.Figure]) -> str:
    cards = "".join(f'<div class="card"><div class="value">{_esc(f.value)}'
                    f'{" " + _esc(f.unit) if f.unit else ""}</div>'
                    f'<div class="label">{_esc(f.label)}</div></div>' for f in key_figures)
    return ('<div class="answer">' + "".join(f"<p>{_esc(s)}</p>" for s in sentences)
            + f'</div><div class="cards">{cards}</div>')


def _table(frame: pd.DataFrame, formats: dict[str, Any] | None = None) -> str:
    """Return a table as HTML: years as integers, numbers formatted per column, text escaped."""
    formats = formats or {}
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for c, v in zip(frame.columns, row, strict=True):
            shown, number = _cell(v, formats.get(c), str(c))
            cells.append(f'<td class="num">{shown}</td>' if number else f"<td>{shown}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(v: Any, fmt: Any, column: str) -> tuple[str, bool]:
    """Return a cell's HTML and whether it is a number."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "", False
    if isinstance(v, str):
        return _esc(v), False
    if fmt is not None:
        return _esc(fmt(v)), True
    if column == "year" or column.endswith("_year"):
        return f"{int(v)}", True
    return _esc(f"{v:,.2f}" if isinstance(v, float) else v), True


# -- a run --------------------------------------------------------------------------------

def flows_year(run: figures.RunTables, year: int | None = None) -> int:
    """Return the year the flow figures show: ``year``, else the last year with flows."""
    if year is not None:
        return year
    flows = run["flows"]
    return int(flows.year.max()) if not flows.empty else 0


def horizon(run: figures.RunTables) -> tuple[int, int]:
    """Return the run's first and last year (summary.json, else the deliveries' years)."""
    given = (run.summary.get("assumptions") or {}).get("horizon")
    if isinstance(given, list) and len(given) == 2 and all(isinstance(y, int) for y in given):
        return given[0], given[1]
    years = pd.concat([run["deliveries"].get("year", pd.Series(dtype=int)),
                       run["flows"].get("year", pd.Series(dtype=int))])
    return (int(years.min()), int(years.max())) if not years.empty else (2025, 2050)


def run_figures(run: figures.RunTables, year: int | None = None) -> dict[str, go.Figure]:
    """Return every figure of a run's report, by name, as plotly objects."""
    year = flows_year(run, year)
    plan, flows = run["plan"], run["flows"]
    programs = figures.program_colours(run.summary, run["budgets"], run["funding"])
    countries = figures.country_colours(plan)
    covered = (run.summary.get("assumptions") or {}).get("covered_countries") or []
    present = set(flows.get("item", []))
    out = {
        "timeline": figures.chain_timeline(plan, run["funding"], horizon(run)),
        "supply": figures.supply_and_demand(run["deliveries"], run["elements"]),
        "map": figures.facility_map(plan, run["locations"], flows,
                                    [c for c in covered if isinstance(c, str)], year),
    }
    for e in figures.ELEMENT_ORDER:
        if e in present:
            out[f"flows-{e}"] = figures.element_sankey(flows, plan, e, year)
    out["flows-all"] = figures.material_sankey(flows, plan, year)
    out["money-programs"] = figures.money_by_program(run["funding"], run["budgets"], programs)
    out["money-countries"] = figures.money_by_country(run["finance"], plan, countries)
    out["marginals"] = figures.marginal_values(run["marginals"], programs)
    return out


def run_report(folder: Path, year: int | None = None) -> str:
    """Return the report of a run folder; the flow figures show ``year`` (default: the last)."""
    run = figures.read_run(folder)
    body = run_body(run, year)
    body.append(f"<p class=\"note\">Tables: {_esc(', '.join(sorted(run.frames)))} (CSV) and "
                "summary.json in this folder.</p>")
    return _page(f"ree-plan {run.summary.get('scenario')}", body, geo=True)


def run_body(run: figures.RunTables, year: int | None = None) -> list[str]:
    """Return the sections of a run's report: the answer first, then the figures and tables."""
    s = run.summary
    body = [f"<h1>ree-plan: {_esc(s.get('scenario'))}</h1>",
            _section("answer", "The answer", _answer_block(answer.run_answer(run),
                                                           answer.run_figures(run)))]
    if s.get("objective_musd") is None:
        return [*body, _section("details", "Run details", _summary_block(s))]
    year = flows_year(run, year)
    figs = run_figures(run, year)
    flows = [_figure(fig, name) for name, fig in figs.items() if name.startswith("flows-")]
    body += [
        _section("timeline", "The whole chain on a timeline", _figure(
            figs["timeline"], "timeline", "Every facility by stage. Existing and committed "
            "plants from their online year; funded projects by phase (construction, ramp-up, "
            "full output; black outline); candidates left out in grey from the earliest year "
            "they could give output. Hover for capacity, capex, public share and who pays.")),
        _section("supply", "Coverage: clean supply against demand",
                 _figure(figs["supply"], "supply")),
        _section("map", "Where the chain is", _figure(figs["map"], "map", _map_caption(run))),
        _section("flows", f"Material flows (year {year} first; the slider picks another)",
                 *flows),
        _section("money", "Money", _figure(figs["money-programs"], "money-programs"),
                 _figure(figs["money-countries"], "money-countries")),
        _section("marginals", "What another MUSD or tonne is worth",
                 _figure(figs["marginals"], "marginals",
                         "Duals of the plan's LP with its FIDs fixed: marginal values given "
                         "this plan (marginals.csv has them by year); a larger change may fund "
                         "another project, which no dual sees."), *_marginal_tables(s)),
        _section("plan", "The funded plan", _plan_table(run)),
        _section("assumptions", "Key assumptions", _assumptions(s)),
        _section("details", "Run details", _summary_block(s)),
    ]
    return body


def _map_caption(run: figures.RunTables) -> str:
    plan, locations = run["plan"], run["locations"]
    placed = set(locations.facility) if not locations.empty else set()
    missing = [f for f in plan.facility if f not in placed]
    text = ("Symbols: triangle mine, circle separation, square metal, diamond magnet. Lines: "
            "clean flows of the element picked in the menu (market pools drawn pro rata: "
            "each source to each buyer in proportion), grey the concentrate. Shaded: covered "
            "countries, whose plants' output is tainted. Coordinates: the inputs' "
            "locations.csv (each row gives its source).")
    if missing:
        text += (f" Not drawn, having no location: {len(missing)} of {len(plan)} facilities ("
                 f"{', '.join(str(f) for f in missing)}).")
    return _esc(text)


def _plan_table(run: figures.RunTables) -> str:
    rows = answer.funded(run["plan"])
    if rows.empty:
        return "<p>No project is funded.</p>"
    paid = figures.payers(run["funding"])
    table = pd.DataFrame({
        "facility": rows.facility, "stage": rows.stage, "country": rows.country,
        "FID": rows.fid_year, "first output": rows.first_output_year,
        "full output": rows.full_output_year, "capacity (t/yr)": rows.capacity_t,
        "capex (MUSD)": rows.capex_musd, "public capex (MUSD)": rows.public_capex_musd,
        "paid by (undiscounted MUSD)": [html.unescape(paid.get(f, "")) for f in rows.facility]})
    whole = "{:,.0f}".format
    return _table(table, {"FID": int, "first output": int, "full output": int,
                          "capacity (t/yr)": whole, "capex (MUSD)": answer.musd,
                          "public capex (MUSD)": answer.musd})


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
        rows.append((f"{p}: shortfall (t)", _num((s.get("shortfall_t") or {}).get(p))))
    return "<table>" + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>"
                               for k, v in rows) + "</table>"


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


def _marginal_tables(s: dict[str, Any]) -> list[str]:
    """Return the marginal values of budgets and demand (summary.json) as tables."""
    mv = s.get("marginals")
    if not mv:
        return []
    total = mv.get("total_budget_musd_per_musd", {})
    budgets = pd.DataFrame(
        [(g, v, total.get(g)) for g, v in mv.get("annual_budget_musd_per_musd", {}).items()],
        columns=["funding program", "NPV saved per extra MUSD of annual budget (every year)",
                 "... of total budget"])
    demand = pd.DataFrame(
        [(p, min(by.values()), max(by.values()))
         for p, by in mv.get("demand_musd_per_t", {}).items() if by],
        columns=["program", "one more t of demand costs (MUSD NPV), least",
                 "... most (by year)"])
    three = "{:.3f}".format
    return [_table(budgets, dict.fromkeys(budgets.columns[1:], three)),
            _table(demand, dict.fromkeys(demand.columns[1:], three))]


def notebook_html(run: figures.RunTables) -> str:
    """Return a run's answer and key figures as an HTML fragment (for Jupyter)."""
    return (f"<style>{ANSWER_STYLE}</style><h2>ree-plan: {_esc(run.summary.get('scenario'))}</h2>"
            + _answer_block(answer.run_answer(run), answer.run_figures(run)))


# -- compare and frontier ---------------------------------------------------------------------

#: How each comparison metric reads, and how its numbers are shown.
METRICS = {
    "status": ("status", None), "message": ("why it failed", None),
    "subsidy_npv_musd": ("subsidy NPV (MUSD)", answer.musd),
    "penalty_npv_musd": ("shortfall penalty NPV (MUSD)", answer.musd),
    "objective_musd": ("objective (MUSD)", answer.musd), "decisions": ("decisions", None),
    "unforced_objective_musd": ("objective without the decisions (MUSD)", answer.musd),
    "decisions_cost_musd": ("what the decisions cost (MUSD)", answer.musd),
    "mip_gap": ("MIP gap", "{:.2%}".format), "shortfall_t": ("shortfall (t)", answer.tonnes),
    "mean_coverage": ("mean coverage", answer.share),
    "first_full_coverage_year": ("fully covered from", int), "fid_year": ("FID year", int),
    "paid_musd": ("paid (undiscounted MUSD)", answer.musd),
}


def comparison_table(comparison: pd.DataFrame) -> str:
    """Return comparison.csv as a readable table: metric names in words, numbers formatted."""
    rows, scenarios = figures.comparison_rows(comparison)
    head = "".join(f"<th>{_esc(s)}</th>" for s in ["", "", *scenarios])
    body = []
    for (m, item), values in rows.iterrows():
        name, fmt = METRICS.get(str(m), (str(m), None))
        cells = [_comparison_cell(values[s], fmt) for s in scenarios]
        body.append(f"<tr><th>{_esc(name)}</th><td>{_esc(item)}</td>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _comparison_cell(v: Any, fmt: Any) -> str:
    """Return a comparison cell: a number formatted for its metric, or text as it is."""
    number = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    if fmt is not None and pd.notna(number):
        return f'<td class="num">{_esc(fmt(float(number)))}</td>'
    return f"<td>{'' if pd.isna(v) else _esc(v)}</td>"


def _failure(scenario: str, status: pd.DataFrame, messages: pd.DataFrame) -> str:
    """Return a failed scenario's status and message, as an error box."""
    message = messages[scenario].iloc[0] if not messages.empty else None
    why = "no message recorded" if message is None or pd.isna(message) else message
    return (f'<div class="error"><b>{_esc(scenario)}: {_esc(status[scenario].iloc[0])}</b>\n'
            f"{_esc(why)}</div>")


def compare_figures(folder: Path, comparison: pd.DataFrame) -> dict[str, go.Figure]:
    """Return the figures of a compare folder's report, by name."""
    _, scenarios = figures.comparison_rows(comparison)
    def table(scenario: str, name: str) -> pd.DataFrame:
        path = folder / "runs" / scenario / f"{name}.csv"
        return pd.read_csv(path) if path.is_file() else pd.DataFrame()

    deliveries = {s: table(str(s), "deliveries") for s in scenarios}
    finance = {s: table(str(s), "finance") for s in scenarios}
    rows, _ = figures.comparison_rows(comparison)
    paid = figures.metric(rows, "paid_musd")
    summaries = [folder / "runs" / str(s) / "summary.json" for s in scenarios]
    first: dict[str, Any] = next((json.loads(p.read_text()) for p in summaries if p.is_file()),
                                 {})
    # funding.csv's order, as in the run reports, so that a program keeps its colour
    palette = figures.program_colours(first, pd.DataFrame({"program": list(paid.index)}))
    return {"fids": figures.fid_chart(comparison),
            "coverage": figures.coverage_by_year(deliveries),
            "subsidy": figures.subsidy_split(comparison, palette, finance)}


def compare_report(folder: Path) -> str:
    """Return the report of a compare folder."""
    table = pd.read_csv(folder / "comparison.csv")
    figs = compare_figures(folder, table)
    rows, scenarios = figures.comparison_rows(table)
    status, messages = figures.metric(rows, "status"), figures.metric(rows, "message")
    errors = [_failure(s, status, messages) for s in scenarios
              if not status.empty and str(status[s].iloc[0]) not in ("optimal", "feasible")]
    return _page(f"ree-plan {folder.name}", [
        f"<h1>ree-plan: {_esc(folder.name)}</h1>",
        _section("answer", "The answer", _answer_block(answer.compare_answer(table), [])),
        *([_section("failed", "What failed", *errors)] if errors else []),
        _section("fids", "Funded projects", _figure(figs["fids"], "fids")),
        _section("coverage", "Coverage", _figure(figs["coverage"], "coverage")),
        _section("subsidy", "Subsidy and who pays", _figure(figs["subsidy"], "subsidy")),
        _section("table", "Side by side", comparison_table(table),
                 '<p class="note">comparison.csv in this folder; each scenario\'s run folder '
                 "and report are under runs/.</p>")])


def frontier_report(folder: Path) -> str:
    """Return the report of a frontier folder."""
    table = pd.read_csv(folder / "frontier.csv")
    entry = pd.read_csv(folder / "entry_order.csv")
    formats: dict[str, Any] = {"budget_scale": "{:g}".format,
                               "subsidy_npv_musd": answer.musd, "penalty_npv_musd": answer.musd,
                               "shortfall_t": answer.tonnes}
    formats.update({c: answer.share for c in table.columns if str(c).startswith("coverage")})
    return _page(f"ree-plan {folder.name}", [
        f"<h1>ree-plan: {_esc(folder.name)}</h1>",
        _section("answer", "The answer", _answer_block(answer.frontier_answer(table, entry),
                                                       [])),
        _section("frontier", "Coverage against budget",
                 _figure(figures.budget_frontier(table, entry), "frontier")),
        _section("table", "Frontier", _table(table, formats)),
        _section("entry", "Order of entry", _table(entry, {"first_budget_scale":
                                                           "{:g}".format}))])


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

    ``year`` picks the year the flow figures of a run show first (default: the last year).
    The folder is checked first (``report_target``).
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
