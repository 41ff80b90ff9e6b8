"""One bad-input test per validation rule: the message names the file, row and column."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from instances import copy_example

from optimize.cli import main
from optimize.data.checks import load
from optimize.errors import InputError


def edit(folder: Path, file: str, row: int, column: str, value: str) -> None:
    """Set the cell at spreadsheet row ``row`` (header = 1) and ``column`` of ``file``."""
    path = folder / file
    rows = list(csv.reader(path.read_text().splitlines()))
    rows[row - 1][rows[0].index(column)] = value
    with open(path, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def problems(folder: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load(folder)
    return [str(p) for p in info.value.problems]


@pytest.fixture
def example(tmp_path):
    return copy_example(tmp_path / "inputs")


def expect(folder: Path, *parts: str) -> None:
    found = problems(folder)
    assert any(all(part in p for part in parts) for p in found), "\n".join(found)


# facilities.csv rows: 2 heavy-hardrock-mine, 3 light-bastnaesite-mine, 4 light-separation,
# 5 heavy-separation-cn, 6 heavy-separation-new, 7 metal-plant, 8 ndfeb-line,
# 9 ndfeb-line-phase2, 10 smco-line.

@pytest.mark.parametrize("file, row, column, value, parts", [
    ("facilities.csv", 3, "capacity_t", "-5", ("must not be negative",)),
    ("facilities.csv", 3, "capacity_t", "nan", ("NaN",)),
    ("facilities.csv", 3, "capacity_t", "2e7", ("kg typed as t",)),
    ("facilities.csv", 3, "capacity_t", "lots", ("expected a number",)),
    ("facilities.csv", 2, "lead_years", "2.5", ("whole number",)),
    ("facilities.csv", 2, "lead_years", "0", ("must be >= 1",)),
    ("facilities.csv", 2, "lead_years", "", ("blank or missing", "candidate")),
    ("facilities.csv", 3, "online_year", "", ("blank or missing", "existing")),
    ("facilities.csv", 3, "country", "", ("blank or missing",)),
    ("facilities.csv", 3, "country", "usa", ("ISO",)),
    ("facilities.csv", 4, "stage", "seperation", ("did you mean 'separation'",)),
    ("facilities.csv", 2, "public_share", "1.5", ("must be <= 1",)),
    ("facilities.csv", 3, "available_share", "0", ("must be > 0",)),
    ("facilities.csv", 2, "ramp", "0.4;1.2", ("fraction",)),
    ("facilities.csv", 2, "earliest_fid", "2060", ("outside the horizon",)),
    ("facilities.csv", 9, "requires", "ndfeb-lin", ("unknown facility", "did you mean")),
    ("facilities.csv", 8, "requires", "ndfeb-line", ("cannot require itself",)),
    ("facilities.csv", 3, "facility", "heavy-hardrock-mine", ("duplicate key",)),
    ("recoveries.csv", 2, "recovery", "1.2", ("must be <= 1",)),
    ("recoveries.csv", 2, "element", "Xx", ("unknown element",)),
    ("recoveries.csv", 2, "facility", "heavy-hardrock-mine", ("not a separation or metal",)),
    ("assays.csv", 2, "share", "0.9", ("sum to",)),
    ("assays.csv", 2, "facility", "no-such-mine", ("unknown facility",)),
    ("assays.csv", 2, "facility", "light-separation", ("is not a mine",)),
    ("programs.csv", 2, "grade", "NdFeB-XX", ("unknown grade",)),
    ("demand.csv", 2, "program", "f-35", ("unknown program",)),
    ("demand.csv", 2, "year", "2050", ("outside the horizon",)),
    ("line_grades.csv", 2, "facility", "metal-plant", ("not a magnet line",)),
    ("prices.csv", 2, "item", "Nx", ("unknown element",)),
    ("prices.csv", 2, "commodity", "oxyde", ("did you mean 'oxide'",)),
    ("offers.csv", 2, "provenance", "clear", ("did you mean 'clean'",)),
    ("offers.csv", 2, "year", "2041", ("outside the horizon",)),
    ("funding.csv", 2, "countries", "US;Canada", ("ISO",)),
    ("funding.csv", 2, "stages", "mine;refining", ("not one of",)),
    ("funding.csv", 2, "last_year", "2020", ("before first_year",)),
    ("links.csv", 2, "to", "metal-plant", ("consecutive stages",)),
    ("links.csv", 2, "from", "nowhere", ("unknown facility",)),
    ("locations.csv", 2, "latitude", "95", ("must be <= 90",)),
    ("locations.csv", 3, "longitude", "-180.5", ("must be >= -180",)),
    ("locations.csv", 4, "facility", "smco-lin", ("unknown facility", "did you mean")),
    ("locations.csv", 2, "source", "", ("blank or missing",)),
])
def test_bad_cell_is_reported_with_file_row_and_column(example, file, row, column, value, parts):
    edit(example, file, row, column, value)
    found = problems(example)
    located = [p for p in found if p.startswith(f"{file}, ")]
    assert located, "\n".join(found)
    expect(example, file, *parts)
    matching = [p for p in found if all(part in p for part in parts)]
    assert any(f"column {column}" in p or column in ("facility",) for p in matching), matching
    if file != "assays.csv" or column != "share":
        assert any(f"row {row}," in p for p in matching), matching


def test_missing_file(example):
    (example / "programs.csv").unlink()
    expect(example, "programs.csv", "file is missing")


def test_optional_file_may_be_absent(example):
    (example / "offers.csv").unlink()
    (example / "links.csv").unlink()
    (example / "funding.csv").unlink()
    (example / "locations.csv").unlink()
    assert not load(example).locations


def test_missing_and_misspelt_column(example):
    text = (example / "facilities.csv").read_text().replace("capacity_t", "capacty_t", 1)
    (example / "facilities.csv").write_text(text)
    expect(example, "facilities.csv", "row 1", "column capacty_t", "did you mean 'capacity_t'")
    expect(example, "facilities.csv", "row 1", "column capacity_t", "required column is missing")


def test_row_with_too_many_cells(example):
    with open(example / "elements.csv", "a") as fh:
        fh.write("Gd,Gd2O3,0.868,note,extra\n")
    expect(example, "elements.csv", "row 7", "cells but the header has")


def test_not_utf8(example):
    text = "grade,element,kg_per_kg\nN\xe9,Nd,0.2\n"
    (example / "grades.csv").write_bytes(text.encode("latin-1"))
    expect(example, "grades.csv", "not UTF-8")


def test_settings_problems(example):
    text = (example / "settings.toml").read_text()
    text = text.replace("discount_rate = 0.03", "discount_rat = 0.03")
    text = text.replace("threads = 1", 'threads = "one"')
    (example / "settings.toml").write_text(text)
    expect(example, "settings.toml", "column discount_rat", "did you mean 'discount_rate'")
    expect(example, "settings.toml", "column discount_rate", "required setting is missing")
    expect(example, "settings.toml", "column solver.threads", "whole number")


def test_horizon_must_run_forward(example):
    text = (example / "settings.toml").read_text().replace("end_year = 2040", "end_year = 2020")
    (example / "settings.toml").write_text(text)
    expect(example, "settings.toml", "end_year", "before start_year")


def test_missing_price(example):
    lines = (example / "prices.csv").read_text().splitlines()
    (example / "prices.csv").write_text("\n".join(line for line in lines
                                                  if not line.startswith("magnet,SmCo")) + "\n")
    expect(example, "prices.csv", "no price for magnet 'SmCo'")


def test_requires_cycle(example):
    edit(example, "facilities.csv", 8, "requires", "ndfeb-line-phase2")
    expect(example, "facilities.csv", "row 8", "loops back")


def test_every_problem_is_reported_at_once(example):
    edit(example, "facilities.csv", 3, "capacity_t", "-1")
    edit(example, "demand.csv", 2, "program", "nobody")
    edit(example, "grades.csv", 2, "kg_per_kg", "x")
    found = problems(example)
    files = {p.split(",")[0] for p in found}
    assert {"facilities.csv", "demand.csv", "grades.csv"} <= files


def test_cli_exits_2_with_a_clear_message_and_no_traceback(example, capsys):
    edit(example, "facilities.csv", 3, "capacity_t", "-5")
    assert main(["solve", str(example), "--out", str(example.parent / "out")]) == 2
    err = capsys.readouterr().err
    assert "facilities.csv, row 3, column capacity_t: must not be negative" in err
    assert "Traceback" not in err
    assert not (example.parent / "out").exists()
    assert main(["validate", str(example)]) == 2


def test_cli_reports_a_missing_folder(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "inputs folder or scenario file not found" in capsys.readouterr().err


def test_typed_rows_are_remembered_by_their_cells_not_by_their_file(example):
    """Typing remembers rows it has seen (sweeps read one base many times): a second read
    reports the same problems, and an edited row is typed afresh."""
    edit(example, "facilities.csv", 3, "capacity_t", "-5")
    first = problems(example)
    assert any("row 3, column capacity_t" in p for p in first)
    assert problems(example) == first
    edit(example, "facilities.csv", 3, "capacity_t", "500")
    assert load(example).facilities["light-bastnaesite-mine"].capacity_t == 500
