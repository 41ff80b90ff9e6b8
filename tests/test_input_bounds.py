"""Bounds on what the inputs and the command line may say: years, magnitudes, empty tables,
solver flags and budget scales. Out of bounds is invalid input (exit 2) at once; valid but
badly scaled inputs get a warning naming the figure."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
from instances import EXAMPLE, copy_example, expect, problems
from test_validation import edit

from optimize import sweep
from optimize.cli import main
from optimize.data.checks import load, load_inputs
from optimize.data.registry import CSV_TABLES, SETTINGS
from optimize.errors import InputError, ReePlanWarning
from optimize.pipeline import finite_or_null, options_for, run


@pytest.fixture
def example(tmp_path):
    return copy_example(tmp_path / "inputs")


# -- years -----------------------------------------------------------------------------------

YEAR_COLUMNS = [(t.file, c.name) for t in CSV_TABLES for c in t.columns if c.unit == "year"]


def test_every_year_column_is_bounded_in_the_registry():
    assert {f for f, _ in YEAR_COLUMNS} == {"facilities.csv", "programs.csv", "demand.csv",
                                            "prices.csv", "offers.csv", "funding.csv",
                                            "deals.csv"}
    for table in (*CSV_TABLES, SETTINGS):
        for c in table.columns:
            if c.unit == "year":
                assert (c.lower, c.upper) == (1900, 2200), (table.file, c.name)


def first_row_with(folder: Path, file: str, column: str) -> int:
    import csv

    rows = list(csv.DictReader((folder / file).open()))
    return next(i for i, r in enumerate(rows, start=2) if r.get(column))


@pytest.mark.parametrize("file, column", YEAR_COLUMNS)
@pytest.mark.parametrize("year", ["-1e15", "1e15", "1899", "2201"])
def test_a_year_out_of_bounds_is_an_error_at_once(example, file, column, year):
    if not (example / file).exists():  # deals.csv: optional, not in the example
        (example / file).write_text("deal,kind,program,facility,musd,first_year,last_year,"
                                    "source\ng,grant,US-DoD,metal-plant,1,2026,2027,s\n")
    row = first_row_with(example, file, column)
    edit(example, file, row, column, year)
    started = time.perf_counter()
    expect(example, f"{file}, row {row}, column {column}", "is outside 1900-2200")
    assert time.perf_counter() - started < 5


def test_settings_years_are_bounded(example):
    text = (example / "settings.toml").read_text().replace("end_year = 2040", "end_year = 1e15")
    (example / "settings.toml").write_text(text)
    expect(example, "settings.toml, column end_year", "outside 1900-2200")


# -- empty tables ----------------------------------------------------------------------------

def header_only(folder: Path) -> None:
    for table in CSV_TABLES:
        path = folder / table.file
        if path.exists():
            path.write_text(path.read_text().splitlines()[0] + "\n")


def test_inputs_with_only_headers_are_invalid_naming_the_tables(example, tmp_path, capsys):
    header_only(example)
    found = problems(example)
    needed = {"elements.csv", "facilities.csv", "grades.csv", "programs.csv", "prices.csv"}
    assert {p.split(":")[0] for p in found} == needed, found
    assert all("has no rows (only a header); at least one row is needed" in p for p in found)
    out = tmp_path / "out"
    assert main(["solve", str(example), "--out", str(out)]) == 2
    assert not out.exists()
    assert "Empty" not in capsys.readouterr().err


def test_a_scenario_that_drops_every_facility_is_invalid(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(f'base = "{EXAMPLE}"\n[[change]]\ntable = "facilities"\ndrop = true\n')
    expect(path, "facilities.csv: has no rows")


def test_no_demand_at_all_is_still_a_valid_question(example):
    (example / "demand.csv").write_text("program,year,units,source\n")
    load(example)


# -- magnitudes ------------------------------------------------------------------------------

@pytest.mark.parametrize("file, row, column, value, message", [
    ("facilities.csv", 2, "capex_musd", "1e16", "must be <= 1e+06 MUSD"),
    ("facilities.csv", 2, "fixed_om_musd", "1e7", "must be <= 1e+06 MUSD/yr"),
    ("facilities.csv", 2, "variable_usd_per_kg", "1e8", "must be <= 1e+07 USD/kg"),
    ("demand.csv", 2, "units", "1e300", "must be <= 1e+09 units/yr"),
    ("programs.csv", 2, "kg_per_unit", "1e7", "must be <= 1e+06 kg/unit"),
    ("programs.csv", 2, "penalty_usd_per_kg", "1e10", "must be <= 1e+07 USD/kg"),
    ("prices.csv", 2, "usd_per_kg", "5.5e11", "must be <= 1e+07 USD/kg"),
    ("offers.csv", 2, "usd_per_kg", "1e8", "must be <= 1e+07 USD/kg"),
    ("offers.csv", 2, "max_t", "1e8", "kg typed as t"),
    ("funding.csv", 2, "annual_musd", "1e9", "must be <= 1e+06 MUSD/yr"),
    ("funding.csv", 2, "total_musd", "1e9", "must be <= 1e+06 MUSD"),
])
def test_magnitudes_beyond_the_solver_are_validation_errors(example, file, row, column, value,
                                                             message):
    edit(example, file, row, column, value)
    expect(example, f"{file}, row {row}, column {column}", message)


def test_every_numeric_column_has_an_upper_bound():
    for table in (*CSV_TABLES, SETTINGS):
        for c in table.columns:
            if c.kind in ("int", "float"):
                assert c.upper is not None, (table.file, c.name)


def scenario(tmp_path: Path, body: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'base = "{EXAMPLE}"\n' + body)
    return path


def test_a_capacity_scaled_by_1e_minus_7_warns_naming_the_cell(tmp_path):
    path = scenario(tmp_path, '[[change]]\ntable = "facilities"\n'
                              'where = { facility = "smco-line" }\ncolumn = "capacity_t"\n'
                              'multiply = 1e-7\n')
    with pytest.warns(ReePlanWarning) as caught:
        load(path)
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("facilities.csv, row 10, column capacity_t: 4e-06 t is 1.0e+10 "
                            "times smaller") and "set by s.toml, change 1 (facilities)" in m
               for m in messages), messages


def test_tiny_tonnages_and_wide_price_ranges_warn(example):
    edit(example, "offers.csv", 2, "max_t", "1e-8")
    edit(example, "prices.csv", 2, "usd_per_kg", "1e-7")
    with pytest.warns(ReePlanWarning) as caught:
        load(example)
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("offers.csv, row 2, column max_t: 1e-08 t is below 1e-06 t")
               for m in messages), messages
    assert any(m.startswith("prices.csv, row 2, column usd_per_kg: 1e-07 USD/kg is")
               for m in messages), messages


def test_the_command_line_shows_a_warning_as_one_line_and_goes_on(example):
    edit(example, "offers.csv", 2, "max_t", "1e-8")
    done = subprocess.run([sys.executable, "-m", "optimize", "validate", str(example)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("warning: offers.csv, row 2, column max_t: 1e-08 t"), \
        done.stderr
    assert "warnings.warn" not in done.stderr


def test_shipped_inputs_warn_about_nothing():
    for path in [EXAMPLE, EXAMPLE.parent / "baseline",
                 *sorted((EXAMPLE.parent / "scenarios").glob("*.toml"))]:
        load(path)  # pytest turns a ReePlanWarning into an error


# -- solver flags ----------------------------------------------------------------------------

@pytest.mark.parametrize("flag, value, message", [
    ("--mip-gap", "-1", "must not be negative"),
    ("--mip-gap", "5", "must be <= 1"),
    ("--mip-gap", "nan", "not a number"),
    ("--time-limit", "-1", "must be > 0"),
    ("--time-limit", "0", "must be > 0"),
    ("--time-limit", "nan", "not a number"),
    ("--time-limit", "inf", "not a number"),
    ("--time-limit", "1e300", "must be <= 1e+07"),
    ("--threads", "-1", "must be >= 1"),
    ("--threads", "100000", "must be <= 256"),
    ("--threads", "1.5", "whole number"),
])
def test_solver_flags_obey_the_settings_bounds(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as info:
        main(["solve", str(EXAMPLE), "--out", str(tmp_path / "out"), flag, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {flag}: " in err and message in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [
    ["compare", str(EXAMPLE), "--mip-gap", "2"],
    ["compare", str(EXAMPLE), "--workers", "0"],
    ["frontier", str(EXAMPLE), "--time-limit", "-5"],
    ["frontier", str(EXAMPLE), "--workers", "100000"],
    ["report", str(EXAMPLE), "--year", "-1e15"],
])
def test_sweep_and_report_flags_are_bounded_too(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "argument --" in capsys.readouterr().err


@pytest.mark.parametrize("overrides, message", [
    ({"mip_gap": 5}, "must be <= 1"),
    ({"threads": 0}, "must be >= 1"),
    ({"time_limit_s": math.inf}, "finite"),
    ({"time_limit_s": math.nan}, "finite"),
    ({"threads": 2.5}, "whole number"),
    ({"mode": "fastest"}, "not one of"),
])
def test_overrides_from_python_obey_the_same_bounds(overrides, message):
    with pytest.raises(InputError, match=message):
        options_for(load(EXAMPLE), **overrides)


def test_summary_json_is_strict_json(tmp_path):
    assert finite_or_null({"a": [1.0, math.inf, (math.nan, 2)], "b": -math.inf}) == \
        {"a": [1.0, None, (None, 2)], "b": None}
    out = tmp_path / "run"
    run(EXAMPLE, out=out, time_limit_s=60)
    json.loads((out / "summary.json").read_text(),
               parse_constant=lambda c: pytest.fail(f"summary.json holds {c}"))


# -- frontier budget scales ------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("0:inf:1", "finite"),
    ("0:1:inf", "finite"),
    ("nan:1:0.1", "finite"),
    ("0:1:nan", "finite"),
    ("0:1000000:0.0001", "at most 1,000"),
    ("0:1:1e-300", "at most 1,000"),
    ("0:1:5e-324", "at most 1,000"),
    ("0:1e300:1e299", "STOP must be at most"),
    ("0:0.02:0.005", "share a run folder"),
    ("0:1", "START:STOP:STEP"),
    ("1:0:0.1", "START <= STOP"),
])
def test_budget_scales_are_refused_up_front(text, message):
    started = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        sweep.parse_scales(text)
    assert time.perf_counter() - started < 1


def test_budget_scales_within_bounds_are_unchanged():
    assert sweep.parse_scales("0:2:0.1") == [round(i * 0.1, 10) for i in range(21)]
    assert len(sweep.parse_scales("0:999:1")) == 1000


@pytest.mark.parametrize("text", ["0:inf:1", "0:1000000:0.0001"])
def test_frontier_refuses_bad_scales_with_exit_2(tmp_path, monkeypatch, capsys, text):
    monkeypatch.chdir(tmp_path)
    assert main(["frontier", str(EXAMPLE), "--budget-scale", text]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --budget-scale") and "bug" not in err
    assert not (tmp_path / "results").exists()


def test_load_inputs_is_unchanged_for_shipped_inputs():
    loaded = load_inputs(EXAMPLE)
    assert loaded.data.start_year == 2026 and len(loaded.data.facilities) == 9


def test_a_discount_rate_that_shrinks_money_a_billion_fold_warns(example):
    text = (example / "settings.toml").read_text()
    text = text.replace("discount_rate = 0.03", "discount_rate = 1").replace(
        "end_year = 2040", "end_year = 2060")
    (example / "settings.toml").write_text(text)
    with pytest.warns(ReePlanWarning, match=r"settings.toml, column discount_rate: at 1 over 34 "
                                            r"years, a MUSD in 2060 counts 5.8e-11"):
        load(example)


def test_a_flood_of_problems_is_printed_in_part_and_counted(example):
    with open(example / "demand.csv", "a") as fh:
        fh.writelines(f"ghost{i},2030,1,x\n" for i in range(1500))
    with pytest.raises(InputError) as info:
        load(example)
    report = info.value.report()
    assert report.startswith("1,500 problems in the inputs:")
    assert len(report.splitlines()) == 1002
    assert report.splitlines()[-1] == "  ... and 500 more: 500 in demand.csv"
