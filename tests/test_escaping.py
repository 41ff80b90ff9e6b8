"""Names from the inputs cannot run as spreadsheet formulas in the CSVs."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from instances import single_chain

from optimize.results.write import spreadsheet_safe, spreadsheet_text, write_csv

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


def test_sweep_tables_are_quoted_too(tmp_path):
    from optimize import sweep

    table = sweep.comparison_table(["=evil"], {"=evil": {
        "status": "optimal", "subsidy_npv_musd": -1.0, "funded": [
            {"facility": "+cmd", "fid_year": 2030}]}}, {})
    write_csv(table, tmp_path / "comparison.csv")
    text = (tmp_path / "comparison.csv").read_text()
    assert text.splitlines()[0] == "metric,item,'=evil"
    assert "fid_year,'+cmd,2030" in text and "subsidy_npv_musd,,-1" in text
