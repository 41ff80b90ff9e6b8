"""Names from the inputs cannot run as spreadsheet formulas in the CSVs, nor as markup or
script in report.html."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from instances import single_chain

from optimize.report import figures
from optimize.report.html import write_report
from optimize.results.write import spreadsheet_safe, spreadsheet_text, write_csv

FIXTURE = Path(__file__).parent / "fixtures" / "small-run"
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_a_formula_like_text_cell_is_quoted(cell):
    assert spreadsheet_text(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["mine", "a=b", "-5", "+3.25", "-1e-3", "", " =x", 2.5, -3, None])
def test_other_cells_and_numbers_stay_as_they_are(cell):
    assert spreadsheet_text(cell) == cell


def test_text_columns_are_quoted_numbers_are_not(tmp_path):
    frame = pd.DataFrame({"facility": [*FORMULAS, "plain"],
                          "capex_musd": [-1.5, -2.0, 3.0, -4.25, 0.0, 1e-9, -7.0],
                          "fid_year": [2030, 2031, None, 2032, 2033, 2034, 2035],
                          "=HEADER()": ["-", "ok", "@x", "x", "y", "z", -1.0]})
    path = tmp_path / "plan.csv"
    write_csv(frame, path)
    rows = list(csv.reader(path.open(newline="")))
    assert rows[0] == ["facility", "capex_musd", "fid_year", "'=HEADER()"]
    assert [r[0] for r in rows[1:]] == ["'" + c for c in FORMULAS] + ["plain"]
    assert [r[1] for r in rows[1:]] == ["-1.5", "-2", "3", "-4.25", "0", "1e-09", "-7"]
    assert [r[3] for r in rows[1:]] == ["'-", "ok", "'@x", "x", "y", "z", "-1.0"]
    back = pd.read_csv(path)
    assert back.capex_musd.tolist() == frame.capex_musd.tolist()
    assert back.facility.tolist() == ["'" + c for c in FORMULAS] + ["plain"]
    # Without a carriage return in a cell, nothing is quoted that need not be.
    write_csv(frame[frame.facility != FORMULAS[-1]], path)
    lines = path.read_text().splitlines()
    assert lines[0] == "facility,capex_musd,fid_year,'=HEADER()"
    assert lines[2] == "'+1+cmd|' /C calc'!A0,-2,2031,ok"
    assert frame.facility.tolist()[0] == FORMULAS[0], "the caller's frame is not changed"
    assert spreadsheet_safe(frame[["capex_musd"]]).equals(frame[["capex_musd"]])


def test_a_solved_run_quotes_names_from_the_inputs(solve_checked, tmp_path):
    """Solve a chain whose magnet line and program are named as formulas; read the CSVs."""
    from optimize.pipeline import run

    evil_line, evil_program = '=HYPERLINK("http://x","y")', "@SUM(1+1)"
    instance = single_chain()
    instance.row("facilities", facility="line")["facility"] = evil_line
    instance.row("line_grades", facility="line")["facility"] = evil_line
    instance.row("programs", program="prog")["program"] = evil_program
    for row in instance.tables["demand"]:
        row["program"] = evil_program
    folder = instance.write(tmp_path / "in")
    out = tmp_path / "out"
    result = run(folder, out=out, report=True)
    assert result.status.has_solution
    plan = list(csv.DictReader((out / "plan.csv").open(newline="")))
    assert "'" + evil_line in {r["facility"] for r in plan}
    deliveries = list(csv.DictReader((out / "deliveries.csv").open(newline="")))
    assert {r["program"] for r in deliveries} == {"'" + evil_program}
    assert all(not r[k].startswith(("=", "@", "+")) for r in plan + deliveries for k in r)
    assert json.loads((out / "summary.json").read_text())["funded"][0]["facility"] == evil_line
    assert '=HYPERLINK("http://x","y")' in (out / "report.html").read_text()  # as text


def test_sweep_tables_are_quoted_too(tmp_path):
    from optimize import sweep

    table = sweep.comparison_table(["=evil"], {"=evil": {
        "status": "optimal", "subsidy_npv_musd": -1.0, "funded": [
            {"facility": "+cmd", "fid_year": 2030}]}}, {})
    write_csv(table, tmp_path / "comparison.csv")
    text = (tmp_path / "comparison.csv").read_text()
    assert text.splitlines()[0] == "metric,item,'=evil"
    assert "fid_year,'+cmd,2030" in text and "subsidy_npv_musd,,-1" in text


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


def test_report_escapes_hand_edited_summary_and_tables(tmp_path):
    folder = shutil.copytree(FIXTURE, tmp_path / "run")
    summary = json.loads((folder / "summary.json").read_text())
    summary["scenario"] = SCRIPT
    summary["message"] = IMG
    summary["solver"] = IMG
    a = summary["assumptions"]
    a["covered_countries"] = [SCRIPT]
    a["horizon"] = IMG
    a["funding_programs"][IMG] = {**a["funding_programs"]["G1"], "countries": [SCRIPT],
                                  "stages": [IMG], "covers": [IMG], "years": IMG}
    a["penalty_usd_per_kg"] = {IMG: 1000}
    summary["first_full_coverage_year"] = {SCRIPT: IMG}
    summary["shortfall_t"] = {SCRIPT: 1.0}
    (folder / "summary.json").write_text(json.dumps(summary))
    plan = pd.read_csv(folder / "plan.csv")
    plan.loc[plan.facility == "s1", "facility"] = IMG
    plan.loc[plan.country == "CA", "country"] = SCRIPT
    plan.to_csv(folder / "plan.csv", index=False)
    flows = pd.read_csv(folder / "flows.csv")
    flows = flows.replace({"s1": IMG, "prog-a": SCRIPT})
    flows.to_csv(folder / "flows.csv", index=False)
    funding = pd.read_csv(folder / "funding.csv").replace({"G1": IMG, "s1": IMG})
    funding.to_csv(folder / "funding.csv", index=False)
    deliveries = pd.read_csv(folder / "deliveries.csv").replace({"prog-a": SCRIPT})
    deliveries.to_csv(folder / "deliveries.csv", index=False)
    (folder / f"{IMG}.csv").write_text("a\n1\n")
    text = write_report(folder).read_text()
    for bad in (SCRIPT, IMG, "<img", "<script>alert"):
        assert bad not in text, bad
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_plotly_labels_are_text_not_markup():
    plan = pd.DataFrame({"facility": ['<a href="javascript:alert(1)">x</a>'],
                         "stage": ["magnet"], "country": ["<b>US</b>"], "status": ["candidate"],
                         "fid_year": [2030], "first_output_year": [2031],
                         "full_output_year": [2032], "last_output_year": [2040],
                         "capacity_t": [10.0], "capex_musd": [1.0], "public_capex_musd": [0.5]})
    funding = pd.DataFrame({"program": ["<i>G</i>"], "facility": [plan.facility[0]],
                            "year": [2030], "covers": ["capex"], "musd": [0.5]})
    fig = figures.chain_timeline(plan, funding, (2027, 2040))
    labels = {y for t in fig.data for y in t.y}
    assert labels == {'&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt; (&lt;b&gt;US&lt;/b&gt;)'}
    assert all("<i>" not in h and "<a " not in h for t in fig.data for h in t.hovertext)
    frontier = pd.DataFrame({"budget_scale": [1.0], "status": ["optimal"],
                             "subsidy_npv_musd": [1.0], "coverage": [1.0]})
    entry = pd.DataFrame({"facility": ["<i>&"], "first_budget_scale": [1.0],
                          "fid_year": [2030]})
    fig = figures.budget_frontier(frontier, entry)
    assert [a.text for a in fig.layout.annotations] == ["+&lt;i&gt;&amp;"]
    table = pd.DataFrame([{"metric": "subsidy_npv_musd", "item": "", "<u>s</u>": 1.0},
                          {"metric": "paid_musd", "item": "<p>", "<u>s</u>": 0.5},
                          {"metric": "fid_year", "item": "<p>", "<u>s</u>": 2030}])
    fig = figures.subsidy_split(table, {})
    assert all(list(t.x) == ["&lt;u&gt;s&lt;/u&gt;"] for t in fig.data)
    assert "&lt;p&gt;" in {t.name for t in fig.data}  # the funding program's trace
    fig = figures.fid_chart(table)
    assert list(fig.data[0].y) == ["&lt;p&gt;"] and list(fig.data[0].x) == ["&lt;u&gt;s&lt;/u&gt;"]
