"""Scenario files with values of the wrong type: a problem naming the file and the change,
never a traceback; and in ``compare`` one such file is a row, not the end of the sweep."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instances import EXAMPLE

from optimize import sweep
from optimize.cli import main
from optimize.data import scenario as scenario_module
from optimize.data.checks import load
from optimize.data.registry import CSV_TABLES
from optimize.errors import InputError, ReePlanWarning


def scenario(folder: Path, body: str, name: str = "s.toml") -> Path:
    path = folder / name
    path.write_text(f'base = "{EXAMPLE}"\n' + body)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load(path)
    return [str(p) for p in info.value.problems]


CHANGE = '[[change]]\ntable = "prices"\nwhere = { item = "Dy" }\ncolumn = "usd_per_kg"\n'


@pytest.mark.parametrize("body, parts", [
    ('[[change]]\ntable = ["prices"]\ndrop = true\n',
     ["change 1, table: must be a table name or 'settings', got ['prices']"]),
    ('[[change]]\ntable = "prices"\nwhere = { item = "Dy" }\ncolumn = 5\nset = 1\n',
     ["change 1 (prices), column: must be a column name, got 5"]),
    (CHANGE + 'multiply = "abc"\n', ["change 1 (prices), multiply: must be a number, got 'abc'"]),
    (CHANGE + 'multiply = true\n', ["multiply: must be a number, got True"]),
    (CHANGE + 'multiply = nan\n', ["multiply: must be a finite number"]),
    (CHANGE + 'add = [1, 2]\n', ["change 1 (prices), add: must be a number, got [1, 2]"]),
    (CHANGE + 'add = 1e400\n', ["add: must be a finite number"]),
    (CHANGE + 'set = { a = 1 }\n', ["set: must be text, a number, true or false or a list"]),
    (CHANGE + 'set = 2030-01-01\n', ["set: must be text, a number", "datetime.date"]),
    (CHANGE + 'set = [[1]]\n', ["set: every item of a list must be"]),
    ('[[change]]\ntable = "prices"\nwhere = 3\ncolumn = "usd_per_kg"\nset = 1\n',
     ["where: must be a table of column = value(s), got 3"]),
    ('[[change]]\ntable = "prices"\nwhere = { item = { a = 1 } }\ncolumn = "usd_per_kg"\n'
     'set = 1\n', ["where: item: must be text"]),
    ('[[change]]\ntable = "offers"\ndrop = false\n', ["drop: must be true, got False"]),
    ('[[change]]\ntable = "offers"\ndrop = true\ncolumn = "max_t"\n',
     ["column: has no effect with 'drop'"]),
    ('[[change]]\ntable = "links"\nwhere = { from = "x" }\nrows = []\n',
     ["where: has no effect with 'rows'"]),
    ('[[change]]\ntable = "links"\nrows = [1, 2]\n', ["rows: must be a list of tables"]),
    ('[[change]]\ntable = "links"\nrows = [{ from = ["a", { b = 1 }] }]\n',
     ["rows: row 1, from: every item of a list must be"]),
    ('[[change]]\ntable = "links"\nrows = [{ form = "a", to = "b" }]\n',
     ["change 1 (links), added row 1: unknown column 'form'", "did you mean 'from'"]),
    ('[[change]]\ntable = "prices"\ndescription = 5\ndrop = true\n',
     ["description: must be text"]),
    ('[[change]]\ntable = "settings"\nwhere = { a = 1 }\ncolumn = "discount_rate"\nset = 0.1\n',
     ["where: has no effect with 'set'"]),
    ('[[change]]\ntable = "settings"\ncolumn = "start_year"\nmultiply = "abc"\n',
     ["multiply: must be a number"]),
    ('[[change]]\ntable = "prices"\nwhere = { item = "Dy" }\nset = 1\n',
     ["'set' needs a 'column'"]),
    ('change = [1, "x"]\n', ["change 2: must be a table ([[change]] with table = ...)",
                             "got 'x'"]),
    ('change = "x"\n', ["'change' must be an array of tables"]),
    ('description = ["x"]\n', ["column description: must be text"]),
    ('[[decision]]\nfacility = 7\nnever = true\n', ["decision 1, facility: must be"]),
])
def test_a_value_of_the_wrong_type_is_a_problem_naming_the_change(tmp_path, body, parts):
    found = problems(scenario(tmp_path, body))
    assert any(f.startswith("s.toml") and all(p in f for p in parts) for f in found), found


@pytest.mark.parametrize("base", ["7", "true", '["a"]', '""', '"\\u0000"', '"' + "x" * 5000 + '"'])
def test_a_base_that_is_not_a_folder_path(tmp_path, base):
    path = tmp_path / "s.toml"
    path.write_text(f"base = {base}\n")
    found = problems(path)
    assert any(f.startswith("s.toml, column base:") for f in found), found


def test_the_command_line_exits_2_without_a_traceback(tmp_path, capsys):
    path = scenario(tmp_path, '[[change]]\ntable = ["prices"]\ncolumn = 5\nmultiply = "abc"\n')
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "s.toml: change 1, table: must be" in err and "multiply: must be a number" in err
    assert "Traceback" not in err and "bug" not in err


def test_whole_year_arithmetic_stays_exact(tmp_path):
    path = scenario(tmp_path, '[[change]]\ntable = "facilities"\n'
                              'where = { facility = "heavy-hardrock-mine" }\n'
                              'column = "earliest_fid"\nadd = 3\n')
    assert load(path).facilities["heavy-hardrock-mine"].earliest_fid == \
        load(EXAMPLE).facilities["heavy-hardrock-mine"].earliest_fid + 3


# -- any TOML value in any key of a [[change]] -------------------------------------------

def toml_value(value: Any) -> str:
    """Write one value as TOML (inline), the inverse of what tomllib reads."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}"
                            for k, v in value.items()) + " }"


def toml_string(value: str) -> str:
    """Write a TOML basic string, escaping what is not printable (and quotes, backslashes)."""
    def escape(c: str) -> str:
        if c.isprintable() and c not in '"\\':
            return c
        return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"

    return '"' + "".join(escape(c) for c in value) + '"'


TABLE_NAMES = [t.name for t in CSV_TABLES] + ["settings"]
COLUMN_NAMES = sorted({c.name for t in CSV_TABLES for c in t.columns} | {"discount_rate"})
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
scalars = st.one_of(
    st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True),
    text, st.sampled_from(TABLE_NAMES + COLUMN_NAMES + ["Dy", "oxide", "ndfeb-line", "2030"]),
    st.dates(),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(COLUMN_NAMES) | text, inner,
                                                 max_size=3)), max_leaves=6)
KEYS = ["table", "where", "column", "set", "multiply", "add", "drop", "rows", "description"]
changes = st.fixed_dictionaries({}, optional={key: values for key in KEYS}) | \
    st.dictionaries(st.sampled_from(KEYS) | text, values, max_size=4)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(change=changes, table=st.sampled_from(TABLE_NAMES))
def test_any_toml_value_in_a_change_is_a_problem_or_a_scenario(tmp_path, change, table):
    change = {"table": table, **change} if "table" not in change else change
    body = "[[change]]\n" + "".join(f"{toml_string(k)} = {toml_value(v)}\n"
                                    for k, v in change.items())
    path = tmp_path / "any.toml"
    path.write_text(f'base = "{EXAMPLE}"\n' + body)
    assert tomllib.loads(path.read_text())["change"][0].keys() == change.keys()
    try:
        load(path)
    except InputError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)
    except ReePlanWarning:  # valid, but badly scaled: pytest makes the warning an error
        pass


# -- compare: an invalid scenario is a row -----------------------------------------------

def test_compare_goes_on_past_a_scenario_of_the_wrong_types(tmp_path):
    bad = scenario(tmp_path, '[[change]]\ntable = ["prices"]\nmultiply = "abc"\n', "bad.toml")
    unreadable = tmp_path / "fifo.toml"
    os.mkfifo(unreadable)
    result = sweep.compare([EXAMPLE, bad, unreadable], tmp_path / "cmp", workers=1)
    assert set(result.failures) == {"bad", "fifo"}
    assert "change 1, table: must be a table name" in result.failures["bad"]
    assert "is a pipe" in result.failures["fifo"]
    table = result.table.set_index(["metric", "item"])
    assert table.loc[("status", ""), "example"] == "optimal"
    assert table.loc[("status", ""), "bad"] == "failed"


def test_grouping_by_structure_survives_any_failure_to_load(monkeypatch):
    def load_inputs(path):
        if str(path).endswith("boom.toml"):
            raise RuntimeError("not an InputError")
        return real(path)

    real = sweep.load_inputs
    monkeypatch.setattr(sweep, "load_inputs", load_inputs)
    named = [("example", EXAMPLE), ("boom", Path("boom.toml")), ("again", EXAMPLE)]
    assert sweep.same_structure_together(named) == [named[0], named[2], named[1]]
    sweep.require_solvers([Path("boom.toml"), EXAMPLE], {})


# -- scenario files cannot ask for unbounded work --------------------------------------------

def test_long_where_lists_and_dropping_many_rows_stay_fast(tmp_path):
    base = tmp_path / "base"
    shutil.copytree(EXAMPLE, base)
    with open(base / "demand.csv", "a") as fh:
        fh.writelines(f"ghost{i},2030,1,x\n" for i in range(20_000))
    options = ", ".join(f'"ghost{i}"' for i in range(0, 40_000, 2))
    path = tmp_path / "s.toml"
    path.write_text(f'base = "{base}"\n[[change]]\ntable = "demand"\n'
                    f'where = {{ program = [{options}] }}\ncolumn = "units"\nset = 2\n'
                    f'[[change]]\ntable = "demand"\nwhere = {{ year = 2030 }}\ndrop = true\n')
    started = time.perf_counter()
    data = load(path)  # every ghost is dropped with the example's own 2030 demand
    assert time.perf_counter() - started < 20
    assert not any(year == 2030 for _, year in data.demand_units)


def test_a_scenario_file_has_at_most_so_many_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_module, "MAX_ENTRIES", 3)
    path = scenario(tmp_path, '[[change]]\ntable = "offers"\ndrop = true\n' * 4)
    found = problems(path)
    assert any("4 [[change]] entries; at most 3 are read" in f for f in found), found


def test_added_rows_obey_the_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario_module, "MAX_ROWS", 31)
    path = scenario(tmp_path, '[[change]]\ntable = "demand"\n'
                              'rows = [{ program = "ndfeb-weapons", year = 2041, units = 1 },'
                              ' { program = "ndfeb-weapons", year = 2042, units = 1 }]\n')
    found = problems(path)
    assert any("change 1 (demand): 2 rows would take demand.csv past 31 rows" in f
               for f in found), found
