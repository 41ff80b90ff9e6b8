"""Read an inputs folder and type every cell against the registry (the per-table layer)."""

from __future__ import annotations

import csv
import difflib
import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimize.data.registry import CSV_TABLES, SETTINGS, Column, Table
from optimize.errors import Problem


@dataclass
class TypedTable:
    """The rows of one input file, typed; ``lines[i]`` is the file row of ``rows[i]``."""

    table: Table
    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    present: bool = True

    def __iter__(self) -> Any:
        """Iterate over ``(line, row)`` pairs."""
        return iter(zip(self.lines, self.rows, strict=True))


@dataclass
class Inputs:
    """Every table of one inputs folder, typed but not yet cross-checked."""

    folder: Path
    settings: dict[str, Any]
    tables: dict[str, TypedTable]

    def __getitem__(self, name: str) -> TypedTable:
        """Return the table called ``name``."""
        return self.tables[name]


_NAN_WORDS = {"nan", "na", "n/a", "null", "none", "inf", "-inf", "+inf", "infinity"}


def parse_cell(text: str, column: Column) -> tuple[Any, str | None]:
    """Return ``(value, None)`` for a non-blank cell, or ``(None, why)`` when it does not parse."""
    kind = column.kind
    if kind == "str":
        return text, None
    if kind in ("int", "float"):
        return _parse_number(text, kind)
    items = [part.strip() for part in text.split(";")]
    if any(part == "" for part in items):
        return None, f"empty item in the list {text!r} (items are separated by ';')"
    if kind == "list":
        return tuple(items), None
    numbers = []
    for part in items:
        value, why = _parse_number(part, "float")
        if why:
            return None, f"{why} in the list {text!r}"
        numbers.append(value)
    return tuple(numbers), None


def _parse_number(text: str, kind: str) -> tuple[Any, str | None]:
    if text.lower() in _NAN_WORDS:
        return None, f"{text!r} is not a number (NaN and infinity are not allowed)"
    try:
        value = float(text)
    except ValueError:
        return None, f"expected {'a whole number' if kind == 'int' else 'a number'}, got {text!r}"
    if not math.isfinite(value):
        return None, f"{text!r} is not a finite number"
    if kind == "int":
        if value != int(value):
            return None, f"expected a whole number, got {text!r}"
        return int(value), None
    return value, None


def check_value(value: Any, column: Column) -> str | None:
    """Return why a typed value breaks the column's bounds, choices or pattern, or ``None``."""
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if column.choices is not None and v not in column.choices:
            return f"{v!r} is not one of {', '.join(column.choices)}{_did_you_mean(v, column)}"
        if column.pattern is not None and not re.match(column.pattern, str(v)):
            return f"{v!r} is not a two-letter upper-case ISO country code"
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            why = _bound_problem(float(v), column)
            if why:
                return why
    if column.kind == "fractions" and any(not 0 <= v <= 1 for v in values):
        return f"every item must be a fraction in [0, 1], got {value!r}"
    return None


def _bound_problem(v: float, column: Column) -> str | None:
    lo, hi = column.lower, column.upper
    if lo is not None and (v < lo or (column.lower_open and v == lo)):
        if lo == 0 and not column.lower_open:
            return f"must not be negative, got {v:g}"
        op = ">" if column.lower_open else ">="
        return f"must be {op} {lo:g}, got {v:g}"
    if hi is not None and v > hi:
        if column.name == "capacity_t" or column.name == "max_t":
            return (f"{v:g} t is above {hi:g} t; such a figure is almost always kg typed as t")
        return f"must be <= {hi:g}, got {v:g}"
    return None


def _did_you_mean(word: str, column: Column) -> str:
    close = difflib.get_close_matches(str(word), column.choices or (), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class RawTable:
    """One input file as text cells, before typing; ``lines[i]`` is the row of ``rows[i]``."""

    table: Table
    header: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    present: bool = True


def read_raw(folder: Path, table: Table, problems: list[Problem]) -> RawTable:
    """Read one CSV file as text cells; file-level problems are appended to ``problems``."""
    path = folder / table.file
    if not path.exists():
        if not table.optional:
            problems.append(Problem(table.file, None, None, "file is missing"))
        return RawTable(table, present=False)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(Problem(table.file, None, None, f"not UTF-8 text ({exc.reason})"))
        return RawTable(table, present=False)
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        problems.append(Problem(table.file, None, None, "file is empty (no header row)"))
        return RawTable(table, present=False)
    raw = RawTable(table, header)
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problems.append(Problem(table.file, line, None,
                                    f"{len(cells)} cells but the header has {len(header)}"))
            continue
        raw.rows.append({name: (cells[i].strip() if i < len(cells) else "")
                         for i, name in enumerate(header)})
        raw.lines.append(line)
    return raw


def type_table(raw: RawTable, problems: list[Problem]) -> TypedTable:
    """Type every cell of a raw table against the registry (header, cells, keys)."""
    table = raw.table
    if not raw.present:
        return TypedTable(table, present=False)
    known = {c.name for c in table.columns}
    header = raw.header
    for name in header:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(table.file, 1, name, f"unknown column{hint}"))
    for dup in sorted({h for h in header if header.count(h) > 1}):
        problems.append(Problem(table.file, 1, dup, "column appears more than once"))
    for column in table.columns:
        if column.name not in header and column.required:
            problems.append(Problem(table.file, 1, column.name, "required column is missing"))
    typed = TypedTable(table)
    for line, cells in zip(raw.lines, raw.rows, strict=True):
        row, found = _typed_row(cells, table, line)
        typed.rows.append(dict(row))
        typed.lines.append(line)
        problems.extend(found)
    _check_keys(typed, problems)
    return typed


#: Rows already typed, by table, file row and cells: a sweep reads the same base tables for
#: every scenario, and a scenario changes a few rows of them. Typing is a pure function of
#: these three, so a row seen before is not parsed again.
_TYPED: dict[tuple[str, int, tuple[tuple[str, str], ...]],
             tuple[dict[str, Any], tuple[Problem, ...]]] = {}
_TYPED_MAX = 500_000


def _typed_row(cells: dict[str, str], table: Table,
               line: int) -> tuple[dict[str, Any], tuple[Problem, ...]]:
    """Return the typed row and its problems, from ``_TYPED`` when seen before."""
    key = (table.name, line, tuple(cells.items()))
    hit = _TYPED.get(key)
    if hit is None:
        found: list[Problem] = []
        hit = (_type_row(cells, table, line, found), tuple(found))
        if len(_TYPED) >= _TYPED_MAX:
            _TYPED.clear()
        _TYPED[key] = hit
    return hit


def _type_row(raw: dict[str, str], table: Table, line: int,
              problems: list[Problem]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in table.columns:
        text = raw.get(column.name, "")
        if text == "":
            row[column.name] = column.default
            continue
        value, why = parse_cell(text, column)
        why = why or check_value(value, column)
        if why:
            problems.append(Problem(table.file, line, column.name, why))
        row[column.name] = None if why else value
    for column in table.columns:
        if raw.get(column.name, "") != "":
            continue
        needed = column.required
        if column.required_when is not None:
            other, wanted = column.required_when
            needed = needed or row.get(other) == wanted
        if needed and (column.name in raw or not column.required):
            when = f" (required when {column.required_when[0]} is "\
                   f"{column.required_when[1]})" if column.required_when else ""
            problems.append(Problem(table.file, line, column.name, f"blank or missing{when}"))
    return row


def _check_keys(typed: TypedTable, problems: list[Problem]) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    key = typed.table.key
    for line, row in typed:
        k = tuple(row.get(c) for c in key)
        if any(v is None for v in k):
            continue
        if k in seen:
            problems.append(Problem(typed.table.file, line, ", ".join(key),
                                    f"duplicate key {'/'.join(map(str, k))} (first at row "
                                    f"{seen[k]})"))
        else:
            seen[k] = line


def read_raw_settings(folder: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """Read ``settings.toml`` into a flat dict (``solver.x`` for the ``[solver]`` table)."""
    path = folder / SETTINGS.file
    if not path.exists():
        problems.append(Problem(SETTINGS.file, None, None, "file is missing"))
        return None
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(SETTINGS.file, None, None, f"not valid TOML: {exc}"))
        return None
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def type_settings(flat: dict[str, Any] | None, problems: list[Problem]) -> dict[str, Any]:
    """Type and check the settings; unknown keys get a did-you-mean."""
    if flat is None:
        return {}
    known = {c.name for c in SETTINGS.columns}
    for key in flat:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(SETTINGS.file, None, key, f"unknown setting{hint}"))
    settings: dict[str, Any] = {}
    for column in SETTINGS.columns:
        if column.name not in flat:
            if column.required:
                problems.append(Problem(SETTINGS.file, None, column.name,
                                        "required setting is missing"))
            settings[column.name] = column.default
            continue
        value = flat[column.name]
        if column.kind == "list" and isinstance(value, list):
            value = ";".join(str(v) for v in value)
        value, why = parse_cell(str(value), column)
        why = why or check_value(value, column)
        if why:
            problems.append(Problem(SETTINGS.file, None, column.name, why))
        settings[column.name] = value
    return settings


@dataclass
class RawInputs:
    """Every table of an inputs folder as text, before typing (what scenario changes edit)."""

    settings: dict[str, Any] | None
    tables: dict[str, RawTable]

    def sha256(self) -> str:
        """Return a hash of the resolved tables: settings, then each table's header and rows."""
        digest = hashlib.sha256()
        digest.update(repr(sorted((self.settings or {}).items())).encode())
        for name in sorted(self.tables):
            raw = self.tables[name]
            if raw.present:
                digest.update(f"\0{name}\0{raw.header!r}".encode())
                for row in raw.rows:
                    digest.update(repr([row.get(h, "") for h in raw.header]).encode())
        return digest.hexdigest()


def read_raw_inputs(folder: Path, problems: list[Problem]) -> RawInputs:
    """Read every file of an inputs folder as text; file-level problems are appended."""
    return RawInputs(read_raw_settings(folder, problems),
                     {t.name: read_raw(folder, t, problems) for t in CSV_TABLES})


def type_inputs(raw: RawInputs, folder: Path, problems: list[Problem]) -> Inputs:
    """Type every table of the raw inputs (the per-table validation layer)."""
    return Inputs(folder, type_settings(raw.settings, problems),
                  {name: type_table(t, problems) for name, t in raw.tables.items()})
