"""Scenario files: a base inputs folder plus a list of changes, applied before validation.

A scenario file (``inputs/scenarios/<name>.toml``)::

    base = "../baseline"                  # an inputs folder, relative to this file
    description = "Chinese Dy/Tb oxide prices x3"

    [[change]]
    table = "prices"                      # a table name, or "settings"
    where = { commodity = "oxide", item = ["Dy", "Tb"] }   # all must match; omitted: every row
    column = "usd_per_kg"
    multiply = 3                          # or: set = ..., add = ...

    [[change]]
    table = "settings"                    # a setting, or a solver's own option
    column = "solver.highs.mip_heuristic_effort"
    set = 0.05

    [[change]]
    table = "offers"
    where = { provenance = "tainted" }
    drop = true                           # remove the matching rows

    [[change]]
    table = "funding"                     # add rows, one [[change.rows]] table each
    [[change.rows]]
    program = "X"
    countries = ["US", "CA"]              # lists become ';'-separated cells
    ...

A change that matches no row, names an unknown table or column, or leaves the tables invalid
is an error naming the scenario file and the change.

A scenario may also decide projects for the model, one ``[[decision]]`` per candidate::

    [[decision]]
    facility = "strange-lake"
    fund_by = 2030                        # funded, with its FID no later than 2030

    [[decision]]
    facility = "lynas-texas"
    never = true                          # never funded

    [[decision]]
    facility = "norra-karr"
    fid_year = 2029                       # funded with its FID in exactly 2029

Each takes exactly one of ``fund_by``, ``never``, ``fid_year``; years are whole years in
which the candidate may take its FID (from its ``earliest_fid`` to the horizon's end). A
forced project whose ``requires`` predecessor is forbidden, or cannot be funded in time, is
an error, as are an unknown or existing facility and two decisions for one facility; each
names the scenario file, the decision (its facility) and the key. Decisions apply after the
changes, to the resolved tables (``optimize.data.decisions``); the model holds them as the
``project_decisions`` rows, and ``compare`` also solves the scenario without them to report
what they cost.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimize.data.decisions import GivenDecision, read_decisions
from optimize.data.load import (
    SOLVER_OPTION,
    RawInputs,
    RawTable,
    brief,
    parse_cell,
    read_raw_inputs,
    read_toml,
)
from optimize.data.registry import (
    CSV_TABLES,
    MAX_ENTRIES,
    MAX_ROWS,
    SETTINGS,
    Column,
    Table,
)
from optimize.errors import Problem

ACTIONS = ("set", "multiply", "add", "drop", "rows")
TABLES = {t.name: t for t in CSV_TABLES}
ADDED_ROW_BASE = 1_000_000  # row numbers given to rows a change adds


@dataclass
class Trail:
    """Which change touched which cell or added which row, to locate validation problems."""

    scenario: str
    cells: dict[tuple[str, int | None, str], str] = field(default_factory=dict)
    added: dict[tuple[str, int], str] = field(default_factory=dict)

    def locate(self, p: Problem) -> Problem:
        """Return ``p`` reworded to name the change that caused it, where one did."""
        if p.row is not None and (p.file, p.row) in self.added:
            return Problem(self.scenario, None, p.column,
                           f"{self.added[(p.file, p.row)]}: {p.file}: {p.message}")
        label = self.cells.get((p.file, p.row, p.column or ""))
        if label is not None:
            return Problem(p.file, p.row if p.row is not None and p.row < ADDED_ROW_BASE
                           else None, p.column, f"{p.message} (set by {self.scenario}, {label})")
        return p


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return ";".join(_fmt(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _column(table: Table, name: str) -> Column | None:
    return next((c for c in table.columns if c.name == name), None)


def matcher(column: Column, wanted: Any) -> Callable[[str], bool]:
    """Return a test of a cell against a ``where`` value or list of values.

    Built once per change, so that a long list costs one set, not a scan per row. A
    number column matches by value (2030 matches 2030.0), any other column by text.
    """
    options = wanted if isinstance(wanted, list) else [wanted]
    if column.kind in ("int", "float"):
        numbers = {o for o in options if _is_number(o)}

        def number_matches(cell: str) -> bool:
            value, why = parse_cell(cell, column) if cell else (None, "blank")
            return why is None and value in numbers

        return number_matches
    texts = {_fmt(o) for o in options}
    return lambda cell: cell in texts


def _number(text: str, column: Column) -> float | int | None:
    if column.kind not in ("int", "float") or not text:
        return None
    value, why = parse_cell(text, column)
    return None if why else value


# -- what each key of a [[change]] may hold ------------------------------------------------

CELL_VALUE = "text, a number, true or false"


def _is_scalar(value: Any) -> bool:
    """Return whether ``value`` can be one cell: text, a number or a boolean (not a date)."""
    return isinstance(value, (str, int, float))  # bool is an int


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell_problem(value: Any, lists: bool = True) -> str | None:
    """Return why ``value`` cannot go into a cell (a list only where ``lists``), or None."""
    if _is_scalar(value):
        return None if not isinstance(value, float) or math.isfinite(value) else \
            f"must be a finite number, got {brief(value)}"
    if lists and isinstance(value, list):
        bad = next((v for v in value if _cell_problem(v, lists=False) is not None), None)
        if bad is None:
            return None
        return f"every item of a list must be {CELL_VALUE}, got {brief(bad)}"
    return f"must be {CELL_VALUE}{' or a list of those' if lists else ''}, got {brief(value)}"


def _number_problem(value: Any) -> str | None:
    """Return why ``value`` cannot multiply or be added to a cell, or None."""
    if not _is_number(value):
        return f"must be a number, got {brief(value)}"
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    return None if finite else f"must be a finite number, got {brief(value)}"


def change_problems(change: dict[str, Any], action: str) -> list[str]:
    """Return ``key: why`` for each key of a change whose value has the wrong type."""
    found: list[tuple[str, str | None]] = [
        ("table", None if isinstance(change.get("table"), str) else
         f"must be a table name or 'settings', got {brief(change.get('table'))}"),
        ("description", None if isinstance(change.get("description", ""), str) else
         f"must be text, got {brief(change['description'])}"),
    ]
    if "column" in change and not isinstance(change["column"], str):
        found.append(("column", f"must be a column name, got {brief(change['column'])}"))
    if "where" in change:
        found.append(("where", _where_problem(change["where"])))
    if action == "set":
        found.append(("set", _cell_problem(change["set"])))
    elif action in ("multiply", "add"):
        found.append((action, _number_problem(change[action])))
    elif action == "drop" and change["drop"] is not True:
        found.append(("drop", f"must be true, got {brief(change['drop'])} (to keep the rows, "
                              "remove the change)"))
    elif action == "rows":
        found.append(("rows", _rows_problem(change["rows"])))
    found += [(key, f"has no effect with '{action}'") for key in _unused_keys(change, action)]
    return [f"{key}: {why}" for key, why in found if why is not None]


def _where_problem(where: Any) -> str | None:
    if not isinstance(where, dict):
        return f"must be a table of column = value(s), got {brief(where)}"
    for column, wanted in where.items():
        why = _cell_problem(wanted)
        if why is not None:
            return f"{column}: {why}"
    return None


def _rows_problem(rows: Any) -> str | None:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return f"must be a list of tables ([[change.rows]]), got {brief(rows)}"
    for k, row in enumerate(rows, start=1):
        for column, value in row.items():
            why = _cell_problem(value)
            if why is not None:
                return f"row {k}, {column}: {why}"
    return None


def _unused_keys(change: dict[str, Any], action: str) -> list[str]:
    """Return the keys that the change's action would silently ignore."""
    if action == "rows":
        return [k for k in ("where", "column") if k in change]
    if action == "drop":
        return [k for k in ("column",) if k in change]
    if change.get("table") == "settings":
        return [k for k in ("where",) if k in change]
    return []


class _Applier:
    def __init__(self, raw: RawInputs, scenario: str, problems: list[Problem]) -> None:
        self.raw = raw
        self.trail = Trail(scenario)
        self.problems = problems
        self.counter = itertools.count(ADDED_ROW_BASE)

    def fail(self, label: str, message: str) -> None:
        self.problems.append(Problem(self.trail.scenario, None, None, f"{label}: {message}"))

    def apply(self, n: int, change: dict[str, Any]) -> None:
        name = change.get("table")
        label = f"change {n} ({name})" if isinstance(name, str) else f"change {n}"
        unknown = set(change) - {"table", "where", "column", "description", *ACTIONS}
        if unknown:
            self.fail(label, f"unknown key(s) {', '.join(sorted(unknown))}; expected table, "
                             f"where, column, description and one of {', '.join(ACTIONS)}")
            return
        actions = [a for a in ACTIONS if a in change]
        if len(actions) != 1:
            self.fail(label, f"needs exactly one of {', '.join(ACTIONS)}, got "
                             f"{', '.join(actions) or 'none'}")
            return
        wrong = change_problems(change, actions[0])
        if wrong:
            for why in wrong:
                self.problems.append(Problem(self.trail.scenario, None, None, f"{label}, {why}"))
            return
        assert isinstance(name, str)
        if name == "settings":
            self.settings(label, change, actions[0])
            return
        if name not in TABLES:
            close = difflib.get_close_matches(name, sorted(TABLES), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.fail(label, f"unknown table {brief(name)}{hint}")
            return
        self.table(label, TABLES[name], change, actions[0])

    def settings(self, label: str, change: dict[str, Any], action: str) -> None:
        key = change.get("column")
        if SOLVER_OPTION.fullmatch(str(key)):  # a solver's own option: [solver.<solver>]
            if action != "set":
                self.fail(label, f"a solver's own option ({key}) takes set")
                return
            settings = self.raw.settings if self.raw.settings is not None else {}
            settings[str(key)] = change["set"]
            self.raw.settings = settings
            self.trail.cells[(SETTINGS.file, None, str(key))] = label
            return
        column = _column(SETTINGS, str(key))
        if column is None:
            close = difflib.get_close_matches(str(key), [c.name for c in SETTINGS.columns], n=1)
            self.fail(label, f"unknown setting {brief(key)}"
                             + (f"; did you mean {close[0]!r}?" if close else ""))
            return
        if action not in ("set", "multiply", "add"):
            self.fail(label, "settings take set, multiply or add")
            return
        settings = self.raw.settings if self.raw.settings is not None else {}
        current = settings.get(column.name, column.default)
        if action == "set":
            settings[column.name] = change["set"]
        elif not _is_number(current):
            self.fail(label, f"cannot {action} setting {key!r} (value {brief(current)})")
            return
        else:
            settings[column.name] = _combine(current, change[action], action, column)
        self.raw.settings = settings
        self.trail.cells[(SETTINGS.file, None, column.name)] = label

    def table(self, label: str, table: Table, change: dict[str, Any], action: str) -> None:
        raw = self.raw.tables[table.name]
        if not raw.present:
            if action != "rows":
                self.fail(label, f"{table.file} is absent from the base, so no row can match")
                return
            raw.present, raw.header = True, []
        if action == "rows":
            self.add_rows(label, raw, change["rows"])
            return
        where = change.get("where", {})
        for col in [*where, *([change["column"]] if "column" in change else [])]:
            if _column(table, col) is None:
                close = difflib.get_close_matches(col, [c.name for c in table.columns], n=1)
                self.fail(label, f"unknown column {brief(col)} in {table.file}"
                                 + (f"; did you mean {close[0]!r}?" if close else ""))
                return
        if action != "drop" and "column" not in change:
            self.fail(label, f"'{action}' needs a 'column'")
            return
        tests = [(c, matcher(_column(table, c), v))  # type: ignore[arg-type]
                 for c, v in where.items()]
        hits = [i for i, row in enumerate(raw.rows)
                if all(test(row.get(c, "")) for c, test in tests)]
        if not hits:
            self.fail(label, f"matches no row of {table.file} (where {brief(where, 200)})")
            return
        if action == "drop":
            dropped = set(hits)
            keep = [i for i in range(len(raw.rows)) if i not in dropped]
            raw.rows = [raw.rows[i] for i in keep]
            raw.lines = [raw.lines[i] for i in keep]
            return
        column = _column(table, change["column"])
        assert column is not None
        if column.name not in raw.header:
            raw.header.append(column.name)
        for i in hits:
            row = raw.rows[i]
            if action == "set":
                row[column.name] = _fmt(change["set"])
            else:
                current = _number(row.get(column.name, ""), column)
                if current is None:
                    self.fail(label, f"{table.file} row {raw.lines[i]}: cannot {action} the "
                                     f"non-numeric or blank {column.name} "
                                     f"{brief(row.get(column.name, ''))}")
                    continue
                row[column.name] = _fmt(_combine(current, change[action], action, column))
            self.trail.cells[(table.file, raw.lines[i], column.name)] = label

    def add_rows(self, label: str, raw: RawTable, rows: list[dict[str, Any]]) -> None:
        if len(raw.rows) + len(rows) > MAX_ROWS:
            self.fail(label, f"{len(rows):,} rows would take {raw.table.file} past "
                             f"{MAX_ROWS:,} rows")
            return
        known = {c.name for c in raw.table.columns}
        for k, row in enumerate(rows, start=1):
            unknown = [col for col in row if col not in known]
            if unknown:
                close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
                self.fail(f"{label}, added row {k}", f"unknown column {brief(unknown[0])} in "
                          f"{raw.table.file}" + (f"; did you mean {close[0]!r}?" if close
                                                 else ""))
                continue
            line = next(self.counter)
            for col in row:
                if col not in raw.header:
                    raw.header.append(col)
            raw.rows.append({col: _fmt(v) for col, v in row.items()})
            raw.lines.append(line)
            self.trail.added[(raw.table.file, line)] = f"{label}, added row {k}"


def _combine(current: float, operand: float, action: str, column: Column) -> float | int:
    """Return ``current`` multiplied by, or plus, ``operand``; whole for a whole-number column.

    Computed in floating point, as a cell holds it: a result too large to be a number is
    infinity, which validation then reports against the change.
    """
    try:
        new = float(current) * float(operand) if action == "multiply" \
            else float(current) + float(operand)
    except OverflowError:
        new = math.inf
    if column.kind == "int" and new.is_integer():
        return int(new)
    return new


@dataclass
class Scenario:
    """A resolved scenario: its raw tables, the trail of changes, its decisions, what it is.

    ``decisions`` are the well-formed ``[[decision]]`` entries, not yet checked against the
    tables (``optimize.data.decisions.check_decisions``).
    """

    name: str
    path: Path
    base: Path
    description: str
    raw: RawInputs
    trail: Trail
    decisions: list[GivenDecision] = field(default_factory=list)


def read_scenario(path: Path, problems: list[Problem]) -> Scenario | None:
    """Read a scenario file, read its base folder and apply its changes."""
    label = path.name
    found: list[Problem] = []
    doc = read_toml(path, label, found)
    problems += [Problem(p.file, p.row, p.column, f"cannot read scenario file: {p.message}")
                 for p in found]
    if doc is None:
        return None
    unknown = set(doc) - {"base", "description", "change", "decision"}
    if unknown:
        problems.append(Problem(label, None, None, f"unknown key(s) {', '.join(sorted(unknown))}"
                                                    "; expected base, description, [[change]], "
                                                    "[[decision]]"))
    description = doc.get("description", "")
    if not isinstance(description, str):
        problems.append(Problem(label, None, "description",
                                f"must be text, got {brief(description)}"))
    base = base_folder(path, doc, problems)
    if base is None:
        return None
    raw = read_raw_inputs(base, problems)
    applier = _Applier(raw, label, problems)
    changes: Sequence[Any] = doc.get("change", [])
    if not isinstance(changes, list):
        problems.append(Problem(label, None, None, "'change' must be an array of tables "
                                                   "([[change]])"))
        changes = []
    if not _few_entries(doc, label, problems):
        return None
    for n, change in enumerate(changes, start=1):
        if not isinstance(change, dict):
            applier.fail(f"change {n}", f"must be a table ([[change]] with table = ...), got "
                                        f"{brief(change)}")
            continue
        applier.apply(n, change)
    decisions = read_decisions(label, doc.get("decision", []), problems)
    return Scenario(path.stem, path, base, str(description), raw, applier.trail, decisions)


def _few_entries(doc: dict[str, Any], label: str, problems: list[Problem]) -> bool:
    """Return whether the file has at most MAX_ENTRIES changes and decisions; report if not."""
    ok = True
    for key in ("change", "decision"):
        entries = doc.get(key)
        if isinstance(entries, list) and len(entries) > MAX_ENTRIES:
            problems.append(Problem(label, None, None, f"{len(entries):,} [[{key}]] entries; at "
                                                       f"most {MAX_ENTRIES:,} are read"))
            ok = False
    return ok


def base_folder(path: Path, doc: dict[str, Any], problems: list[Problem]) -> Path | None:
    """Return the scenario's base folder, resolved against the scenario file's folder."""
    label = path.name
    if "base" not in doc:
        problems.append(Problem(label, None, None, "missing 'base' (an inputs folder)"))
        return None
    given = doc["base"]
    if not isinstance(given, str) or not given or "\0" in given:
        problems.append(Problem(label, None, "base", f"must be the path of an inputs folder, "
                                                     f"got {brief(given)}"))
        return None
    try:
        base = (path.parent / given).resolve()
        found = base.is_dir()
    except (OSError, ValueError, RuntimeError) as exc:  # too long, a loop of links, ...
        problems.append(Problem(label, None, "base", f"base folder {brief(given)} cannot be "
                                                     f"read: {exc}"))
        return None
    if not found:
        problems.append(Problem(label, None, "base", f"base folder {brief(given)} not found"))
        return None
    return base
