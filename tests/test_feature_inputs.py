"""Bad input for the features of issue 13 (finite stocks, deals in force, committed projects):
each message names the file, row and column."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from instances import copy_example, expect

from optimize.data.checks import load


def set_column(folder: Path, file: str, column: str, values: dict[int, str]) -> None:
    """Add ``column`` to ``file`` if missing and set it on the given spreadsheet rows."""
    path = folder / file
    rows = list(csv.reader(path.read_text().splitlines()))
    if column not in rows[0]:
        rows[0].append(column)
        for r in rows[1:]:
            r.append("")
    i = rows[0].index(column)
    for row, value in values.items():
        rows[row - 1][i] = value
    with open(path, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@pytest.fixture
def example(tmp_path):
    return copy_example(tmp_path / "inputs")


# facilities.csv rows: 2 heavy-hardrock-mine, 3 light-bastnaesite-mine, 4 light-separation, ...
# offers.csv rows: 2-4 dy-stockpile, 5- china-dy-oxide.

def test_a_mine_total_is_read(example):
    set_column(example, "facilities.csv", "total_t", {2: "1000"})
    set_column(example, "offers.csv", "total_t", {2: "5", 3: "5", 4: "5"})
    data = load(example)
    assert data.stocks == {("mine", "heavy-hardrock-mine"): 1000.0, ("offer", "dy-stockpile"): 5.0}


@pytest.mark.parametrize("value, parts", [("-1", ("must not be negative",)),
                                          ("2e9", ("must be <=",)),
                                          ("many", ("expected a number",))])
def test_a_bad_total_names_the_cell(example, value, parts):
    set_column(example, "facilities.csv", "total_t", {2: value})
    expect(example, "facilities.csv, row 2, column total_t", *parts)


def test_only_a_mine_has_a_total(example):
    set_column(example, "facilities.csv", "total_t", {4: "100"})
    expect(example, "facilities.csv, row 4, column total_t", "only a mine",
           "'light-separation' is a separation")


def test_an_offer_total_is_the_same_on_every_row(example):
    set_column(example, "offers.csv", "total_t", {2: "5", 3: "6", 4: ""})
    found = expect(example, "offers.csv, row 3, column total_t", "'dy-stockpile'",
                   "6 here but 5 at row 2")
    assert any("offers.csv, row 4, column total_t" in p and "blank here" in p for p in found)
