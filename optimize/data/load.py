"""Read an inputs folder and type every cell against the registry (the per-table layer)."""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimize.data.files import FileMissing, FileProblem, read_text
from optimize.data.registry import (
    CSV_TABLES,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROW_CHARS,
    MAX_ROWS,
    MAX_TOML_BYTES,
    SETTINGS,
    SOLVERS,
    Column,
    Table,
)
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
        return None, f"empty item in the list {brief(text)} (items are separated by ';')"
    if kind == "list":
        return tuple(items), None
    numbers = []
    for part in items:
        value, why = _parse_number(part, "float")
        if why:
            return None, f"{why} in the list {brief(text)}"
        numbers.append(value)
    return tuple(numbers), None


def _parse_number(text: str, kind: str) -> tuple[Any, str | None]:
    if text.lower() in _NAN_WORDS:
        return None, f"{brief(text)} is not a number (NaN and infinity are not allowed)"
    try:
        value = float(text)
    except ValueError:
        what = "a whole number" if kind == "int" else "a number"
        return None, f"expected {what}, got {brief(text)}"
    if not math.isfinite(value):
        return None, f"{brief(text)} is not a finite number"
    if kind == "int":
        if value != int(value):
            return None, f"expected a whole number, got {brief(text)}"
        return int(value), None
    return value, None


def check_value(value: Any, column: Column) -> str | None:
    """Return why a typed value breaks the column's bounds, choices or pattern, or ``None``."""
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if column.choices is not None and v not in column.choices:
            return (f"{brief(v)} is not one of {', '.join(column.choices)}"
                    f"{_did_you_mean(v, column)}")
        if column.pattern is not None and not re.match(column.pattern, str(v)):
            return f"{brief(v)} is not a two-letter upper-case ISO country code"
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
        if column.unit == "year" and hi is not None:
            return f"year {v:g} is outside {lo:g}-{hi:g}"
        if lo == 0 and not column.lower_open:
            return f"must not be negative, got {v:g}"
        op = ">" if column.lower_open else ">="
        return f"must be {op} {lo:g}, got {v:g}"
    if hi is not None and v > hi:
        if column.name == "capacity_t" or column.name == "max_t":
            return (f"{v:g} t is above {hi:g} t; such a figure is almost always kg typed as t")
        if column.unit == "year" and lo is not None:
            return f"year {v:g} is outside {lo:g}-{hi:g}"
        unit = f" {column.unit}" if column.unit else ""
        return f"must be <= {hi:g}{unit}, got {v:g}"
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
    try:
        text = read_text(folder / table.file, MAX_FILE_BYTES)
    except FileMissing:
        if not table.optional:
            problems.append(Problem(table.file, None, None, "file is missing"))
        return RawTable(table, present=False)
    except FileProblem as exc:
        problems.append(Problem(table.file, exc.line, None, exc.message))
        return RawTable(table, present=False)
    return parse_csv(text, table, problems)


class _RowTooLong(Exception):
    """A row of a table runs past MAX_ROW_CHARS characters."""


class _Lines:
    """The lines of a text for ``csv.reader``, line breaks kept, each row at most so long.

    Only a line feed, a carriage return or both end a line (not the other characters that
    ``str.splitlines`` splits on), so a quoted cell keeps its line breaks. Call
    ``start_row`` before each row is read; a row longer than MAX_ROW_CHARS raises
    _RowTooLong.
    """

    def __init__(self, text: str) -> None:
        self._text = io.StringIO(text, newline="")
        self._chars = 0

    def start_row(self) -> None:
        """Start counting the characters of a new row."""
        self._chars = 0

    def __iter__(self) -> _Lines:
        """Return the iterator itself."""
        return self

    def __next__(self) -> str:
        """Return the next line, or raise _RowTooLong once the row is too long."""
        line = self._text.readline(MAX_ROW_CHARS + 1)
        if not line:
            raise StopIteration
        self._chars += len(line)
        if self._chars > MAX_ROW_CHARS:
            raise _RowTooLong
        return line


def parse_csv(text: str, table: Table, problems: list[Problem]) -> RawTable:
    """Split the text of one CSV file into a header and rows of stripped text cells.

    A row that cannot be read (a cell or row over the limits, a quote never closed or
    followed by more text) is a problem naming its row, and the rest of the file is not
    read; a table with more than MAX_ROWS rows or MAX_COLUMNS columns is not read. A table
    not read in full counts as unread (``present`` false), so that the rows it lost do not
    show up as problems elsewhere.
    """
    lines = _Lines(text)
    reader = csv.reader(lines, strict=True)
    raw = RawTable(table)
    header_read = False
    while True:
        row = reader.line_num + 1
        lines.start_row()
        try:
            cells = next(reader)
        except StopIteration:
            break
        except (csv.Error, _RowTooLong) as exc:
            problems.append(Problem(table.file, row, None, f"{_unreadable_row(exc)}; the rest "
                                                           "of the file is not read"))
            return RawTable(table, present=False)
        if not header_read:
            header_read = True
            raw.header = [h.strip() for h in cells]
            if len(raw.header) > MAX_COLUMNS:
                problems.append(Problem(table.file, 1, None, f"the header has {len(cells):,} "
                                        f"columns; at most {MAX_COLUMNS} are read"))
                return RawTable(table, present=False)
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(raw.header):
            problems.append(Problem(table.file, row, None,
                                    f"{len(cells):,} cells but the header has {len(raw.header)}"))
            continue
        if len(raw.rows) == MAX_ROWS:
            problems.append(Problem(table.file, row, None, f"more than {MAX_ROWS:,} rows; "
                                    "the file is not read"))
            return RawTable(table, present=False)
        raw.rows.append({name: (cells[i].strip() if i < len(cells) else "")
                         for i, name in enumerate(raw.header)})
        raw.lines.append(row)
    if not header_read:
        problems.append(Problem(table.file, None, None, "file is empty (no header row)"))
        return RawTable(table, present=False)
    return raw


def _unreadable_row(exc: Exception) -> str:
    """Return why ``csv.reader`` could not read a row, in the terms of the file."""
    if isinstance(exc, _RowTooLong):
        return f"the row is longer than {MAX_ROW_CHARS:,} characters"
    why = str(exc)
    if "field larger than field limit" in why:
        return f"a cell is longer than {csv.field_size_limit():,} characters"
    if "unexpected end of data" in why:
        return "a quoted cell opened in this row is never closed (a quote inside a quoted " \
               "cell is written as two quotes)"
    if "expected after" in why:
        return "a quoted cell is followed by more text before the next comma (a quote " \
               "inside a quoted cell is written as two quotes)"
    return f"cannot be read as CSV ({why})"


def type_table(raw: RawTable, problems: list[Problem]) -> TypedTable:
    """Type every cell of a raw table against the registry (header, cells, keys)."""
    table = raw.table
    if not raw.present:
        return TypedTable(table, present=False)
    known = {c.name for c in table.columns}
    header = raw.header
    for i, name in enumerate(header, start=1):
        if name == "":
            problems.append(Problem(table.file, 1, None, f"column {i} of the header has no "
                                                         "name"))
        elif name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(table.file, 1, name, f"unknown column{hint}"))
    for dup in sorted(name for name, n in Counter(header).items() if n > 1 and name):
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
    if table.needs_rows and not typed.rows:
        problems.append(Problem(table.file, None, None, "has no rows (only a header); at least "
                                                        "one row is needed"))
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
        why = line_break_problem(text, column) or why or check_value(value, column)
        if why:
            problems.append(Problem(table.file, line, column.name, why))
        row[column.name] = None if why else value
    for column in table.columns:
        if raw.get(column.name, "") != "":
            continue
        needed = column.required
        if column.required_when is not None:
            other = column.required_when[0]
            needed = needed or row.get(other) in column.required_values
        if needed and (column.name in raw or not column.required):
            when = f" (required when {column.required_when[0]} is "\
                   f"{' or '.join(column.required_values)})" if column.required_when else ""
            problems.append(Problem(table.file, line, column.name, f"blank or missing{when}"))
    return row


def line_break_problem(text: str, column: Column) -> str | None:
    """Return why a cell may not hold its line break (only free-text columns may), or None."""
    if column.multiline or ("\n" not in text and "\r" not in text):
        return None
    return (f"{brief(text)} holds a line break (a quoted cell spanning lines); only free "
            "text (source, notes) may")


def brief(value: Any, limit: int = 60) -> str:
    """Return ``repr(value)``, cut to about ``limit`` characters for a message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


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


def read_toml(path: Path, label: str, problems: list[Problem]) -> dict[str, Any] | None:
    """Return the TOML document at ``path``, or ``None`` with a problem saying why not.

    ``label`` names the file in problems. The file is read as every input is
    (``optimize.data.files``: a regular file, UTF-8 with or without a byte order mark).
    """
    try:
        text = read_text(path, MAX_TOML_BYTES)
    except FileProblem as exc:
        problems.append(Problem(label, exc.line, None, exc.message))
        return None
    try:
        return tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or a number too long for Python
        problems.append(Problem(label, None, None, f"not valid TOML: {exc}"))
    except RecursionError:
        problems.append(Problem(label, None, None, "not valid TOML: arrays or tables nested "
                                                   "too deeply"))
    return None


def read_raw_settings(folder: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """Read ``settings.toml`` into a flat dict of dotted keys.

    ``solver.x`` for ``x`` in the ``[solver]`` table, ``solver.highs.y`` for ``y`` in
    ``[solver.highs]``.
    """
    doc = read_toml(folder / SETTINGS.file, SETTINGS.file, problems)
    if doc is None:
        return None
    flat: dict[str, Any] = {}

    def add(prefix: str, table: dict[str, Any]) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                add(f"{prefix}{key}.", value)
            else:
                flat[f"{prefix}{key}"] = value

    add("", doc)
    return flat


#: The typed settings' key of the solvers' own options, ``{solver: {option: value}}``.
SOLVER_OPTIONS = "solver.options"
#: A solver's own option in the settings: ``solver.<solver>.<option>`` (``[solver.highs]``).
SOLVER_OPTION = re.compile(rf"solver\.({'|'.join(SOLVERS)})\.(.+)")


def solver_option_problem(solver: str, name: str, value: Any) -> str | None:
    """Return why ``value`` cannot be solver ``solver``'s option ``name``, or None.

    A value is a TOML scalar (true/false, a number, text). HiGHS's options are checked here,
    by HiGHS itself (the name exists and takes a value of this type and range); the other
    solvers check theirs when they are called, and a refusal is the run's error status.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if not isinstance(value, (bool, int, float, str)):
        return f"must be true/false, a number or text, got {brief(value)}"
    if solver == "highs":
        from optimize.solve import highs_option_problem

        return highs_option_problem(name, value)
    return None


def type_solver_options(flat: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """Return ``{solver: {option: value}}`` from the settings' ``[solver.<solver>]`` tables."""
    options: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        found = SOLVER_OPTION.fullmatch(key)
        if found is None:
            continue
        solver, name = found[1], found[2]
        why = solver_option_problem(solver, name, value)
        if why:
            problems.append(Problem(SETTINGS.file, None, key, why))
        else:
            options.setdefault(solver, {})[name] = value
    return options


def setting_problem(name: str, value: Any) -> str | None:
    """Return why ``value`` breaks the registry's type and bounds for setting ``name``, or None.

    For values given in code or on the command line rather than in settings.toml: a number
    must be finite (and whole for a whole-number setting), text one of the choices.
    """
    column = SETTINGS.column(name)
    if column.kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {brief(value)}"
        if not math.isfinite(value):
            return f"must be a finite number, got {value}"
        if column.kind == "int" and value != int(value):
            return f"must be a whole number, got {value}"
    elif not isinstance(value, str):
        return f"must be text, got {brief(value)}"
    return check_value(value, column)


def type_settings(flat: dict[str, Any] | None, problems: list[Problem]) -> dict[str, Any]:
    """Type and check the settings; unknown keys get a did-you-mean."""
    if flat is None:
        return {}
    known = {c.name for c in SETTINGS.columns}
    for key in flat:
        if key not in known and SOLVER_OPTION.fullmatch(key) is None:
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
    settings[SOLVER_OPTIONS] = type_solver_options(flat, problems)
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
