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
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimize.data.decisions import GivenDecision, read_decisions
from optimize.data.load import RawInputs, RawTable, parse_cell, read_raw_inputs
from optimize.data.registry import CSV_TABLES, SETTINGS, Column, Table
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


def _matches(cell: str, column: Column, wanted: Any) -> bool:
    options = wanted if isinstance(wanted, list) else [wanted]
    if column.kind in ("int", "float"):
        value, why = parse_cell(cell, column) if cell else (None, "blank")
        return why is None and any(isinstance(o, (int, float)) and value == o for o in options)
    return cell in [_fmt(o) for o in options]


def _number(text: str, column: Column) -> float | int | None:
    if column.kind not in ("int", "float") or not text:
        return None
    value, why = parse_cell(text, column)
    return None if why else value


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
        label = f"change {n} ({name})"
        unknown = set(change) - {"table", "where", "column", "description", *ACTIONS}
        if unknown:
            self.fail(label, f"unknown key(s) {', '.join(sorted(unknown))}")
            return
        actions = [a for a in ACTIONS if a in change]
        if len(actions) != 1:
            self.fail(label, f"needs exactly one of {', '.join(ACTIONS)}, got "
                             f"{', '.join(actions) or 'none'}")
            return
        if name == "settings":
            self.settings(label, change, actions[0])
            return
        if name not in TABLES:
            close = difflib.get_close_matches(str(name), sorted(TABLES), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.fail(label, f"unknown table {name!r}{hint}")
            return
        self.table(label, TABLES[name], change, actions[0])

    def settings(self, label: str, change: dict[str, Any], action: str) -> None:
        key = change.get("column")
        column = _column(SETTINGS, str(key))
        if column is None:
            close = difflib.get_close_matches(str(key), [c.name for c in SETTINGS.columns], n=1)
            self.fail(label, f"unknown setting {key!r}"
                             + (f"; did you mean {close[0]!r}?" if close else ""))
            return
        if action not in ("set", "multiply", "add"):
            self.fail(label, "settings take set, multiply or add")
            return
        settings = self.raw.settings if self.raw.settings is not None else {}
        current = settings.get(column.name, column.default)
        if action == "set":
            settings[column.name] = change["set"]
        elif not isinstance(current, (int, float)):
            self.fail(label, f"cannot {action} setting {key!r} (value {current!r})")
            return
        else:
            settings[column.name] = current * change[action] if action == "multiply" \
                else current + change[action]
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
        if not isinstance(where, dict):
            self.fail(label, "'where' must be a table of column = value(s)")
            return
        for col in [*where, *([change["column"]] if "column" in change else [])]:
            if _column(table, col) is None:
                close = difflib.get_close_matches(col, [c.name for c in table.columns], n=1)
                self.fail(label, f"unknown column {col!r} in {table.file}"
                                 + (f"; did you mean {close[0]!r}?" if close else ""))
                return
        hits = [i for i, row in enumerate(raw.rows)
                if all(_matches(row.get(c, ""), _column(table, c), v)  # type: ignore[arg-type]
                       for c, v in where.items())]
        if not hits:
            self.fail(label, f"matches no row of {table.file} (where {where})")
            return
        if action == "drop":
            keep = [i for i in range(len(raw.rows)) if i not in set(hits)]
            raw.rows = [raw.rows[i] for i in keep]
            raw.lines = [raw.lines[i] for i in keep]
            return
        if "column" not in change:
            self.fail(label, f"'{action}' needs a 'column'")
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
                                     f"{row.get(column.name, '')!r}")
                    continue
                new = current * change[action] if action == "multiply" \
                    else current + change[action]
                if column.kind == "int" and float(new).is_integer():
                    new = int(new)
                row[column.name] = _fmt(new)
            self.trail.cells[(table.file, raw.lines[i], column.name)] = label

    def add_rows(self, label: str, raw: RawTable, rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            self.fail(label, "'rows' must be a list of tables")
            return
        for k, row in enumerate(rows, start=1):
            line = next(self.counter)
            for col in row:
                if col not in raw.header:
                    raw.header.append(col)
            raw.rows.append({col: _fmt(v) for col, v in row.items()})
            raw.lines.append(line)
            self.trail.added[(raw.table.file, line)] = f"{label}, added row {k}"


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
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(Problem(label, None, None, f"cannot read scenario file: {exc}"))
        return None
    unknown = set(doc) - {"base", "description", "change", "decision"}
    if unknown:
        problems.append(Problem(label, None, None, f"unknown key(s) {', '.join(sorted(unknown))}"
                                                    "; expected base, description, [[change]], "
                                                    "[[decision]]"))
    if "base" not in doc:
        problems.append(Problem(label, None, None, "missing 'base' (an inputs folder)"))
        return None
    base = (path.parent / str(doc["base"])).resolve()
    if not base.is_dir():
        problems.append(Problem(label, None, "base", f"base folder {doc['base']!r} not found"))
        return None
    raw = read_raw_inputs(base, problems)
    applier = _Applier(raw, label, problems)
    changes: Sequence[Any] = doc.get("change", [])
    if not isinstance(changes, list):
        problems.append(Problem(label, None, None, "'change' must be an array of tables"))
        changes = []
    for n, change in enumerate(changes, start=1):
        if not isinstance(change, dict):
            applier.fail(f"change {n}", "must be a table")
            continue
        applier.apply(n, change)
    decisions = read_decisions(label, doc.get("decision", []), problems)
    return Scenario(path.stem, path, base, str(doc.get("description", "")), raw, applier.trail,
                    decisions)
