"""Figures from small fixture tables (no solver), and the report rendered in headless Chromium."""

from __future__ import annotations

import io
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from instances import EXAMPLE

from optimize.cli import main
from optimize.report import figures
from optimize.report.html import write_report

FIXTURE = Path(__file__).parent / "fixtures" / "small-run"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def run():
    return figures.read_run(FIXTURE)


def traces(fig, name):
    return [t for t in fig.data if t.name == name]


def test_investment_timeline_has_each_funded_phase(run):
    fig = figures.investment_timeline(run["plan"])
    names = {t.name for t in fig.data}
    assert names == {f"{s}: {p}" for s in ("separation", "magnet")
                     for p in ("construction", "ramp-up", "full output")}
    build = traces(fig, "separation: construction")[0]
    assert list(build.base) == [2030] and list(build.x) == [2]  # FID 2030, output 2032
    assert list(build.y) == ["CA · s1"]
    full = traces(fig, "magnet: full output")[0]
    assert list(full.base) == [2033] and list(full.x) == [8]  # 2033 through 2040
    assert "public share" in build.hovertemplate and build.customdata[0][1] == pytest.approx(0.8)


def test_supply_and_demand_shows_deliveries_shortfall_and_the_date(run):
    fig = figures.supply_and_demand(run["deliveries"], run["elements"])
    assert list(traces(fig, "shortfall")[0].y) == [10, 6, 0]
    assert list(traces(fig, "clean magnets delivered")[0].y) == [0, 4, 10]
    assert list(traces(fig, "clean metal made")[0].y) == [0, 1, 2.5]
    assert [s.x0 for s in fig.layout.shapes] == [2026.5]  # China-free from 2027
    assert "China-free from 2027" in [a.text for a in fig.layout.annotations]


def test_sankey_links_carry_tonnes_and_provenance(run):
    fig = figures.material_sankey(run["flows"], run["plan"], 2029)
    sankey = fig.data[0]
    labels = list(sankey.node.label)
    links = {(labels[s], labels[t]): (v, c) for s, t, v, c in
             zip(sankey.link.source, sankey.link.target, sankey.link.value, sankey.link.color,
                 strict=True)}
    assert links[("m1", "s1")][0] == 50
    assert links[("l1", "prog-a")][0] == 10
    assert links[("offer-x", "t1")][1] == figures.PROVENANCE_COLOURS["tainted"]
    assert links[("s1", "t1")][1] == figures.PROVENANCE_COLOURS["clean"]
    x = dict(zip(labels, sankey.node.x, strict=True))
    assert x["m1"] < x["s1"] < x["t1"] < x["l1"] < x["prog-a"]


def test_money_by_program_with_budgets_by_country_and_by_kind(run):
    fig = figures.money(run["funding"], run["finance"], run["plan"], run["budgets"])
    g1 = traces(fig, "G1")[0]
    assert dict(zip(g1.x, g1.y, strict=True)) == {2030: 20, 2031: 20, 2032: 5, 2033: 0}
    assert set(traces(fig, "G2 budget")[0].y) == {25}
    assert traces(fig, "CA")[0].y.tolist() == [20, 20, 5, 0]
    assert list(traces(fig, "capex (public)")[0].y) == [20, 40, 0, 0]
    assert list(traces(fig, "operating support")[0].y) == [0, 0, 5, 3]
    assert not traces(fig, "AU"), "countries that receive nothing are left out"


def test_compare_report_reads_comparison_csv_back(tmp_path):
    table = pd.DataFrame([
        {"metric": "status", "item": "", "a": "optimal", "b": "failed"},
        {"metric": "subsidy_npv_musd", "item": "", "a": 100.0, "b": None},
    ])
    table.to_csv(tmp_path / "comparison.csv", index=False)
    assert "subsidy" in write_report(tmp_path).read_text()


def test_portfolio_comparison_and_frontier():
    table = pd.DataFrame([
        {"metric": "status", "item": "", "a": "optimal", "b": "optimal"},
        {"metric": "subsidy_npv_musd", "item": "", "a": 100.0, "b": 150.0},
        {"metric": "mean_coverage", "item": "prog-a", "a": 0.5, "b": 0.9},
    ])
    fig = figures.portfolio_comparison(table)
    assert list(traces(fig, "subsidy NPV")[0].y) == [100, 150]
    assert list(traces(fig, "prog-a")[0].y) == [0.5, 0.9]
    frontier = pd.DataFrame({"budget_scale": [0, 0.5, 1], "status": ["optimal"] * 3,
                             "subsidy_npv_musd": [0, 50, 80], "coverage": [0, 0.6, 0.9]})
    entry = pd.DataFrame({"facility": ["s1"], "first_budget_scale": [0.5], "fid_year": [2030]})
    fig = figures.budget_frontier(frontier, entry)
    assert list(fig.data[0].y) == [0, 0.6, 0.9]
    assert [a.text for a in fig.layout.annotations] == ["+s1"]


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
    assert text.count('class="figure"') == 4
    assert "s1" in text and "G2: US; magnet" in text


def test_solve_writes_the_report_unless_told_not_to(tmp_path):
    assert main(["solve", str(EXAMPLE), "--out", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "report.html").exists()
    assert main(["solve", str(EXAMPLE), "--out", str(tmp_path / "b"), "--no-report"]) == 0
    assert not (tmp_path / "b" / "report.html").exists()
    assert main(["report", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "report.html").exists()
    assert main(["report", str(tmp_path)]) == 2
    assert main(["report", str(tmp_path / "b"), "--year", "2030"]) == 0
    assert "Material flows in 2030" in (tmp_path / "b" / "report.html").read_text()


def _render(path: Path) -> tuple[int, list[str], bytes]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length"
                               " >= document.querySelectorAll('.figure').length")
        plots = page.locator(".js-plotly-plot").count()
        shot = page.screenshot(full_page=True)
        browser.close()
    return plots, errors, shot


@pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                    reason="needs Debian's chromium (apt-get install chromium); CI installs it")
@pytest.mark.parametrize("source", ["fixture", "example"])
def test_report_renders_in_headless_chromium(tmp_path, source):
    from PIL import Image

    if source == "fixture":
        folder = shutil.copytree(FIXTURE, tmp_path / "run")
        write_report(folder)
    else:
        folder = tmp_path / "run"
        assert main(["solve", str(EXAMPLE), "--out", str(folder)]) == 0
    plots, errors, shot = _render(folder / "report.html")
    assert plots == 4
    assert errors == []
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 50, "the screenshot looks blank"
