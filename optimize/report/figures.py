"""Plotly figures built from result tables (pandas DataFrames read from a run folder).

One function per figure; each takes the tables it shows and nothing else (never the model).
Colours are fixed per stage, per funding program and per host country, so that the same
program or country has the same colour in every chart of a report.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

STAGES = ("mine", "separation", "metal", "magnet")
STAGE_COLOURS = {"mine": "#8c564b", "separation": "#1f77b4", "metal": "#7f7f7f",
                 "magnet": "#9467bd"}
STAGE_SYMBOLS = {"mine": "triangle-up", "separation": "circle", "metal": "square",
                 "magnet": "diamond"}
PHASES = (("construction", "fid_year", "first_output_year", 0.35),
          ("ramp-up", "first_output_year", "full_output_year", 0.65),
          ("full output", "full_output_year", "last_output_year", 1.0))
PROVENANCE_COLOURS = {"clean": "rgba(44,160,44,0.45)", "tainted": "rgba(214,39,40,0.45)"}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39"]
#: Host countries get colours of their own, unlike any funding program's.
COUNTRY_PALETTE = ["#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f",
                   "#e5c494", "#b3b3b3", "#8dd3c7", "#bebada", "#fb8072", "#80b1d3"]
UNFUNDED = "#c7c7c7"
COVERED = "rgba(214,39,40,0.25)"
#: Elements in the order a reader looks for them: the heavy ones first.
ELEMENT_ORDER = ("Dy", "Tb", "Nd", "Pr", "Sm")
POOLS = ("oxide-pool", "metal-pool")
ASSETS = Path(__file__).parent / "assets"


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
    """The tables and summary of one run (a run folder, or a run in memory)."""

    folder: Path | None
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


def colours(names: Iterable[Any]) -> dict[Any, str]:
    """Return a colour per name, in the order given: the same names get the same colours."""
    return {n: PALETTE[k % len(PALETTE)] for k, n in enumerate(dict.fromkeys(names))}


def program_colours(summary: Mapping[str, Any], *tables: pd.DataFrame) -> dict[str, str]:
    """Return each funding program's colour: funding.csv's order, then others the tables name."""
    given = list((summary.get("assumptions") or {}).get("funding_programs") or {})
    named = [p for t in tables if "program" in t for p in t.program]
    return colours([*given, *sorted(set(named) - set(given), key=str)])


def country_colours(plan: pd.DataFrame) -> dict[str, str]:
    """Return each host country's colour (countries in alphabetical order)."""
    return {c: COUNTRY_PALETTE[k % len(COUNTRY_PALETTE)]
            for k, c in enumerate(sorted(set(plan.get("country", [])), key=str))}


@cache
def iso3() -> dict[str, str]:
    """Return ISO 3166-1 alpha-3 codes by alpha-2 (``assets/countries.csv``)."""
    with open(ASSETS / "countries.csv", encoding="utf-8") as fh:
        return {r["iso2"]: r["iso3"] for r in csv.DictReader(fh)}


def _layout(fig: go.Figure, title: str, height: int = 450) -> go.Figure:
    fig.update_layout(title=title, height=height, template="plotly_white",
                      legend={"orientation": "h", "y": -0.12},
                      margin={"l": 60, "r": 30, "t": 70, "b": 50})
    return fig


def _note(fig: go.Figure, message: str) -> None:
    fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5,
                       y=0.5, font={"size": 14, "color": "#555"})


def _years(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce") if column in frame else \
        pd.Series(float("nan"), index=frame.index)


# -- the chain on a timeline --------------------------------------------------------------

def payers(funding: pd.DataFrame) -> dict[str, str]:
    """Return, per facility, who pays what (undiscounted MUSD), as hover text."""
    if funding.empty:
        return {}
    paid = funding.groupby(["facility", "program", "covers"]).musd.sum()
    out: dict[str, list[str]] = {}
    for (f, g, c), v in paid.items():
        out.setdefault(f, []).append(f"{text(g)} {v:,.0f} {text(c)}")
    return {f: ", ".join(parts) for f, parts in out.items()}


def chain_timeline(plan: pd.DataFrame, funding: pd.DataFrame,
                   horizon: tuple[int, int]) -> go.Figure:
    """Every facility by stage on the horizon: existing, funded (by phase), unfunded (grey).

    Existing and committed plants run from their online year; funded candidates show
    construction, ramp-up and full output; unfunded candidates are grey from the earliest
    year they could give output (``earliest_output_year``). Hover: capacity, capex, public
    share and who pays.
    """
    start, end = horizon
    rows = plan.assign(order=plan.stage.map({s: i for i, s in enumerate(STAGES)}),
                       fid=_years(plan, "fid_year"), first=_years(plan, "first_output_year"),
                       earliest=_years(plan, "earliest_output_year"))
    rows = rows.sort_values(["order", "country", "facility"], kind="stable")
    rows["label"] = [f"{text(f)} ({text(c)})" for f, c in zip(rows.facility, rows.country,
                                                             strict=True)]
    paid = payers(funding)
    share = (rows.public_capex_musd / rows.capex_musd.where(rows.capex_musd > 0)).fillna(0)
    rows["hover"] = [
        f"{text(r.facility)}, {text(r.stage)} in {text(r.country)}, {text(r.status)}<br>"
        f"capacity {r.capacity_t:,.0f} t/yr" + (f"<br>capex {r.capex_musd:,.0f} MUSD, public "
                                                f"share {s:.0%}" if r.capex_musd else "")
        + (f"<br>paid by {paid[r.facility]} (MUSD)" if r.facility in paid else "")
        for r, s in zip(rows.itertuples(), share, strict=True)]
    fig = go.Figure()
    end_bar = end + 1  # a year is a unit cell: a bar to the end of the horizon ends after it
    existing = rows[rows.status == "existing"]
    funded = rows[rows.fid.notna()]
    unfunded = rows[(rows.status == "candidate") & rows.fid.isna() & rows.earliest.notna()]
    for stage in STAGES:
        e = existing[existing.stage == stage]
        if not e.empty:
            begin = e["first"].clip(lower=start)
            stop = _years(e, "last_output_year").fillna(end) + 1
            fig.add_trace(go.Bar(name=f"{stage}: existing or committed", y=e.label,
                                 x=stop - begin, base=begin, orientation="h",
                                 marker={"color": STAGE_COLOURS[stage], "opacity": 0.55},
                                 legendgroup=stage, hovertext=e.hover,
                                 hovertemplate="%{hovertext}<extra></extra>"))
        f = funded[funded.stage == stage]
        for phase, first, last, opacity in PHASES:
            if f.empty:
                continue
            begin = _years(f, first)
            stop = _years(f, last) + (1 if phase == "full output" else 0)
            fig.add_trace(go.Bar(name=f"{stage}: funded, {phase}", y=f.label, x=stop - begin,
                                 base=begin, orientation="h",
                                 marker={"color": STAGE_COLOURS[stage], "opacity": opacity,
                                         "line": {"color": "black", "width": 1}},
                                 legendgroup=stage, hovertext=f.hover,
                                 hovertemplate=f"%{{hovertext}}<br>{phase} from %{{base}}"
                                               "<extra></extra>"))
    if not unfunded.empty:
        fig.add_trace(go.Bar(name="candidate, not funded (from its earliest output)",
                             y=unfunded.label, x=end_bar - unfunded.earliest.clip(upper=end_bar),
                             base=unfunded.earliest, orientation="h",
                             marker={"color": UNFUNDED}, hovertext=unfunded.hover,
                             hovertemplate="%{hovertext}<br>not funded; output possible from "
                                           "%{base}<extra></extra>"))
    fig.update_layout(barmode="overlay", yaxis={"autorange": "reversed", "type": "category",
                                                "categoryorder": "array",
                                                "categoryarray": list(rows.label)},
                      xaxis={"title": "year", "dtick": 2, "range": [start - 0.5, end_bar + 0.5]})
    for k, stage in enumerate(STAGES):  # each stage named in the margin, a line above it
        first = rows[rows.stage == stage]
        if first.empty:
            continue
        fig.add_annotation(x=0, xref="paper", xanchor="right", y=first.label.iloc[0],
                           text=f"<b>{stage}</b>", showarrow=False, xshift=-235,
                           font={"size": 12, "color": STAGE_COLOURS[stage]})
        if k:
            fig.add_hline(y=rows.label.tolist().index(first.label.iloc[0]) - 0.5,
                          line={"color": "#999999", "width": 1})
    if funded.empty:
        fig.add_annotation(text="no project is funded in this plan", showarrow=False,
                           xref="paper", yref="paper", x=0.98, y=1.02, xanchor="right")
    fig = _layout(fig, "The whole chain: existing plants, funded projects, and candidates left "
                       "out", 140 + 19 * max(len(rows), 4))
    fig.update_layout(legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
                      margin={"t": 130, "l": 320}, title={"y": 0.995, "yanchor": "top"})
    return fig


# -- supply, demand and coverage ----------------------------------------------------------

def supply_and_demand(deliveries: pd.DataFrame, elements: pd.DataFrame) -> go.Figure:
    """Per program and per element, each year: clean supply, demand and shortfall."""
    programs = list(dict.fromkeys(deliveries.program))
    present = set(elements.get("element", []))
    items = [e for e in ELEMENT_ORDER if e in present] + sorted(present - set(ELEMENT_ORDER))
    # Allied and commercial programs (``buyer``, absent in older run folders) are named so.
    buyer = dict(zip(deliveries.program, deliveries.buyer, strict=True)) \
        if "buyer" in deliveries else {}
    titles = [f"program {text(p)}" + ("" if buyer.get(p, "us-defense") == "us-defense"
                                       else f", {text(buyer[p])}") + " (t magnet)"
              for p in programs] + [f"{text(e)} (t metal)" for e in items]
    n = len(titles)
    cols = 2
    fig = make_subplots(rows=max((n + 1) // cols, 1), cols=cols, subplot_titles=titles,
                        vertical_spacing=0.3 / max((n + 1) // cols, 1))
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
    return _layout(fig, "Clean supply and demand (t per year)", 240 * ((n + 1) // cols) + 140)


# -- flows ------------------------------------------------------------------------------

#: Sankey columns, left to right; offers sit with the stage they sell to.
COLUMN = {"mine": 0, "separation": 1, "oxide-pool": 2, "metal": 3, "metal-pool": 4,
          "magnet": 5, "end": 6}


def _node_column(name: str, stages: Mapping[str, str], offers: Mapping[str, str]) -> int:
    if name in COLUMN and name not in STAGES:
        return COLUMN[name]
    if name in stages:
        return COLUMN[stages[name]]
    if name in offers:
        return COLUMN["oxide-pool"] if offers[name] == "oxide" else COLUMN["metal-pool"]
    return COLUMN["end"]  # programs and the market


def _offers(flows: pd.DataFrame, stages: Mapping[str, str]) -> dict[str, str]:
    return {s: c for s, c in zip(flows.source, flows.commodity, strict=True)
            if s not in stages and s not in POOLS}


def _sankey(f: pd.DataFrame, plan: pd.DataFrame, offers: Mapping[str, str],
            visible: bool = True) -> tuple[go.Sankey, int]:
    """Return a Sankey of flows ``f`` (source, target, provenance, tonnes), and its tallest column.

    Nodes stand in columns by stage, sorted by country then name within a column, and are
    labelled ``name (country)``; positions are fixed, so that labels do not pile up.
    """
    stages = dict(zip(plan.facility, plan.stage, strict=True))
    country = dict(zip(plan.facility, plan.country, strict=True))
    names = list(dict.fromkeys([*f.source, *f.target]))
    cols = {n: _node_column(n, stages, offers) for n in names}
    used = sorted(set(cols.values()))
    xs = {n: 0.001 + 0.998 * used.index(cols[n]) / max(len(used) - 1, 1) for n in names}
    ys: dict[str, float] = {}
    tallest = 1
    for col in used:
        members = sorted((n for n in names if cols[n] == col),
                         key=lambda n: (country.get(n, "~"), n))
        tallest = max(tallest, len(members))
        for i, n in enumerate(members):
            ys[n] = 0.001 + 0.998 * (i + 0.5) / len(members)
    index = {n: i for i, n in enumerate(names)}
    labels = [f"{text(n)} ({text(country[n])})" if n in country else text(n) for n in names]
    sankey = go.Sankey(
        arrangement="snap", visible=visible,
        node={"label": labels, "x": [xs[n] for n in names], "y": [ys[n] for n in names],
              "pad": 6, "thickness": 12,
              "color": [STAGE_COLOURS.get(stages.get(n, ""), "#bbbbbb") for n in names]},
        link={"source": [index[s] for s in f.source], "target": [index[t] for t in f.target],
              "value": f.tonnes.tolist(), "color": [PROVENANCE_COLOURS[p] for p in f.provenance],
              "customdata": texts(f.provenance),
              "hovertemplate": "%{source.label} -> %{target.label}<br>%{value:,.1f} t "
                               "(%{customdata})<extra></extra>"})
    return sankey, tallest


def material_sankey(flows: pd.DataFrame, plan: pd.DataFrame, year: int) -> go.Figure:
    """Material flows of one year: mines -> separation -> metal -> magnets -> programs/market."""
    stages = dict(zip(plan.facility, plan.stage, strict=True))
    f = flows[flows.year == year]
    f = f.groupby(["source", "target", "provenance"], as_index=False).tonnes.sum()
    sankey, tallest = _sankey(f, plan, _offers(flows, stages))
    fig = go.Figure(sankey)
    if f.empty:
        _note(fig, f"no flows in {year}")
    return _layout(fig, f"All material in {year} (t of concentrate, oxide, metal and magnet; "
                        "green clean, red tainted)", max(450, 24 * tallest + 120))


def element_sankey(flows: pd.DataFrame, plan: pd.DataFrame, element: str,
                   year: int | None = None) -> go.Figure:
    """One element's oxide and metal flows, with a slider over the years (``year`` shown first).

    Separation plants -> oxide pool -> metal plants -> metal pool -> magnet lines, in t of
    the element's oxide (oxide flows) and metal (metal flows); sales go to ``market``.
    """
    stages = dict(zip(plan.facility, plan.stage, strict=True))
    offers = _offers(flows, stages)
    mine = flows[(flows.item == element) & flows.commodity.isin(["oxide", "metal"])]
    years = sorted(int(y) for y in mine.year.unique())
    fig = go.Figure()
    if not years:
        _note(fig, f"no {element} flows in any year")
        return _layout(fig, f"{text(element)}: no flows")
    shown = year if year in years else years[-1]
    tallest = 1
    for y in years:
        f = mine[mine.year == y].groupby(["source", "target", "provenance"],
                                         as_index=False).tonnes.sum()
        sankey, rows = _sankey(f, plan, offers, visible=y == shown)
        tallest = max(tallest, rows)
        fig.add_trace(sankey)
    title = f"{text(element)}: oxide and metal flows (t; green clean, red tainted) in "
    steps = [{"label": str(y), "method": "update",
              "args": [{"visible": [k == i for k in range(len(years))]},
                       {"title.text": f"{title}{y}"}]} for i, y in enumerate(years)]
    fig.update_layout(sliders=[{"active": years.index(shown), "steps": steps,
                                "currentvalue": {"prefix": "year "}, "pad": {"t": 10}}])
    return _layout(fig, f"{title}{shown}", max(420, 24 * tallest + 200))


# -- the map --------------------------------------------------------------------------------

def pool_routes(flows: pd.DataFrame) -> pd.DataFrame:
    """Return flows with the market pools resolved: source -> target, pro rata through a pool.

    A pool has no place: what enters it from each source leaves to each target in
    proportion, which is how the map draws material that went through a pool.
    """
    direct = flows[~flows.source.isin(POOLS) & ~flows.target.isin(POOLS)]
    parts = [direct[["source", "target", "tonnes"]]]
    for pool in POOLS:
        into = flows[flows.target == pool].groupby("source").tonnes.sum()
        out = flows[flows.source == pool].groupby("target").tonnes.sum()
        total = into.sum()
        if total > 0 and not out.empty:
            parts.append(pd.DataFrame([(s, t, a * b / total) for s, a in into.items()
                                       for t, b in out.items()],
                                      columns=["source", "target", "tonnes"]))
    return pd.concat(parts).groupby(["source", "target"], as_index=False).tonnes.sum()


def great_circle_middle(lat1: float, lon1: float, lat2: float, lon2: float
                        ) -> tuple[float, float]:
    """Return the point halfway along the great circle between two points (degrees).

    Plotly draws a geo line along the great circle, so a hover point placed there sits on it.
    """
    def vector(lat: float, lon: float) -> tuple[float, float, float]:
        la, lo = math.radians(lat), math.radians(lon)
        return math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)

    x, y, z = (a + b for a, b in zip(vector(lat1, lon1), vector(lat2, lon2), strict=True))
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def _segments(routes: pd.DataFrame, where: Mapping[str, tuple[float, float]]
              ) -> tuple[list[float | None], list[float | None], list[float], list[float],
                         list[str]]:
    lats: list[float | None] = []
    lons: list[float | None] = []
    mid_lat, mid_lon, hover = [], [], []
    for r in routes.itertuples():
        if r.source in where and r.target in where and r.source != r.target:
            (a, b), (c, d) = where[r.source], where[r.target]
            lats += [a, c, None]
            lons += [b, d, None]
            mid = great_circle_middle(a, b, c, d)
            mid_lat.append(mid[0])
            mid_lon.append(mid[1])
            hover.append(f"{text(r.source)} -> {text(r.target)}: {r.tonnes:,.1f} t")
    return lats, lons, mid_lat, mid_lon, hover


def facility_map(plan: pd.DataFrame, locations: pd.DataFrame, flows: pd.DataFrame,
                 covered: Iterable[str], year: int) -> go.Figure:
    """Facilities where they are (symbol per stage), clean flows of an element, covered countries.

    A menu picks the element whose clean oxide and metal flows of ``year`` are drawn; the
    market pools are resolved pro rata (``pool_routes``). Concentrate (all elements) is
    drawn in grey. Facilities without a location are not drawn.
    """
    fig = go.Figure()
    codes = [iso3()[c] for c in sorted(covered) if c in iso3()]
    if codes:
        fig.add_trace(go.Choropleth(locations=codes, locationmode="ISO-3", z=[1] * len(codes),
                                    colorscale=[[0, COVERED], [1, COVERED]], showscale=False,
                                    name="covered country (tainted output)", showlegend=True,
                                    marker_line_color="white", hoverinfo="location"))
    where = {r.facility: (float(r.latitude), float(r.longitude))
             for r in locations.itertuples()} if not locations.empty else {}
    clean = flows[(flows.year == year) & (flows.provenance == "clean")]
    conc = pool_routes(clean[clean.commodity == "concentrate"])
    lats, lons, *_ = _segments(conc, where)
    fig.add_trace(go.Scattergeo(lat=lats, lon=lons, mode="lines", hoverinfo="skip",
                                line={"color": "#999999", "width": 1},
                                name=f"concentrate, mine to separation ({year})"))
    present = set(clean.item)
    elements = [e for e in ELEMENT_ORDER if e in present]
    first_line = len(fig.data)
    for k, e in enumerate(elements):
        routes = pool_routes(clean[(clean.item == e) & clean.commodity.isin(["oxide", "metal"])])
        lats, lons, mid_lat, mid_lon, hover = _segments(routes, where)
        fig.add_trace(go.Scattergeo(lat=lats, lon=lons, mode="lines", visible=k == 0,
                                    line={"color": "#2ca02c", "width": 2}, hoverinfo="skip",
                                    name=f"clean {e} oxide and metal ({year})"))
        fig.add_trace(go.Scattergeo(lat=mid_lat, lon=mid_lon, mode="markers", visible=k == 0,
                                    marker={"size": 5, "color": "#2ca02c"}, hovertext=hover,
                                    hovertemplate="%{hovertext}<extra></extra>",
                                    showlegend=False))
    placed = plan[plan.facility.isin(list(where))]
    funded = _years(placed, "fid_year").notna()
    kinds = (("existing or committed", placed.status == "existing", "#34495e"),
             ("funded in this plan", funded, "#ff7f0e"),
             ("candidate, not funded", (placed.status == "candidate") & ~funded, UNFUNDED))
    for name, chosen, colour in kinds:
        rows = placed[chosen]
        if rows.empty:
            continue
        fig.add_trace(go.Scattergeo(
            lat=[where[f][0] for f in rows.facility], lon=[where[f][1] for f in rows.facility],
            mode="markers", name=name,
            marker={"size": 9, "color": colour,
                    "symbol": [STAGE_SYMBOLS.get(s, "circle") for s in rows.stage],
                    "line": {"color": "white", "width": 0.5}},
            hovertext=[f"{text(f)} ({text(s)}, {text(c)})" for f, s, c in
                       zip(rows.facility, rows.stage, rows.country, strict=True)],
            hovertemplate="%{hovertext}<extra></extra>"))
    after = len(fig.data) - first_line - 2 * len(elements)
    buttons = [{"label": e, "method": "restyle",
                "args": [{"visible": [True] * first_line
                          + [j // 2 == k for j in range(2 * len(elements))] + [True] * after}]}
               for k, e in enumerate(elements)]
    if buttons:
        fig.update_layout(updatemenus=[{"buttons": buttons, "direction": "down", "x": 0.0,
                                        "y": 1.08, "xanchor": "left", "showactive": True}])
    fig.update_geos(projection_type="natural earth", showcountries=True,
                    countrycolor="#bbbbbb", showland=True, landcolor="#f3f3f3",
                    showocean=True, oceancolor="#eaf2fa", resolution=110, fitbounds=False,
                    lataxis_range=[-58, 84], lonaxis_range=[-180, 180])
    fig = _layout(fig, f"Where the chain is: clean flows of the chosen element in {year}", 560)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 90, "b": 10},
                      legend={"orientation": "h", "y": -0.02})
    return fig


# -- money ------------------------------------------------------------------------------------

def money_by_program(funding: pd.DataFrame, budgets: pd.DataFrame,
                     palette: Mapping[str, str]) -> go.Figure:
    """Show what each funding program pays per year (capex, operating support) against its budget.

    One panel per funding program, in its colour; the annual budget is a dashed line and in
    the panel's title. Where the budget is far above what is paid, the axis stops short of
    it, so that the bars stay readable.
    """
    programs = list(dict.fromkeys([*palette, *budgets.get("program", []),
                                   *funding.get("program", [])]))
    programs = [g for g in programs if g in set(budgets.get("program", [])) |
                set(funding.get("program", []))]
    fig = go.Figure()
    if not programs:
        _note(fig, "no funding program in these inputs (funding.csv absent: budgets unlimited)")
        return _layout(fig, "Money by funding program")
    cols = 2
    nrows = (len(programs) + 1) // cols
    titles = []
    for g in programs:
        paid = funding[funding.program == g].musd.sum() if not funding.empty else 0.0
        b = budgets[budgets.program == g]
        budget = f", budget {b.annual_musd.max():,.0f}/yr" if not b.empty else ""
        titles.append(f"{text(g)}: {paid:,.0f} MUSD paid{budget}")
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=titles, shared_xaxes=True,
                        vertical_spacing=0.35 / nrows)
    for i, g in enumerate(programs):
        r, c = i // cols + 1, i % cols + 1
        colour = palette.get(g, "#555555")
        f = funding[funding.program == g] if not funding.empty else funding
        top = 0.0
        for covers, pattern in (("capex", ""), ("operating", "/")):
            part = f[f.covers == covers].groupby("year").musd.sum() if not f.empty else \
                pd.Series(dtype=float)
            top = max(top, float(part.max()) if not part.empty else 0.0)
            fig.add_trace(go.Bar(x=part.index, y=part.values, name=f"{text(g)} {covers}",
                                 marker={"color": colour, "pattern": {"shape": pattern}},
                                 legendgroup=text(g), showlegend=False,
                                 hovertemplate=f"{text(g)} {covers} %{{x}}: %{{y:,.1f}} MUSD"
                                               "<extra></extra>"), r, c)
        b = budgets[budgets.program == g]
        if not b.empty:
            fig.add_trace(go.Scatter(x=b.year, y=b.annual_musd, mode="lines",
                                     name=f"{text(g)} budget", showlegend=False,
                                     line={"color": colour, "dash": "dash"},
                                     hovertemplate=f"{text(g)} annual budget %{{y:,.0f}} MUSD"
                                                   "<extra></extra>"), r, c)
            if top > 0 and b.annual_musd.max() > 3 * top:
                fig.update_yaxes(range=[0, top * 1.3], row=r, col=c)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(rangemode="tozero")
    fig = _layout(fig, "Paid by each funding program per year (undiscounted MUSD; solid capex, "
                       "hatched operating support, dashed the annual budget)",
                  230 * nrows + 120)
    fig.update_layout(showlegend=False)
    return fig


def money_by_country(finance: pd.DataFrame, plan: pd.DataFrame,
                     palette: Mapping[str, str]) -> go.Figure:
    """Public money per year by host country of the facility paid (undiscounted MUSD)."""
    country = dict(zip(plan.facility, plan.country, strict=True))
    fig = go.Figure()
    spend = finance.assign(total=finance.capex_outlay_musd + finance.support_musd,
                           country=finance.facility.map(country)) if not finance.empty \
        else pd.DataFrame(columns=["year", "country", "total"])
    by_country = spend.groupby(["year", "country"]).total.sum().unstack(fill_value=0)
    by_country = by_country.loc[:, by_country.sum() > 0]
    for cc in sorted(by_country.columns, key=str):
        fig.add_trace(go.Bar(x=by_country.index, y=by_country[cc], name=text(cc),
                             marker_color=palette.get(cc, "#555555"),
                             hovertemplate=f"{text(cc)} %{{x}}: %{{y:,.1f}} MUSD"
                                           "<extra></extra>"))
    if by_country.empty:
        _note(fig, "no public money is spent in this plan")
    fig.update_layout(barmode="stack", yaxis_title="MUSD")
    return _layout(fig, "Public money by host country (undiscounted MUSD: capex and operating "
                        "support)", 380)


def marginal_values(marginals: pd.DataFrame, palette: Mapping[str, str]) -> go.Figure:
    """Show what one more MUSD of a budget saves and one more t of demand costs, by year."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "NPV saved per extra MUSD of annual budget", "NPV cost of one more t of demand (MUSD/t)"))
    if marginals.empty:
        _note(fig, "no marginal values in this run")
        return _layout(fig, "What another MUSD or tonne is worth")
    budget = marginals[marginals.constraint == "annual_budget"]
    for g, rows in budget.groupby("program", sort=False):
        fig.add_trace(go.Bar(x=rows.year, y=rows.value, name=f"{text(g)} budget",
                             marker_color=palette.get(str(g), "#555555"),
                             hovertemplate=f"{text(g)} %{{x}}: %{{y:.3f}}<extra></extra>"), 1, 1)
    if not (budget.value.abs() > 0).any():
        fig.update_yaxes(range=[0, 1], row=1, col=1)
        fig.add_annotation(text="no budget binds: one more MUSD saves nothing",
                           showarrow=False, xref="x domain", yref="y domain", x=0.5, y=0.5)
    demand = marginals[marginals.constraint == "demand_met"]
    for k, (p, rows) in enumerate(demand.groupby("program", sort=False)):
        fig.add_trace(go.Scatter(x=rows.year, y=rows.value, mode="lines+markers",
                                 name=f"{text(p)} demand", line={"color": PALETTE[-1 - k % 4]},
                                 hovertemplate=f"{text(p)} %{{x}}: %{{y:.3f}} MUSD/t"
                                               "<extra></extra>"), 1, 2)
    fig.update_layout(barmode="group")
    return _layout(fig, "What another MUSD or tonne is worth (duals of the plan's LP, its FIDs "
                        "fixed)", 400)


# -- comparisons ----------------------------------------------------------------------------

def comparison_rows(comparison: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Return comparison.csv indexed by (metric, item), and its scenario columns."""
    scenarios = [c for c in comparison.columns if c not in ("metric", "item")]
    # Read back from CSV, the blank item of scenario-wide metrics is NaN.
    items = comparison["item"].astype(object).where(comparison["item"].notna(), "")
    return comparison.assign(item=items).set_index(["metric", "item"]), scenarios


def metric(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    """Return the rows of one metric of a comparison, by item (empty if none)."""
    if name not in rows.index.get_level_values(0):
        return pd.DataFrame(columns=rows.columns)
    return rows.xs(name, level="metric")


def fid_chart(comparison: pd.DataFrame) -> go.Figure:
    """Scenario x project, each cell marked with the FID year where the scenario funds it."""
    rows, scenarios = comparison_rows(comparison)
    fids = metric(rows, "fid_year")[scenarios].apply(pd.to_numeric, errors="coerce")
    status = metric(rows, "status")
    fig = go.Figure()
    if fids.empty:
        _note(fig, "no scenario funds a project")
        return _layout(fig, "Which projects each scenario funds, and when (FID year)")
    fids = fids.loc[fids.min(axis=1).sort_values(kind="stable").index]
    cells = [[f"{v:.0f}" if pd.notna(v) else "" for v in r] for r in fids.values]
    fig.add_trace(go.Heatmap(z=fids.values, x=texts(scenarios), y=texts(fids.index),
                             text=cells, texttemplate="%{text}", colorscale="Viridis",
                             colorbar={"title": "FID year"}, xgap=2, ygap=2,
                             hovertemplate="%{x}: %{y} FID %{text}<extra></extra>"))
    for s in scenarios:
        state = str(status[s].iloc[0]) if not status.empty else ""
        if state not in ("optimal", "feasible"):
            fig.add_annotation(x=text(s), y=1.0, yref="paper", yanchor="bottom",
                               text=f"<b>{text(state)}</b>", showarrow=False,
                               font={"color": "#d62728"})
    fig.update_layout(yaxis={"autorange": "reversed"}, xaxis={"side": "top"})
    return _layout(fig, "Which projects each scenario funds, and when (FID year; blank: not "
                        "funded)", 160 + 30 * len(fids))


def coverage_by_year(deliveries: Mapping[str, pd.DataFrame]) -> go.Figure:
    """Per program, the share of demand met each year, one line per scenario."""
    frames = {s: d for s, d in deliveries.items() if not d.empty}
    programs = list(dict.fromkeys(p for d in frames.values() for p in d.program))
    fig = make_subplots(rows=max((len(programs) + 1) // 2, 1), cols=2,
                        subplot_titles=texts(programs) or None)
    palette = colours(deliveries)
    for i, p in enumerate(programs):
        r, c = i // 2 + 1, i % 2 + 1
        for s, d in frames.items():
            rows = d[d.program == p]
            share = rows.delivered_t / rows.demand_t.where(rows.demand_t > 0)
            fig.add_trace(go.Scatter(x=rows.year, y=share, mode="lines", name=text(s),
                                     line={"color": palette[s]}, legendgroup=text(s),
                                     showlegend=i == 0,
                                     hovertemplate=f"{text(s)} %{{x}}: %{{y:.1%}}"
                                                   "<extra></extra>"), r, c)
    if not programs:
        _note(fig, "no scenario has deliveries")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return _layout(fig, "Coverage per program and year (clean magnets delivered / demand)",
                   240 * max((len(programs) + 1) // 2, 1) + 120)


def subsidy_split(comparison: pd.DataFrame, palette: Mapping[str, str],
                  finance: Mapping[str, pd.DataFrame] | None = None) -> go.Figure:
    """Per scenario: subsidy and penalty NPV, what each funding program paid, capex and support.

    ``finance`` holds each scenario's finance.csv (its run folder), for the split into
    public capex and operating support; without it that panel stays empty.
    """
    rows, scenarios = comparison_rows(comparison)
    fig = make_subplots(rows=1, cols=3, subplot_titles=(
        "subsidy and penalty NPV (MUSD)", "paid by funding program (undiscounted MUSD)",
        "capex and operating support (undiscounted MUSD)"))
    names = texts(scenarios)
    frames = {s: f for s, f in (finance or {}).items() if not f.empty}
    for column, label, colour in (("capex_outlay_musd", "public capex", "#6b6ecf"),
                                  ("support_musd", "operating support", "#e6550d")):
        fig.add_trace(go.Bar(x=names, y=[frames[s][column].sum() if s in frames else None
                                         for s in scenarios], name=label, marker_color=colour,
                             hovertemplate=f"%{{x}}: %{{y:,.0f}} MUSD {label}<extra></extra>"),
                      1, 3)
    for name, label, colour in (("subsidy_npv_musd", "subsidy NPV", "#393b79"),
                                ("penalty_npv_musd", "shortfall penalty NPV", "#7f0000")):
        values = metric(rows, name)
        if not values.empty:
            fig.add_trace(go.Bar(x=names, y=pd.to_numeric(values[scenarios].iloc[0],
                                                          errors="coerce"),
                                 name=label, marker={"color": colour, "pattern": {"shape": "."}},
                                 hovertemplate="%{x}: %{y:,.0f} MUSD<extra></extra>"), 1, 1)
    paid = metric(rows, "paid_musd")
    for g, values in paid.iterrows():
        fig.add_trace(go.Bar(x=names, y=pd.to_numeric(values[scenarios], errors="coerce"),
                             name=text(g), marker_color=palette.get(str(g), "#555555"),
                             hovertemplate=f"{text(g)} %{{x}}: %{{y:,.0f}} MUSD<extra></extra>"),
                      1, 2)
    fig.update_layout(barmode="stack")
    fig = _layout(fig, "What each scenario costs, who pays, and for what", 500)
    fig.update_layout(legend={"y": -0.3}, margin={"b": 120})
    return fig


def budget_frontier(frontier: pd.DataFrame, entry: pd.DataFrame) -> go.Figure:
    """Coverage against the budget scale, the subsidy it costs, and the projects entering."""
    ok = frontier[frontier.status.isin(["optimal", "feasible"])].sort_values("budget_scale")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(
        x=ok.budget_scale, y=ok.coverage, mode="lines+markers", name="coverage",
        line={"color": "#2ca02c", "width": 3},
        hovertemplate="budget x%{x:g}<br>coverage %{y:.1%}<extra></extra>"), secondary_y=False)
    fig.add_trace(go.Scatter(
        x=ok.budget_scale, y=ok.subsidy_npv_musd, mode="lines+markers", name="subsidy NPV",
        line={"color": "#393b79", "dash": "dot"},
        hovertemplate="budget x%{x:g}<br>subsidy %{y:,.0f} MUSD<extra></extra>"),
        secondary_y=True)
    failed = frontier[~frontier.status.isin(["optimal", "feasible"])]
    if not failed.empty:
        fig.add_trace(go.Scatter(x=failed.budget_scale, y=[0] * len(failed), mode="markers",
                                 name="no plan / failed", marker={"symbol": "x", "size": 10,
                                                                  "color": "#d62728"},
                                 hovertext=texts(failed.status),
                                 hovertemplate="budget x%{x:g}: %{hovertext}<extra></extra>"))
    for k, (scale, group) in enumerate(entry.groupby("first_budget_scale", sort=True)):
        point = ok[ok.budget_scale == scale]
        if point.empty:
            continue
        fig.add_annotation(x=float(scale), y=float(point.coverage.iloc[0]),
                           text="+" + "<br>+".join(texts(group.facility)), showarrow=True,
                           arrowhead=1, ax=40, ay=40 + 25 * (k % 3), font={"size": 10},
                           align="left", bgcolor="rgba(255,255,255,0.8)")
    fig.update_yaxes(title_text="penalty-weighted coverage", tickformat=".0%",
                     range=[0, 1.05], secondary_y=False)
    fig.update_yaxes(title_text="subsidy NPV (MUSD)", rangemode="tozero", tickformat=",.0f",
                     secondary_y=True)
    fig.update_xaxes(title_text="every budget scaled by")
    return _layout(fig, "Coverage as budgets grow, and the projects that enter at each step",
                   500)
