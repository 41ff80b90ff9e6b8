"""Scenario files: a base folder plus changes; errors name the scenario file and the change."""

from __future__ import annotations

import json

import pytest
from instances import EXAMPLE

from optimize.cli import main
from optimize.data.checks import load, load_inputs
from optimize.errors import InputError


def scenario(tmp_path, body: str, name: str = "s.toml"):
    path = tmp_path / name
    path.write_text(f'base = "{EXAMPLE}"\ndescription = "test"\n' + body)
    return path


def problems(path) -> list[str]:
    with pytest.raises(InputError) as info:
        load(path)
    return [str(p) for p in info.value.problems]


def test_scenario_solves_like_a_folder_and_is_recorded(tmp_path, capsys):
    path = scenario(tmp_path, """
[[change]]
table = "prices"
where = { commodity = "oxide", item = ["Dy", "Tb"] }
column = "usd_per_kg"
multiply = 3
""", "dear-heavies.toml")
    base, changed = load(EXAMPLE), load(path)
    assert changed.prices[("oxide", "Dy", 2030)] == pytest.approx(3 * base.prices[("oxide", "Dy",
                                                                                     2030)])
    assert changed.prices[("oxide", "Nd", 2030)] == base.prices[("oxide", "Nd", 2030)]
    assert load_inputs(path).sha256 != load_inputs(EXAMPLE).sha256
    out = tmp_path / "run"
    assert main(["solve", str(path), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "dear-heavies"
    assert summary["scenario_file"]["base"] == str(EXAMPLE)
    assert summary["inputs_sha256"] == load_inputs(path).sha256


def test_set_add_drop_rows_and_settings(tmp_path):
    path = scenario(tmp_path, """
[[change]]
table = "facilities"
where = { facility = "heavy-hardrock-mine" }
column = "earliest_fid"
add = 5

[[change]]
table = "offers"
where = { provenance = "tainted" }
drop = true

[[change]]
table = "funding"
[[change.rows]]
program = "JP-JOGMEC"
countries = ["AU", "JP"]
stages = "mine;separation"
covers = "capex"
first_year = 2026
last_year = 2040
annual_musd = 50
source = "test"

[[change]]
table = "settings"
column = "discount_rate"
set = 0.07

[[change]]
table = "facilities"
where = { stage = "magnet", status = "candidate" }
column = "lead_years"
set = 3
""")
    data = load(path)
    assert data.facilities["heavy-hardrock-mine"].earliest_fid == 2032
    assert all(o.provenance == "clean" for o in data.offers.values())
    assert data.funding["JP-JOGMEC"].countries == frozenset({"AU", "JP"})
    assert data.discount_rate == 0.07
    assert data.facilities["ndfeb-line"].lead_years == 3
    assert data.facilities["ndfeb-line-phase2"].lead_years == 3


@pytest.mark.parametrize("body, parts", [
    ('[[change]]\ntable = "facilities"\nwhere = { facility = "nope" }\ncolumn = "capacity_t"\n'
     'set = 1\n', ["s.toml", "change 1 (facilities)", "matches no row"]),
    ('[[change]]\ntable = "facilities"\nwhere = { facility = "ndfeb-line" }\n'
     'column = "capacity"\nset = 1\n', ["change 1", "unknown column 'capacity'",
                                          "did you mean 'capacity_t'"]),
    ('[[change]]\ntable = "facility"\ndrop = true\n', ["change 1", "unknown table",
                                                      "did you mean 'facilities'"]),
    ('[[change]]\ntable = "facilities"\nset = 1\nmultiply = 2\ncolumn = "capacity_t"\n',
     ["change 1", "exactly one of"]),
    ('[[change]]\ntable = "facilities"\nwhere = { facility = "ndfeb-line" }\n'
     'column = "source"\nmultiply = 2\n', ["change 1", "cannot multiply"]),
    ('[[change]]\ntable = "settings"\ncolumn = "discount"\nset = 0.1\n',
     ["change 1", "unknown setting", "did you mean 'discount_rate'"]),
])
def test_bad_change_names_the_file_and_the_change(tmp_path, body, parts):
    found = problems(scenario(tmp_path, body))
    assert any(all(p in f for p in parts) for f in found), found


def test_change_that_leaves_tables_invalid_is_traced_to_it(tmp_path):
    found = problems(scenario(tmp_path, """
[[change]]
table = "facilities"
where = { facility = "metal-plant" }
column = "capacity_t"
multiply = -1

[[change]]
table = "demand"
rows = [{ program = "ghost", year = 2030, units = 1 }]
"""))
    assert any("facilities.csv, row 7, column capacity_t: must not be negative" in f
               and "set by s.toml, change 1 (facilities)" in f for f in found), found
    assert any(f.startswith("s.toml") and "change 2 (demand), added row 1" in f
               and "unknown program 'ghost'" in f for f in found), found


def test_missing_base_and_bad_toml(tmp_path):
    bad = tmp_path / "b.toml"
    bad.write_text('base = "no/such/folder"\n')
    assert any("not found" in f for f in problems(bad))
    bad.write_text("base = \n")
    assert any("cannot read scenario file" in f for f in problems(bad))
