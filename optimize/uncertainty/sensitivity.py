"""Sensitivity: one group of inputs at a time at its low and high value; tornado charts.

A ranges file (``ranges.toml`` beside this module, or ``--ranges FILE``) lists groups, each
a scenario change (README, "Inputs and outputs") with a ``low`` and a ``high`` action
(``multiply``, ``add`` or ``set``) on one column or several. Each case is the inputs (a
folder, or a scenario file with its own changes and decisions) with one group's change, so
its numbers differ from the base case in that group alone. Rows whose cell is blank (a
funding program without a total budget) are left as they are.

Cases run on the sweep's workers, those differing only in parameters next to each other: a
worker updates its kept model in place for prices, demand and budgets, and rebuilds for
capex, lead times, recoveries and availability shares. A case the change makes invalid (a
lead time below 1) is its row, status ``invalid``, and the others go on.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from optimize.data.checks import is_scenario_file, load_inputs, scenario_name
from optimize.data.load import RawInputs, read_raw_inputs, read_toml
from optimize.data.registry import CSV_TABLES
from optimize.data.scenario import matcher, read_scenario
from optimize.errors import InputError, Problem
from optimize.pipeline import run
from optimize.results.safety import claim
from optimize.sweep import (
    Job,
    Progress,
    execute,
    failure_row,
    same_structure_together,
    worker_cache,
)
from optimize.uncertainty import output
from optimize.uncertainty.output import ANALYSIS_KIND
from optimize.uncertainty.plans import last_first_full_year

TABLES = {t.name: t for t in CSV_TABLES}
DEFAULT_RANGES = Path(__file__).with_name("ranges.toml")
ACTIONS = ("multiply", "add", "set")
LEVELS = ("low", "high")
GROUP_KEYS = {"name", "table", "where", "column", "low", "high", "description"}


@dataclass(frozen=True)
class Group:
    """One group of inputs moved together: the change at its low and at its high value."""

    name: str
    table: str
    where: dict[str, Any]
    columns: tuple[str, ...]
    levels: dict[str, tuple[str, float]]  # level -> (action, operand)


def read_ranges(path: Path) -> list[Group]:
    """Return the groups of a ranges file; InputError naming the file, group and key."""
    label = path.name
    problems: list[Problem] = []
    doc = read_toml(path, label, problems)
    if doc is None:
        raise InputError(problems)
    entries = doc.get("group")
    if set(doc) - {"group"} or not isinstance(entries, list) or not entries:
        raise InputError([Problem(label, None, None, "must hold [[group]] tables and nothing "
                                  "else (name, table, where, column, low, high)")])
    groups, names = [], set()
    for n, entry in enumerate(entries, start=1):
        group = _group(label, n, entry, problems)
        if group is not None:
            if group.name in names:
                problems.append(Problem(label, None, None, f"group {n} ({group.name}): a second "
                                        "group of this name"))
            names.add(group.name)
            groups.append(group)
    if problems:
        raise InputError(problems)
    return groups


def _group(label: str, n: int, entry: Any, problems: list[Problem]) -> Group | None:
    if not isinstance(entry, dict):
        problems.append(Problem(label, None, None, f"group {n}: must be a table"))
        return None
    name = entry.get("name")
    where = f"group {n}" + (f" ({name})" if isinstance(name, str) else "")

    def fail(key: str, why: str) -> None:
        problems.append(Problem(label, None, None, f"{where}, {key}: {why}"))

    found = len(problems)
    for key in sorted(set(entry) - GROUP_KEYS):
        fail(key, f"unknown key; expected {', '.join(sorted(GROUP_KEYS))}")
    if not isinstance(name, str) or not name.strip():
        fail("name", "must be text naming the group")
    table = entry.get("table")
    if not isinstance(table, str) or table not in TABLES:
        close = difflib.get_close_matches(str(table), sorted(TABLES), n=1)
        fail("table", f"unknown table {table!r}" + (f"; did you mean {close[0]!r}?"
                                                      if close else ""))
        return None
    known = [c.name for c in TABLES[str(table)].columns]
    columns = entry.get("column")
    columns = [columns] if isinstance(columns, str) else columns
    if not isinstance(columns, list) or not columns or not all(
            isinstance(c, str) for c in columns):
        fail("column", "must be a column name or a list of them")
        columns = []
    for c in columns:
        if c not in known:
            close = difflib.get_close_matches(c, known, n=1)
            fail("column", f"unknown column {c!r} in {table}" + (
                f"; did you mean {close[0]!r}?" if close else ""))
    filt = entry.get("where", {})
    if not isinstance(filt, dict) or any(k not in known for k in filt):
        fail("where", f"must be a table of {table}'s columns and values")
    levels = {}
    for level in LEVELS:
        spec = entry.get(level)
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in ACTIONS:
            fail(level, "must be one of { multiply = X }, { add = X }, { set = X }")
            continue
        action, operand = next(iter(spec.items()))
        if isinstance(operand, bool) or not isinstance(operand, (int, float)) \
                or not math.isfinite(operand):
            fail(level, f"{action} needs a finite number, got {operand!r}")
            continue
        levels[level] = (action, float(operand))
    if len(problems) > found:
        return None
    return Group(str(name), str(table), dict(filt), tuple(columns), levels)


# -- the cases ---------------------------------------------------------------------------

def resolved_raw(inputs: Path) -> RawInputs:
    """Return the inputs' tables as text after their scenario's changes, if any."""
    problems: list[Problem] = []
    if is_scenario_file(inputs):
        scenario = read_scenario(inputs, problems)
        raw = None if scenario is None else scenario.raw
    else:
        raw = read_raw_inputs(inputs, problems)
    if raw is None or problems:
        raise InputError(problems)
    return raw


def changes(group: Group, level: str, raw: RawInputs) -> list[dict[str, Any]]:
    """Return the scenario changes of a group at a level, one per column.

    Where some matched rows leave the column blank, ``where`` also names the key column's
    values of the others (each table's first column), so that blank cells are left alone.
    """
    action, operand = group.levels[level]
    table = TABLES[group.table]
    raw_table = raw.tables[group.table]
    tests = [(table.column(c), matcher(table.column(c), v)) for c, v in group.where.items()]
    rows = [r for r in raw_table.rows if all(t(r.get(c.name, "")) for c, t in tests)]
    key = table.columns[0].name
    out = []
    for column in group.columns:
        filled = [r for r in rows if r.get(column, "").strip() != ""]
        if not filled:
            continue
        where = dict(group.where)
        if len(filled) < len(rows):
            where[key] = sorted({r[key] for r in filled})
        out.append({"table": group.table, "where": where, "column": column, action: operand})
    return out


def toml_value(v: Any) -> str:
    """Return a value as TOML (strings, numbers, booleans, lists and inline tables)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


def case_file(inputs: Path, added: list[dict[str, Any]], path: Path) -> Path:
    """Write a scenario file: the inputs (folder or scenario) with the ``added`` changes."""
    if is_scenario_file(inputs):
        doc = tomllib.loads(inputs.read_text(encoding="utf-8-sig"))
        base = (inputs.parent / str(doc["base"])).resolve()
    else:
        doc, base = {}, inputs.resolve()
    lines = [f"base = {toml_value(str(base))}"]
    for kind, entries in (("change", [*doc.get("change", []), *added]),
                          ("decision", doc.get("decision", []))):
        for entry in entries:
            lines.append(f"[[{kind}]]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in entry.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sensitivity_case(path: str, group: str, level: str,
                     overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Solve one case on the worker's kept model; return its row (a worker job)."""
    row: dict[str, Any] = {"group": group, "level": level}
    try:
        s = run(path, cache=worker_cache(), **overrides).summary
    except Exception as exc:  # noqa: BLE001 - one case's failure is its row
        worker_cache().model = None
        return [{**row, **failure_row("sensitivity", exc)}]
    return [{**row, "status": s["status"], "model": s.get("model"),
             "objective_musd": s.get("objective_musd"),
             "subsidy_npv_musd": s.get("subsidy_npv_musd"),
             "penalty_npv_musd": s.get("penalty_npv_musd"),
             "first_full_coverage_year": last_first_full_year(s),
             "programs": s.get("first_full_coverage_year") or {},
             "message": s.get("message") or ""}]


@dataclass
class SensitivityResult:
    """A finished sensitivity analysis: folder, tables, failures."""

    folder: Path
    table: pd.DataFrame
    programs: pd.DataFrame
    failures: dict[str, str]


def sensitivity(inputs: str | Path, out: Path, ranges: str | Path | None = None,
                workers: int = 2, overrides: dict[str, Any] | None = None) -> SensitivityResult:
    """Solve the base case and each group at low and high; write ``out``."""
    inputs = Path(inputs)
    ranges_path = Path(ranges) if ranges is not None else DEFAULT_RANGES
    groups = read_ranges(ranges_path)
    base = load_inputs(inputs)
    raw = resolved_raw(inputs)
    folder = output.target(out, [inputs, *([ranges_path] if ranges else [])])
    overrides = {"threads": 1, **(overrides or {})}
    with claim(folder, (ANALYSIS_KIND,)), tempfile.TemporaryDirectory(
            prefix="ree-plan-sensitivity-") as tmp:
        cases: list[tuple[str, str | Path]] = [("base", str(inputs))]
        described = {("base", "base"): ""}
        problems: list[Problem] = []
        for i, g in enumerate(groups):
            for level in LEVELS:
                added = changes(g, level, raw)
                action, operand = g.levels[level]
                described[g.name, level] = f"{g.table}.{'+'.join(g.columns)} {action} {operand:g}"
                case = case_file(inputs, added, Path(tmp) / f"case-{i}-{level}.toml")
                cases.append((f"{g.name}\x00{level}", case))
                if not added:
                    problems.append(Problem(ranges_path.name, None, None, f"group {i + 1} "
                                            f"({g.name}): matches no filled cell of "
                                            f"{g.table} in {inputs}"))
        if problems:
            raise InputError(problems)
        jobs = []
        for key, where in same_structure_together(cases):
            group, level = key.split("\x00") if "\x00" in key else ("base", "base")
            jobs.append(Job(key, sensitivity_case, (str(where), group, level, overrides)))
        outcomes = execute(jobs, workers, None, Progress(len(jobs), "sensitivity"))
        rows = {}
        for o in outcomes:
            job = next(j for j in jobs if j.key == o.key)
            rows[o.key] = o.summaries[0] if o.summaries else {
                "group": job.args[1], "level": job.args[2], "status": "error",
                "message": o.error}
        ordered = [rows[k] for k, _ in cases]
    for r in ordered:
        r["change"] = described[r["group"], r["level"]]
        if r.get("status") == "invalid":  # name the group, not the temporary file
            text = " ".join(str(r.get("message", "")).split("\n")[1:]).strip()
            text = re.sub(r" \(set by case-\d+-(low|high)\.toml, change \d+ \([^)]*\)\)", "",
                          text)
            r["message"] = f"{ranges_path.name}, group {r['group']}, {r['level']}: {text}"
    columns = ["group", "level", "change", "status", "subsidy_npv_musd", "objective_musd",
               "penalty_npv_musd", "first_full_coverage_year", "model", "message"]
    table = pd.DataFrame([{c: r.get(c) for c in columns} for r in ordered], columns=columns)
    table["first_full_coverage_year"] = table.first_full_coverage_year.astype("Int64")
    programs = pd.DataFrame(
        [{"group": r["group"], "level": r["level"], "program": p, "first_full_coverage_year": y}
         for r in ordered for p, y in (r.get("programs") or {}).items()],
        columns=["group", "level", "program", "first_full_coverage_year"])
    programs["first_full_coverage_year"] = programs.first_full_coverage_year.astype("Int64")
    failures = {f"{r['group']} {r['level']}": str(r.get("message") or r["status"])
                for r in ordered if r.get("status") in ("invalid", "error")}
    summary = {"analysis": "sensitivity", "inputs": str(inputs), "scenario": base.name,
               "ranges": str(ranges_path), "groups": [g.name for g in groups],
               "failures": failures}
    output.write_analysis(folder, {"sensitivity": table, "sensitivity_programs": programs},
                          summary, report(scenario_name(inputs), table, programs,
                                          base.data.end_year))
    return SensitivityResult(out, table, programs, failures)


# -- tornado charts ------------------------------------------------------------------------

def tornado(table: pd.DataFrame, column: str, title: str, axis: str) -> go.Figure:
    """Return a tornado chart: per group, the low and high cases as bars from the base."""
    base_rows = table[table.group == "base"]
    found = pd.to_numeric(base_rows[column], errors="coerce").dropna()
    base = float(found.iloc[0]) if len(found) else 0.0
    rest = table[table.group != "base"].assign(
        **{column: pd.to_numeric(table[column], errors="coerce")})
    cases = rest.pivot_table(index="group", columns="level", values=column, aggfunc="first",
                             dropna=False)
    cases = cases.reindex(columns=list(LEVELS))
    width = (cases["high"] - base).abs().fillna(0) + (cases["low"] - base).abs().fillna(0)
    cases = cases.loc[width.sort_values().index]
    fig = go.Figure()
    for level, colour in (("low", "#4c78a8"), ("high", "#f58518")):
        fig.add_bar(name=level, y=list(cases.index), x=cases[level] - base, base=base,
                    orientation="h", marker_color=colour,
                    hovertemplate="%{y}: %{x:,.1f}<extra>" + level + "</extra>")
    fig.update_layout(barmode="overlay", title=title, xaxis_title=axis,
                      height=200 + 28 * len(cases))
    fig.add_vline(x=base, line_dash="dot")
    return fig


def report(name: str, table: pd.DataFrame, programs: pd.DataFrame, end_year: int) -> str:
    """Return the sensitivity report: tornadoes of subsidy NPV and of first covered years."""
    sections = [
        "<p>Each bar moves one group of inputs to its low or high value, everything else as "
        "in the base case (the dotted line).</p>",
        output.figure(tornado(table, "subsidy_npv_musd", "Subsidy NPV",
                              "subsidy NPV (MUSD)"), "tornado-subsidy")]
    never = end_year + 1
    for i, program in enumerate(sorted(programs.program.unique())):
        rows = programs[programs.program == program].copy()
        rows["first_full_coverage_year"] = rows.first_full_coverage_year.fillna(never)
        sections.append(output.figure(tornado(
            rows, "first_full_coverage_year", f"First fully covered year: {program}",
            f"year ({never}: never within the horizon)"), f"tornado-year-{i}"))
    sections += ["<h2>Cases</h2>", output.table(table),
                 "<h2>First fully covered year per program</h2>", output.table(programs)]
    return output.page(f"Sensitivity: {name}", sections)
