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


DEALS_HEADER = ("deal,kind,program,facility,commodity,item,usd_per_kg,share,musd,first_year,"
                "last_year,source\n")


def write_deals(folder: Path, *rows: str) -> None:
    (folder / "deals.csv").write_text(DEALS_HEADER + "".join(r + "\n" for r in rows))


def test_deals_are_read(example):
    write_deals(example, "nd-floor,floor,US-DoD,light-separation,oxide,Nd,110,0.5,,2026,2035,s",
                "grant,grant,US-DoD,metal-plant,,,,,10,2026,2028,s")
    deals = load(example).deals
    assert [(d.name, d.kind, d.share, d.musd) for d in deals] == [
        ("nd-floor", "floor", 0.5, 0.0), ("grant", "grant", 1.0, 10.0)]


@pytest.mark.parametrize("row, parts", [
    ("f,floor,US-DOD,light-separation,oxide,Nd,110,,,2026,2035,s",
     ("row 2, column program", "unknown funding program 'US-DOD'", "did you mean 'US-DoD'")),
    ("f,floor,Texas,light-separation,oxide,Nd,110,,,2026,2035,s\n"
     "f,floor,US-DoD,light-separation,oxide,Nd,110,,,2026,2035,s",
     ("row 3, column deal", "duplicate key f")),
    ("f,floor,US-DoD,light-separation,oxide,Nd,,,,2026,2035,s",
     ("row 2, column usd_per_kg", "required when kind is floor")),
    ("f,floor,US-DoD,light-separation,metal,Nd,110,,,2026,2035,s",
     ("row 2, column commodity", "cannot pay 'light-separation' (separation): it sells oxide")),
    ("f,floor,US-DoD,light-bastnaesite-mine,oxide,Nd,110,,,2026,2035,s",
     ("row 2, column commodity", "a mine sells concentrate")),
    ("f,floor,US-DoD,ndfeb-line,magnet,NdFeB-XX,110,,,2026,2035,s",
     ("row 2, column item", "unknown grade 'NdFeB-XX'")),
    ("f,floor,US-DoD,light-separation,oxide,Nd,110,0,,2026,2035,s",
     ("row 2, column share", "must be > 0")),
    ("f,floor,US-DoD,light-separation,oxide,Nd,110,,5,2026,2035,s",
     ("row 2, column musd", "a floor has no musd")),
    ("g,grant,US-DoD,metal-plant,oxide,,,,5,2026,2035,s",
     ("row 2, column commodity", "a grant has no commodity")),
    ("g,grant,US-DoD,metal-plant,,,,,,2026,2035,s",
     ("row 2, column musd", "required when kind is grant")),
    ("g,grant,US-DoD,metal-plant,,,,,5,2030,2029,s",
     ("row 2, column last_year", "before first_year")),
    ("g,grant,US-DoD,nowhere,,,,,5,2026,2029,s",
     ("row 2, column facility", "unknown facility 'nowhere'")),
    ("g,loan,US-DoD,metal-plant,,,,,5,2026,2029,s",
     ("row 2, column kind", "is not one of floor, grant")),
])
def test_a_bad_deal_names_the_cell(example, row, parts):
    write_deals(example, row)
    expect(example, "deals.csv", *parts)


def test_grants_must_fit_the_payers_budgets(example):
    # US-DoD: 120 MUSD a year, 900 in all (2026-2040).
    write_deals(example, "a,grant,US-DoD,metal-plant,,,,,100,2026,2030,s",
                "b,grant,US-DoD,smco-line,,,,,30,2030,2030,s")
    expect(example, "deals.csv, row 3, column musd", "'US-DoD' in 2030 come to 130 MUSD",
           "annual budget of 120")
    write_deals(example, "a,grant,US-DoD,metal-plant,,,,,100,2026,2035,s")
    expect(example, "deals.csv, row 2, column musd", "more than its total budget of 900")


def test_a_committed_facility_needs_its_online_year(example):
    from test_validation import edit

    edit(example, "facilities.csv", 3, "status", "committed")
    edit(example, "facilities.csv", 3, "online_year", "")
    expect(example, "facilities.csv, row 3, column online_year",
           "required when status is existing or committed")
    edit(example, "facilities.csv", 3, "status", "comitted")
    expect(example, "facilities.csv, row 3, column status", "did you mean 'committed'")


def test_a_payer_outside_funding_csv_counts_against_no_budget(example):
    write_deals(example, "texas,grant,Texas,metal-plant,,,,,500,2026,2028,s")
    assert load(example).grants_musd("Texas") == 1500


# -- qualification and competing demand (issue 13, items 4-6) ------------------------------
# facilities.csv row 8 is ndfeb-line; programs.csv row 2 ndfeb-weapons, row 3 smco-munitions.

def test_qualification_buyer_and_platform_are_read(example):
    set_column(example, "facilities.csv", "qualification_years", {8: "2"})
    set_column(example, "programs.csv", "buyer", {3: "allied-defense"})
    set_column(example, "programs.csv", "platform", {2: "aggregate"})
    data = load(example)
    assert data.facilities["ndfeb-line"].qualification_years == 2
    assert data.facilities["smco-line"].qualification_years == 0
    assert [(p.buyer, p.platform) for p in data.programs.values()] == [
        ("us-defense", "aggregate"), ("allied-defense", "smco-munitions")]


@pytest.mark.parametrize("file, row, column, value, parts", [
    ("facilities.csv", 8, "qualification_years", "-1", ("must not be negative",)),
    ("facilities.csv", 8, "qualification_years", "1.5", ("whole number",)),
    ("facilities.csv", 4, "qualification_years", "2", ("only a magnet line",
                                                       "'light-separation' is a separation")),
    ("programs.csv", 2, "buyer", "us-defence", ("did you mean 'us-defense'",)),
])
def test_bad_qualification_or_buyer_names_the_cell(example, file, row, column, value, parts):
    set_column(example, file, column, {row: value})
    expect(example, f"{file}, row {row}, column {column}", *parts)
