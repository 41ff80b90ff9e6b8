"""Plotly figures built from result tables (pandas DataFrames read from a run folder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

STAGES = ("mine", "separation", "metal", "magnet")
STAGE_COLOURS = {"mine": "#8c564b", "separation": "#1f77b4", "metal": "#7f7f7f",
                 "magnet": "#9467bd"}
PHASES = (("construction", "fid_year", "first_output_year", 0.35),
          ("ramp-up", "first_output_year", "full_output_year", 0.65),
          ("full output", "full_output_year", "last_output_year", 1.0))
PROVENANCE_COLOURS = {"clean": "rgba(44,160,44,0.45)", "tainted": "rgba(214,39,40,0.45)"}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


def text(value: Any) -> str:
    """Return a name from the tables as plotly text: shown as it is, never read as markup.

    Plotly renders labels, names, titles and hover text as a subset of HTML (``<b>``,
    ``<a href>``, entities) and decodes ``&amp;``, ``&lt;`` and ``&gt;``; escaping those
    three makes a facility called ``<a href=...>`` show as typed.
    """
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def texts(values: Any) -> list[str]:
    """Return ``text`` of each value."""
    return [text(v) for v in values]


@dataclass
class RunTables:
    """The tables and summary of one run folder."""

    folder: Path
    summary: dict[str, Any]
    frames: dict[str, pd.DataFrame]

    def __getitem__(self, name: str) -> pd.DataFrame:
        """Return the table ``name`` (empty when the run wrote none)."""
        return self.frames.get(name, pd.DataFrame())


def read_run(folder: str | Path) -> RunTables:
    """Read every table and the summary of a run folder."""
    folder = Path(folder)
    frames = {p.stem: pd.read_csv(p) for p in sorted(folder.glob("*.csv"))}
    return RunTables(folder, json.loads((folder / "summary.json").read_text()), frames)


def _layout(fig: go.Figure, title: str, height: int = 450) -> go.Figure:
    fig.update_layout(title=title, height=height, template="plotly_white",
                      legend={"orientation": "h", "y": -0.15},
                      margin={"l": 60, "r": 20, "t": 60, "b": 40})
    return fig


def investment_timeline(plan: pd.DataFrame) -> go.Figure:
    """Gantt of funded projects: construction, ramp-up and full output, by stage and country."""
    funded = plan[plan.fid_year.notna()].copy()
    funded = funded.sort_values(["country", "fid_year", "facility"])
    funded["label"] = [f"{text(c)} · {text(f)}"
                       for c, f in zip(funded.country, funded.facility, strict=True)]
    fig = go.Figure()
    for stage in STAGES:
        rows = funded[funded.stage == stage]
        if rows.empty:
            continue
        share = (rows.public_capex_musd / rows.capex_musd.where(rows.capex_musd > 0)).fillna(0)
        for phase, start, stop, opacity in PHASES:
            begin = rows[start].astype(float)
            # Bars end after their last year: a year is a unit cell on the axis.
            end = rows[stop].astype(float) + (1 if phase == "full output" else 0)
            fig.add_trace(go.Bar(
                name=f"{stage}: {phase}", y=rows.label, x=end - begin, base=begin,
                orientation="h", marker={"color": STAGE_COLOURS[stage], "opacity": opacity},
                legendgroup=stage, customdata=list(zip(rows.capex_musd, share, rows.fid_year,
                                                       strict=True)),
                hovertemplate="%{y}<br>" + phase + " from %{base}<br>capex %{customdata[0]:,.0f}"
                              " MUSD, public share %{customdata[1]:.0%}<br>FID "
                              "%{customdata[2]}<extra></extra>"))
    fig.update_layout(barmode="overlay", yaxis={"autorange": "reversed"},
                      xaxis={"title": "year", "dtick": 2})
    if funded.empty:
        fig.add_annotation(text="no project is funded in this plan", showarrow=False)
    return _layout(fig, "Investment timeline: funded projects", 200 + 40 * max(len(funded), 3))


def supply_and_demand(deliveries: pd.DataFrame, elements: pd.DataFrame) -> go.Figure:
    """Per program and per element, each year: clean supply, demand and shortfall."""
    programs = list(dict.fromkeys(deliveries.program))
    items = [e for e in ("Nd", "Pr", "Dy", "Tb", "Sm") if e in set(elements.get("element", []))]
    titles = [f"program {text(p)}" for p in programs] + [f"{e} (t metal)" for e in items]
    n = len(titles)
    cols = 2
    fig = make_subplots(rows=(n + 1) // cols, cols=cols, subplot_titles=titles,
                        vertical_spacing=0.08)
    for i, p in enumerate(programs):
        d = deliveries[deliveries.program == p]
        r, c = i // cols + 1, i % cols + 1
        first = i == 0
        fig.add_trace(go.Bar(x=d.year, y=d.delivered_t, name="clean magnets delivered",
                             marker_color="#2ca02c", legendgroup="d", showlegend=first), r, c)
        fig.add_trace(go.Bar(x=d.year, y=d.shortfall_t, name="shortfall",
                             marker_color="#d62728", legendgroup="s", showlegend=first), r, c)
        fig.add_trace(go.Scatter(x=d.year, y=d.demand_t, name="demand", mode="lines",
                                 line={"color": "black", "dash": "dot"}, legendgroup="m",
                                 showlegend=first), r, c)
        if not d.empty:
            fig.add_vline(x=d.year.min() - 0.5, line_dash="dash", line_color="grey", row=r,
                          col=c, annotation_text=f"China-free from {d.year.min()}",
                          annotation_position="bottom right", annotation_font_size=9)
    for j, e in enumerate(items):
        i = len(programs) + j
        r, c = i // cols + 1, i % cols + 1
        d = elements[elements.element == e]
        first = j == 0
        fig.add_trace(go.Scatter(x=d.year, y=d.clean_metal_t, name="clean metal made",
                                 mode="lines", line={"color": "#1f77b4"}, legendgroup="cm",
                                 showlegend=first), r, c)
        fig.add_trace(go.Scatter(x=d.year, y=d.delivered_t, name="in delivered magnets",
                                 mode="lines", line={"color": "#2ca02c"}, legendgroup="dm",
                                 showlegend=first), r, c)
        fig.add_trace(go.Scatter(x=d.year, y=d.demand_t, name="needed by programs",
                                 mode="lines", line={"color": "black", "dash": "dot"},
                                 legendgroup="nm", showlegend=first), r, c)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, "Clean supply and demand (t per year)", 260 * ((n + 1) // cols) + 120)


POOL_X = {"oxide-pool": 0.375, "metal-pool": 0.625}


def _node_x(name: str, stages: dict[str, str], offers: dict[str, str]) -> float:
    if name in POOL_X:
        return POOL_X[name]
    if name in stages:
        return {"mine": 0.01, "separation": 0.25, "metal": 0.5, "magnet": 0.75}[stages[name]]
    if name in offers:
        return 0.25 if offers[name] == "oxide" else 0.5
    return 0.99


def material_sankey(flows: pd.DataFrame, plan: pd.DataFrame, year: int) -> go.Figure:
    """Material flows of one year: mines -> separation -> metal -> magnets -> programs/market."""
    f = flows[flows.year == year]
    f = f.groupby(["source", "target", "provenance"], as_index=False).tonnes.sum()
    stages = dict(zip(plan.facility, plan.stage, strict=True))
    offers = {r.source: r.commodity for r in flows.itertuples()
              if r.source not in stages and r.source not in POOL_X}
    names = list(dict.fromkeys([*f.source, *f.target]))
    index = {n: i for i, n in enumerate(names)}
    xs = [_node_x(n, stages, offers) for n in names]
    ys = []
    for n, x in zip(names, xs, strict=True):
        column = [m for m, xm in zip(names, xs, strict=True) if xm == x]
        ys.append((column.index(n) + 1) / (len(column) + 1))
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": texts(names), "x": xs, "y": ys, "pad": 12, "thickness": 14},
        link={"source": [index[s] for s in f.source], "target": [index[t] for t in f.target],
              "value": f.tonnes.tolist(), "color": [PROVENANCE_COLOURS[p] for p in f.provenance],
              "customdata": texts(f.provenance),
              "hovertemplate": "%{source.label} -> %{target.label}<br>%{value:,.1f} t "
                               "(%{customdata})<extra></extra>"}))
    return _layout(fig, f"Material flows in {year} (t; green clean, red tainted)",
                   max(450, 22 * len(names)))


def money(funding: pd.DataFrame, finance: pd.DataFrame, plan: pd.DataFrame,
          budgets: pd.DataFrame) -> go.Figure:
    """Subsidy per year by funding program (with budgets), by host country, and by kind."""
    fig = make_subplots(rows=3, cols=1, vertical_spacing=0.1, subplot_titles=(
        "paid by funding program (MUSD; lines: annual budgets)",
        "by host country (burden sharing, MUSD)", "capex vs operating support (MUSD)"))
    country = dict(zip(plan.facility, plan.country, strict=True))
    if not funding.empty:
        by_program = funding.groupby(["year", "program"]).musd.sum().unstack(fill_value=0)
        for k, g in enumerate(by_program.columns):
            colour = PALETTE[k % len(PALETTE)]
            fig.add_trace(go.Bar(x=by_program.index, y=by_program[g], name=text(g),
                                 marker_color=colour, legendgroup=text(g)), 1, 1)
            b = budgets[budgets.program == g]
            if not b.empty:
                fig.add_trace(go.Scatter(x=b.year, y=b.annual_musd, mode="lines",
                                         name=f"{text(g)} budget",
                                         line={"color": colour, "dash": "dot"},
                                         legendgroup=text(g), showlegend=False), 1, 1)
    spend = finance.assign(total=finance.capex_outlay_musd + finance.support_musd,
                           country=finance.facility.map(country))
    by_country = spend.groupby(["year", "country"]).total.sum().unstack(fill_value=0)
    by_country = by_country.loc[:, by_country.sum() > 0]
    for k, cc in enumerate(by_country.columns):
        fig.add_trace(go.Bar(x=by_country.index, y=by_country[cc], name=text(cc),
                             marker_color=PALETTE[(k + 3) % len(PALETTE)]), 2, 1)
    by_kind = spend.groupby("year")[["capex_outlay_musd", "support_musd"]].sum()
    fig.add_trace(go.Bar(x=by_kind.index, y=by_kind.capex_outlay_musd, name="capex (public)",
                         marker_color="#393b79"), 3, 1)
    fig.add_trace(go.Bar(x=by_kind.index, y=by_kind.support_musd, name="operating support",
                         marker_color="#e6550d"), 3, 1)
    fig.update_layout(barmode="stack")
    return _layout(fig, "Money: public subsidy per year (undiscounted MUSD)", 950)


def portfolio_comparison(comparison: pd.DataFrame) -> go.Figure:
    """Scenarios side by side: subsidy NPV and mean coverage per program."""
    scenarios = [c for c in comparison.columns if c not in ("metric", "item")]
    # Read back from CSV, the blank item of scenario-wide metrics is NaN.
    items = comparison["item"].astype(object).where(comparison["item"].notna(), "")
    rows = comparison.assign(item=items).set_index(["metric", "item"])
    fig = make_subplots(rows=1, cols=2, subplot_titles=("subsidy NPV (MUSD)",
                                                        "mean coverage per program"))
    subsidy = pd.to_numeric(rows.loc[("subsidy_npv_musd", "")][scenarios], errors="coerce")
    fig.add_trace(go.Bar(x=texts(scenarios), y=subsidy, name="subsidy NPV",
                         marker_color="#393b79"), 1, 1)
    coverage = rows.xs("mean_coverage", level="metric") if "mean_coverage" in \
        rows.index.get_level_values(0) else pd.DataFrame()
    for k, (program, values) in enumerate(coverage.iterrows()):
        fig.add_trace(go.Bar(x=texts(scenarios),
                             y=pd.to_numeric(values[scenarios], errors="coerce"),
                             name=text(program), marker_color=PALETTE[k % len(PALETTE)]), 1, 2)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05], row=1, col=2)
    return _layout(fig, "Portfolios and scenarios compared")


def budget_frontier(frontier: pd.DataFrame, entry: pd.DataFrame) -> go.Figure:
    """Coverage against subsidy as budgets scale, with the scale at which projects enter."""
    ok = frontier[frontier.status.isin(["optimal", "feasible"])]
    fig = go.Figure(go.Scatter(
        x=ok.subsidy_npv_musd, y=ok.coverage, mode="lines+markers+text", name="frontier",
        text=[f"x{s:g}" for s in ok.budget_scale], textposition="top left",
        hovertemplate="budget x%{text}<br>subsidy %{x:,.0f} MUSD<br>coverage "
                      "%{y:.1%}<extra></extra>"))
    for r in entry.itertuples():
        point = ok[ok.budget_scale == r.first_budget_scale]
        if not point.empty:
            fig.add_annotation(x=float(point.subsidy_npv_musd.iloc[0]),
                               y=float(point.coverage.iloc[0]), text=f"+{text(r.facility)}",
                               showarrow=True, arrowhead=1, ax=30, ay=30, font={"size": 9})
    fig.update_layout(xaxis_title="subsidy NPV (MUSD)", yaxis_title="penalty-weighted coverage",
                      yaxis_tickformat=".0%")
    return _layout(fig, "Budget-coverage frontier")
