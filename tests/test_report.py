"""Figures and sentences from small fixture tables (no solver), and every kind of report
rendered in headless Chromium with the network cut off."""

from __future__ import annotations

import io
import json
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from instances import EXAMPLE

from optimize import sweep
from optimize.cli import main
from optimize.pipeline import RunResult
from optimize.report import answer, figures
from optimize.report.html import comparison_table, write_report
from optimize.results.tables import Tables

FIXTURE = Path(__file__).parent / "fixtures" / "small-run"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def run():
    return figures.read_run(FIXTURE)


def traces(fig, name):
    return [t for t in fig.data if t.name == name]


# -- the answer ------------------------------------------------------------------------------

def test_answer_names_the_plan_its_cost_payers_and_the_shortfall_with_its_causes(run):
    text = " ".join(answer.run_answer(run))
    assert "Fund 2 projects: s1 (separation, CA): FID 2030, first output 2032" in text
    assert "l1 (magnet, US): FID 2031" in text
    assert "Public subsidy: 54 MUSD NPV" in text and "60 MUSD of capex" in text
    assert "G1 45 MUSD (40 capex, 5.0 operating)" in text
    assert "prog-a fully covered from 2029 (China-free from 2027; 47% of its demand met)" in text
    assert "Largest shortfall: prog-a, 10.0 t of 10.0 t in 2027 (16.0 t short over 2027-2028)" \
        in text
    assert "missing element: 0 t of clean Nd metal made, 2.5 t needed" in text
    assert "lead time: s1 (FID 2030) gives output only from 2032" in text
    assert "s1 separates 100% of the clean Nd oxide" in text
    assert "t1 makes 100% of the clean Nd metal" in text
    cards = {f.label: f"{f.value} {f.unit}".strip() for f in answer.run_figures(run)}
    assert cards["subsidy NPV"] == "54 MUSD" and cards["projects funded"] == "2"
    assert cards["shortfall over the horizon"] == "16.0 t"


def test_a_budget_that_binds_is_named_as_a_cause(run):
    run.frames["marginals"].loc[0, "year"] = 2027
    run.frames["marginals"].loc[0, "value"] = 0.5
    assert "budget: G1's annual budget binds (one more MUSD saves 0.50 MUSD NPV)" in \
        answer.largest_shortfall(run)


def test_answer_without_shortfall_or_projects():
    plan = pd.DataFrame({"facility": ["a"], "stage": ["mine"], "country": ["US"],
                         "fid_year": [None]})
    deliveries = pd.DataFrame({"program": ["p"] * 2, "year": [2027, 2028],
                               "demand_t": [1.0, 1.0], "delivered_t": [1.0, 1.0],
                               "shortfall_t": [0.0, 0.0]})
    run = figures.RunTables(None, {"objective_musd": 1.0}, {"plan": plan,
                                                          "deliveries": deliveries})
    assert answer.what_to_fund(plan).startswith("Fund no new project")
    assert answer.coverage(deliveries) == ("Every program is fully covered from the year it "
                                           "must be China-free (2027).")
    assert answer.largest_shortfall(run).startswith("No shortfall")


def test_coverage_keeps_us_defense_apart_from_competing_demand():
    deliveries = pd.DataFrame({"program": ["f35", "f35", "eu-market", "eu-market"],
                               "year": [2027, 2028, 2027, 2028],
                               "demand_t": [1.0, 1.0, 10.0, 10.0],
                               "delivered_t": [1.0, 1.0, 0.0, 5.0],
                               "shortfall_t": [0.0, 0.0, 10.0, 5.0],
                               "buyer": ["us-defense"] * 2 + ["commercial"] * 2})
    assert answer.coverage(deliveries) == (
        "Every US defense program is fully covered from the year it must be China-free "
        "(2027). Competing allied and commercial demand: eu-market (commercial) 25% met, "
        "never fully covered.")
    fig = figures.supply_and_demand(deliveries, pd.DataFrame())
    assert [a.text for a in fig.layout.annotations if a.text.startswith("program")] == [
        "program f35 (t magnet)", "program eu-market, commercial (t magnet)"]


def test_numbers_read_as_a_person_writes_them():
    assert [answer.musd(v) for v in (492.2095746795164, 4.25, 0.0, 12345.6)] == \
        ["492", "4.2", "0", "12,346"]
    assert [answer.tonnes(v) for v in (0.0, 0.123, 5.55, 1234.5)] == ["0", "0.12", "5.5",
                                                                       "1,234"]


# -- run figures -----------------------------------------------------------------------------

def test_chain_timeline_shows_every_facility(run):
    fig = figures.chain_timeline(run["plan"], run["funding"], (2027, 2040))
    assert list(fig.layout.yaxis.categoryarray) == ["m1 (AU)", "s1 (CA)", "t1 (GB)", "l1 (US)",
                                                    "x1 (US)"]
    build = traces(fig, "separation: funded, construction")[0]
    assert list(build.base) == [2030] and list(build.x) == [2]  # FID 2030, output 2032
    full = traces(fig, "magnet: funded, full output")[0]
    assert list(full.base) == [2033] and list(full.x) == [8]  # 2033 through 2040
    assert "public share 80%" in build.hovertext[0] and "G1 40 capex" in build.hovertext[0]
    grey = traces(fig, "candidate, not funded (from its earliest output)")[0]
    assert list(grey.y) == ["x1 (US)"] and list(grey.base) == [2031]
    mine = traces(fig, "mine: existing or committed")[0]
    assert list(mine.base) == [2027]  # online 2000: drawn from the horizon's start


def test_element_sankey_has_a_year_slider_and_carries_tonnes(run):
    fig = figures.element_sankey(run["flows"], run["plan"], "Nd", 2029)
    assert [s.label for s in fig.layout.sliders[0].steps] == ["2029"]
    sankey = fig.data[0]
    labels = list(sankey.node.label)
    links = {(labels[s], labels[t]): (v, c) for s, t, v, c in
             zip(sankey.link.source, sankey.link.target, sankey.link.value, sankey.link.color,
                 strict=True)}
    assert links[("s1 (CA)", "t1 (GB)")] == (5, figures.PROVENANCE_COLOURS["clean"])
    assert links[("offer-x", "t1 (GB)")][1] == figures.PROVENANCE_COLOURS["tainted"]
    x = dict(zip(labels, sankey.node.x, strict=True))
    assert x["s1 (CA)"] < x["t1 (GB)"] < x["l1 (US)"]


def test_material_sankey_orders_stages_left_to_right(run):
    sankey = figures.material_sankey(run["flows"], run["plan"], 2029).data[0]
    x = dict(zip(sankey.node.label, sankey.node.x, strict=True))
    assert x["m1 (AU)"] < x["s1 (CA)"] < x["t1 (GB)"] < x["l1 (US)"] < x["prog-a"]


def test_map_draws_located_facilities_covered_countries_and_clean_flows(run):
    fig = figures.facility_map(run["plan"], run["locations"], run["flows"], ["CN"], 2029)
    covered = [t for t in fig.data if t.type == "choropleth"][0]
    assert list(covered.locations) == ["CHN"]
    drawn = {h.split(" ")[0] for t in fig.data if t.type == "scattergeo" and t.mode == "markers"
             and t.showlegend is not False
             for h in t.hovertext}
    assert drawn == {"m1", "s1", "t1", "l1"}  # x1 has no location
    nd = traces(fig, "clean Nd oxide and metal (2029)")[0]
    assert [v for v in nd.lat if v is not None] == [50.2, 53.3, 53.3, 32.8]
    assert fig.layout.updatemenus[0].buttons[0].label == "Nd"


def test_pools_are_resolved_pro_rata():
    flows = pd.DataFrame({"source": ["a", "b", "oxide-pool", "oxide-pool"],
                          "target": ["oxide-pool", "oxide-pool", "x", "y"],
                          "tonnes": [3.0, 1.0, 2.0, 2.0]})
    routes = figures.pool_routes(flows).set_index(["source", "target"]).tonnes
    assert routes.to_dict() == {("a", "x"): 1.5, ("a", "y"): 1.5, ("b", "x"): 0.5,
                                ("b", "y"): 0.5}


def test_money_by_program_and_by_country(run):
    palette = figures.program_colours(run.summary)
    fig = figures.money_by_program(run["funding"], run["budgets"], palette)
    capex = traces(fig, "G1 capex")[0]
    assert dict(zip(capex.x, capex.y, strict=True)) == {2030: 20, 2031: 20}
    assert traces(fig, "G1 operating")[0].marker.pattern.shape == "/"
    assert set(traces(fig, "G2 budget")[0].y) == {25}
    assert capex.marker.color == traces(fig, "G1 budget")[0].line.color == palette["G1"]
    fig = figures.money_by_country(run["finance"], run["plan"],
                                   figures.country_colours(run["plan"]))
    assert traces(fig, "CA")[0].y.tolist() == [20, 20, 5, 0]
    assert not traces(fig, "AU"), "countries that receive nothing are left out"


def test_marginal_values_show_budgets_and_demand(run):
    fig = figures.marginal_values(run["marginals"], figures.program_colours(run.summary))
    assert list(traces(fig, "G1 budget")[0].y) == [0, 0.25]
    assert list(traces(fig, "prog-a demand")[0].y) == [1, 1, 0.4]


def test_a_run_result_shows_itself_in_a_notebook(run):
    result = RunResult(run.summary, Tables(dict(run.frames)), None, None)  # type: ignore[arg-type]
    shown = result._repr_html_()
    assert "Fund 2 projects" in shown and "<script" not in shown
    figs = result.figures(2029)
    assert {"timeline", "map", "flows-Nd", "money-programs"} <= set(figs)
    assert all(hasattr(f, "to_plotly_json") for f in figs.values())


# -- comparisons, frontier, progress -------------------------------------------------------------

COMPARISON = pd.DataFrame([
    {"metric": "status", "item": "", "a": "optimal", "b": "optimal", "c": "failed"},
    {"metric": "message", "item": "", "a": None, "b": None, "c": "demand.csv: bad <row>"},
    {"metric": "subsidy_npv_musd", "item": "", "a": 492.2095746795164, "b": 150.0, "c": None},
    {"metric": "shortfall_t", "item": "p", "a": 0.0, "b": 2.5, "c": None},
    {"metric": "mean_coverage", "item": "p", "a": 1.0, "b": 0.875, "c": None},
    {"metric": "fid_year", "item": "s1", "a": 2030.0, "b": None, "c": None},
    {"metric": "paid_musd", "item": "G1", "a": 400.0, "b": 0.0, "c": None},
])


def test_compare_figures_sentences_and_table():
    fig = figures.fid_chart(COMPARISON)
    assert list(fig.data[0].y) == ["s1"] and fig.data[0].text[0] == ["2030", "", ""]
    assert [a.text for a in fig.layout.annotations] == ["<b>failed</b>"]
    said = answer.compare_answer(COMPARISON)
    assert said[0] == "Cheapest: b at 150 MUSD subsidy NPV; dearest: a at 492 MUSD (2 " \
                      "scenarios solved)."
    assert "a funds s1 2030." in said and "Shortfall in b (2.5 t)." in said
    assert said[-1] == "c failed: demand.csv: bad <row>"
    table = comparison_table(COMPARISON)
    assert "492.2095" not in table and '<td class="num">492</td>' in table
    assert "88%" in table and "demand.csv: bad &lt;row&gt;" in table
    finance = {"a": pd.DataFrame({"capex_outlay_musd": [300.0, 50.0], "support_musd": [0, 42.0]})}
    split = figures.subsidy_split(COMPARISON, {"G1": "#123456"}, finance)
    assert traces(split, "G1")[0].marker.color == "#123456"
    assert list(traces(split, "public capex")[0].y) == [350, None, None]
    assert list(traces(split, "operating support")[0].y) == [42, None, None]


def test_frontier_curve_and_sentences():
    frontier = pd.DataFrame({"budget_scale": [0, 0.5, 1], "status": ["optimal"] * 3,
                             "subsidy_npv_musd": [0, 50, 80], "coverage": [0, 0.6, 1.0]})
    entry = pd.DataFrame({"facility": ["s1"], "first_budget_scale": [0.5], "fid_year": [2030]})
    fig = figures.budget_frontier(frontier, entry)
    assert list(fig.data[0].x) == [0, 0.5, 1] and list(fig.data[0].y) == [0, 0.6, 1.0]
    assert [a.text for a in fig.layout.annotations] == ["+s1"]
    said = answer.frontier_answer(frontier, entry)
    assert "Full coverage from a scale of 1 (80 MUSD subsidy NPV)." in said
    assert "Projects enter as budgets grow: s1 at 0.5 (FID 2030)." in said


def test_progress_estimates_the_time_left():
    now = [0.0]
    progress = sweep.Progress(4, "compare", clock=lambda: now[0])
    assert progress.left() == ""
    now[0], progress.done = 30.0, 1
    assert progress.left() == ", about 1 min 30 s left"
    assert [sweep.duration(s) for s in (5, 200, 7500)] == ["5 s", "3 min 20 s", "2 h 05 min"]


# -- whole reports -------------------------------------------------------------------------------

def test_report_is_self_contained(tmp_path):
    folder = shutil.copytree(FIXTURE, tmp_path / "run")
    text = write_report(folder).read_text()

    class Tags(HTMLParser):
        external: list[str] = []

        def handle_starttag(self, tag, attrs):
            found = dict(attrs)
            if (tag == "script" and found.get("src")) or (tag == "link" and found.get("href")):
                self.external.append(f"{tag} {found}")

    parser = Tags()
    parser.feed(text)
    assert parser.external == [], "the report loads something from outside"
    assert "window.PlotlyGeoAssets = {topojson: {world_110m: " in text
    assert text.count('class="figure"') == 8
    assert "s1" in text and "G2: US; magnet" in text
    assert "Not drawn, having no location: 1 of 5 facilities (x1)." in text
    assert text.index('id="answer"') < text.index('id="timeline"') < text.index('id="details"')


def test_solve_writes_the_report_unless_told_not_to(tmp_path, capfd):
    assert main(["solve", str(EXAMPLE), "--out", str(tmp_path / "a"), "--verbose"]) == 0
    assert "Presolving model" in capfd.readouterr().out  # HiGHS's log
    assert (tmp_path / "a" / "report.html").exists()
    assert main(["solve", str(EXAMPLE), "--out", str(tmp_path / "b"), "--no-report"]) == 0
    assert not (tmp_path / "b" / "report.html").exists()
    assert main(["report", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "report.html").exists()
    assert main(["report", str(tmp_path)]) == 2
    assert main(["report", str(tmp_path / "b"), "--year", "2030"]) == 0
    assert "Material flows (year 2030 first" in (tmp_path / "b" / "report.html").read_text()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A solved example run, a compare folder with a failed scenario, a frontier: reported."""
    root = tmp_path_factory.mktemp("reports")
    run_folder = root / "run"
    assert main(["solve", str(EXAMPLE), "--out", str(run_folder)]) == 0
    bad = root / "broken.toml"
    bad.write_text(f'base = "{EXAMPLE}"\n[[change]]\ntable = "facilities"\n'
                   'where = { facility = "nope" }\ncolumn = "capacity_t"\nset = 1\n')
    sweep.compare([EXAMPLE, bad], root / "compare", workers=1, report=True)
    sweep.frontier(EXAMPLE, [0.0, 1.0], root / "frontier", workers=1, report=True)
    return {"run": run_folder, "compare": root / "compare", "frontier": root / "frontier"}


def _render(path: Path, shots: Path) -> dict[str, object]:
    """Open a report offline in Chromium; return its errors, sections' crops and what it drew."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
        asked: list[str] = []

        def cut_off(route):
            if route.request.url.startswith("file:"):
                return route.continue_()
            asked.append(route.request.url)
            return route.abort()

        context.route("**/*", cut_off)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length"
                               " >= document.querySelectorAll('.plotly-graph-div').length")
        crops = {}
        for section in page.locator("section.section").all():
            key = section.get_attribute("id")
            crops[key] = shots / f"{path.parent.name}-{key}.png"
            section.screenshot(path=str(crops[key]))
        found = {"errors": errors, "asked": asked, "crops": crops,
                 "land": page.locator("g.layer.land path").count(),
                 "answer": page.locator("#answer").inner_text()}
        browser.close()
    return found


def _blank(path: Path) -> bool:
    from PIL import Image

    colours = Image.open(io.BytesIO(path.read_bytes())).convert("RGB").getcolors(maxcolors=1 << 20)
    return colours is not None and len(colours) < 8


@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                    reason="needs Debian's chromium (apt-get install chromium); CI installs it")
@pytest.mark.parametrize("kind", ["run", "compare", "frontier"])
def test_report_renders_offline_in_headless_chromium(reports, kind, tmp_path):
    folder = reports[kind]
    found = _render(folder / "report.html", tmp_path)
    assert found["errors"] == [] and found["asked"] == []
    assert (folder / "report.html").stat().st_size < 8 * 2**20  # one file to send by email
    expected = {"run": {"answer", "timeline", "supply", "map", "flows", "money", "marginals",
                        "plan", "assumptions", "details"},
                "compare": {"answer", "failed", "fids", "coverage", "subsidy", "table"},
                "frontier": {"answer", "frontier", "table", "entry"}}[kind]
    assert set(found["crops"]) == expected
    blank = [k for k, crop in found["crops"].items() if _blank(crop)]
    assert blank == [], f"sections that rendered blank: {blank}"
    if kind == "run":
        assert found["land"] > 0, "the map's base layer is not drawn"
        funded = [f["facility"] for f in json.loads((folder / "summary.json").read_text())
                  ["funded"]]
        assert funded and all(f in found["answer"] for f in funded)
    if kind == "frontier":
        entering = pd.read_csv(folder / "entry_order.csv").facility
        assert len(entering) and all(f in found["answer"] for f in entering)
    if kind == "compare":
        assert "broken failed" in found["answer"] and "matches no row" in found["answer"]
        funded = pd.read_csv(folder / "comparison.csv").query("metric == 'fid_year'").item
        assert all(f in found["answer"] for f in funded)
