"""Futures from distributions: a scenario-set file of uncertain inputs, sampled or enumerated.

A scenario-set file (TOML) names a base (an inputs folder or scenario file), a seed, and
``[[uncertain]]`` inputs, each with a distribution over its outcomes:

- ``permit``: ``facility`` gets its permit with ``probability``; without it the facility
  is dropped, with every row naming it and every candidate that requires it (as
  ``norra-karr-no-permit`` does), so a FID planned for it is not taken in that future;
- ``slip``: the earliest FID of ``facilities`` moves by ``years`` (with ``probabilities``);
- ``price``: prices matching ``where`` are multiplied by ``multipliers`` (with
  ``probabilities``), or, when sampling, by a draw of ``uniform = [lo, hi]`` or
  ``triangular = [lo, mode, hi]``;
- ``supply_cut``: from a year in ``years`` (``"never"`` for none; with ``probabilities``)
  tainted offers of ``items`` stop (max_t 0) and their prices are multiplied by
  ``price_multiplier`` (default 1).

``sample = N`` draws N futures (numpy's generator seeded with ``seed``: the same file gives
the same futures); identical draws are merged and weighted by their count. Without
``sample`` every combination of discrete outcomes is a future, with the product of their
probabilities. Each future is a scenario file of its own (``future-001.toml``, ...) beside
``futures.csv`` (its probability and outcomes), which ``ree-plan stochastic --futures``
reads.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimize.data.checks import is_scenario_file, load_inputs
from optimize.data.load import RawInputs, read_toml
from optimize.data.scenario import TABLES, matcher
from optimize.errors import InputError, Problem
from optimize.results.safety import claim
from optimize.uncertainty import output
from optimize.uncertainty.output import ANALYSIS_KIND
from optimize.uncertainty.sensitivity import resolved_raw, toml_value

KINDS = ("permit", "slip", "price", "supply_cut")
#: Enumerating more futures than this is refused: sample instead.
MAX_FUTURES = 1000
NEVER = "never"


@dataclass(frozen=True)
class Uncertain:
    """One uncertain input: its outcomes (discrete) or a continuous draw, and what they do."""

    name: str
    kind: str
    spec: dict[str, Any]
    outcomes: tuple[Any, ...]
    probabilities: tuple[float, ...]
    continuous: tuple[str, tuple[float, ...]] | None = None


@dataclass(frozen=True)
class ScenarioSet:
    """A scenario-set file read: base, seed, sample size and the uncertain inputs."""

    path: Path
    base: Path
    seed: int
    sample: int | None
    uncertain: tuple[Uncertain, ...]


def read_set(path: Path) -> ScenarioSet:
    """Return the scenario set of ``path``; InputError naming the file, entry and key."""
    label = path.name
    problems: list[Problem] = []
    doc = read_toml(path, label, problems)
    if doc is None:
        raise InputError(problems)

    def fail(where: str, why: str) -> None:
        problems.append(Problem(label, None, None, f"{where}: {why}"))

    for key in sorted(set(doc) - {"base", "seed", "sample", "description", "uncertain"}):
        fail(key, "unknown key; expected base, seed, sample, description, [[uncertain]]")
    base = doc.get("base")
    base_path = (path.parent / str(base)).resolve() if isinstance(base, str) and base else None
    if base_path is None or not (base_path.is_dir() or base_path.is_file()):
        fail("base", f"must name an inputs folder or scenario file, got {base!r}")
    seed = doc.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        fail("seed", f"must be a whole number >= 0, got {seed!r}")
    sample = doc.get("sample")
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int)
                               or not 1 <= sample <= MAX_FUTURES):
        fail("sample", f"must be a whole number of futures, 1 to {MAX_FUTURES}, got {sample!r}")
    entries = doc.get("uncertain")
    if not isinstance(entries, list) or not entries:
        fail("uncertain", "needs at least one [[uncertain]] table")
        entries = []
    uncertain = []
    for n, entry in enumerate(entries, start=1):
        u = _uncertain(n, entry, sample is not None, lambda w, y: fail(w, y))
        if u is not None:
            uncertain.append(u)
    if problems:
        raise InputError(problems)
    assert base_path is not None
    return ScenarioSet(path, base_path, int(seed), sample, tuple(uncertain))


def _probabilities(spec: dict[str, Any], n: int, where: str, fail: Any) -> tuple[float, ...]:
    given = spec.get("probabilities")
    if given is None:
        return tuple([1.0 / n] * n)
    ok = isinstance(given, list) and len(given) == n and all(
        isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1 for p in given)
    if not ok or abs(sum(given) - 1.0) > 1e-6:
        fail(where + ", probabilities", f"must be {n} numbers between 0 and 1 summing to 1, "
                                        f"one per outcome; got {given!r}")
        return ()
    return tuple(float(p) for p in given)


def _uncertain(n: int, entry: Any, sampling: bool, fail: Any) -> Uncertain | None:
    if not isinstance(entry, dict):
        fail(f"uncertain {n}", "must be a table")
        return None
    name, kind = entry.get("name"), entry.get("kind")
    where = f"uncertain {n}" + (f" ({name})" if isinstance(name, str) else "")
    if not isinstance(name, str) or not name:
        fail(where + ", name", "must be text")
    if kind not in KINDS:
        fail(where + ", kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
        return None
    keys = {"permit": {"facility", "probability"}, "slip": {"facilities", "years",
                                                            "probabilities"},
            "price": {"where", "multipliers", "probabilities", "uniform", "triangular"},
            "supply_cut": {"items", "years", "probabilities", "price_multiplier"}}[kind]
    for key in sorted(set(entry) - keys - {"name", "kind"}):
        fail(f"{where}, {key}", f"unknown key for {kind}; expected {', '.join(sorted(keys))}")
    spec = {k: v for k, v in entry.items() if k not in ("name", "kind")}
    if kind == "permit":
        p = spec.get("probability")
        if not isinstance(spec.get("facility"), str):
            fail(where + ", facility", "must name a candidate facility")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            fail(where + ", probability", f"must be between 0 and 1, got {p!r}")
            return None
        return Uncertain(str(name), kind, spec, ("granted", "denied"), (float(p), 1.0 - p))
    if kind == "slip":
        fac, years = spec.get("facilities"), spec.get("years")
        if not isinstance(fac, list) or not fac or not all(isinstance(f, str) for f in fac):
            fail(where + ", facilities", "must be a list of candidate facilities")
        if not isinstance(years, list) or not years or not all(
                isinstance(y, int) and not isinstance(y, bool) and 0 <= y <= 50 for y in years):
            fail(where + ", years", "must be a list of whole numbers of years, 0 to 50")
            return None
        probs = _probabilities(spec, len(years), where, fail)
        return Uncertain(str(name), kind, spec, tuple(years), probs) if probs else None
    if kind == "price":
        if not isinstance(spec.get("where"), dict):
            fail(where + ", where", "must be a table of prices.csv columns and values")
        for shape, size in (("uniform", 2), ("triangular", 3)):
            if shape in spec:
                bounds = spec[shape]
                if not sampling:
                    fail(f"{where}, {shape}", "a continuous distribution can only be sampled: "
                                              "give sample = N, or discrete multipliers")
                    return None
                if not isinstance(bounds, list) or len(bounds) != size or not all(
                        isinstance(b, (int, float)) and b >= 0 for b in bounds) \
                        or sorted(bounds) != bounds:
                    fail(f"{where}, {shape}", f"must be {size} increasing numbers >= 0")
                    return None
                return Uncertain(str(name), kind, spec, (), (), (shape, tuple(bounds)))
        mult = spec.get("multipliers")
        if not isinstance(mult, list) or not mult or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0
                for x in mult):
            fail(where + ", multipliers", "must be a list of numbers >= 0 (or give uniform "
                                          "or triangular)")
            return None
        probs = _probabilities(spec, len(mult), where, fail)
        return Uncertain(str(name), kind, spec, tuple(float(x) for x in mult), probs) \
            if probs else None
    items, years = spec.get("items"), spec.get("years")
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        fail(where + ", items", "must be a list of elements, e.g. [\"Dy\", \"Tb\"]")
    if not isinstance(years, list) or not years or not all(
            y == NEVER or (isinstance(y, int) and not isinstance(y, bool)) for y in years):
        fail(where + ", years", "must be a list of years or \"never\"")
        return None
    mult = spec.get("price_multiplier", 1.0)
    if isinstance(mult, bool) or not isinstance(mult, (int, float)) or mult < 0:
        fail(where + ", price_multiplier", f"must be a number >= 0, got {mult!r}")
    probs = _probabilities(spec, len(years), where, fail)
    return Uncertain(str(name), kind, spec, tuple(years), probs) if probs else None


# -- drawing -----------------------------------------------------------------------------

def draw(s: ScenarioSet) -> list[tuple[tuple[Any, ...], float]]:
    """Return the futures as (outcome per uncertain input, probability), in a fixed order."""
    if s.sample is None:
        combos = list(itertools.product(*[range(len(u.outcomes)) for u in s.uncertain]))
        if len(combos) > MAX_FUTURES:
            raise InputError([Problem(s.path.name, None, None, f"enumerating gives "
                                      f"{len(combos):,} futures, more than {MAX_FUTURES:,}; "
                                      "give sample = N")])
        out = [(tuple(u.outcomes[i] for u, i in zip(s.uncertain, c, strict=True)),
                math.prod(u.probabilities[i] for u, i in zip(s.uncertain, c, strict=True)))
               for c in combos]
        return [(o, p) for o, p in out if p > 0]
    rng = np.random.default_rng(s.seed)
    counts: dict[tuple[Any, ...], int] = {}
    for _ in range(s.sample):
        outcome = tuple(_draw_one(u, rng) for u in s.uncertain)
        counts[outcome] = counts.get(outcome, 0) + 1
    return [(o, c / s.sample) for o, c in counts.items()]


def _draw_one(u: Uncertain, rng: np.random.Generator) -> Any:
    if u.continuous is not None:
        shape, b = u.continuous
        x = rng.uniform(b[0], b[1]) if shape == "uniform" else rng.triangular(b[0], b[1], b[2])
        return round(float(x), 4)
    return u.outcomes[int(rng.choice(len(u.outcomes), p=np.asarray(u.probabilities)))]


# -- futures as scenario changes ---------------------------------------------------------

def _years_from(raw: RawInputs, table: str, year: int, match: Any) -> list[int]:
    """Return the years of ``table`` rows matching ``match`` from ``year`` on."""
    return sorted({int(r["year"]) for r in raw.tables[table].rows
                   if match(r) and r.get("year", "").strip().isdigit() and int(r["year"]) >= year})


def outcome_changes(u: Uncertain, outcome: Any, raw: RawInputs) -> list[dict[str, Any]]:
    """Return the scenario changes that put ``outcome`` of ``u`` into the inputs."""
    spec = u.spec
    if u.kind == "permit":
        return [] if outcome == "granted" else drop_facility(spec["facility"], raw)
    if u.kind == "slip":
        return [] if outcome == 0 else [{"table": "facilities",
                                         "where": {"facility": spec["facilities"]},
                                         "column": "earliest_fid", "add": outcome}]
    if u.kind == "price":
        return [] if outcome == 1.0 else [{"table": "prices", "where": spec["where"],
                                           "column": "usd_per_kg", "multiply": outcome}]
    if outcome == NEVER:
        return []
    return supply_cut(spec["items"], int(outcome), float(spec.get("price_multiplier", 1.0)), raw)


def drop_facility(facility: str, raw: RawInputs) -> list[dict[str, Any]]:
    """Return the changes that drop a facility, every row naming it and what requires it."""
    gone, todo = set(), [facility]
    rows = raw.tables["facilities"].rows
    while todo:
        f = todo.pop()
        gone.add(f)
        todo += [r["facility"] for r in rows if r.get("requires") == f and r["facility"]
                 not in gone]
    changes = []
    for name, table in TABLES.items():
        for column in ("facility", "from", "to"):
            if any(c.name == column for c in table.columns) and any(
                    r.get(column) in gone for r in raw.tables[name].rows):
                changes.append({"table": name, "where": {column: sorted(gone)}, "drop": True})
    return changes


def supply_cut(items: list[str], year: int, multiplier: float,
               raw: RawInputs) -> list[dict[str, Any]]:
    """Return the changes of a cut from ``year``: tainted offers of ``items`` stop, prices move.

    A table's missing year takes the latest earlier one, so a row for ``year`` is added
    where there is none (a copy of the latest earlier row) before rows from ``year`` on
    are changed.
    """
    changes: list[dict[str, Any]] = []
    for table, where, column, action, operand in (
            ("offers", {"item": items, "provenance": "tainted"}, "max_t", "set", 0),
            ("prices", {"commodity": ["oxide", "metal"], "item": items}, "usd_per_kg",
             "multiply", multiplier)):
        if action == "multiply" and operand == 1.0:
            continue
        t = TABLES[table]
        tests = [(c, matcher(t.column(c), v)) for c, v in where.items()]

        def match(r: dict[str, str], tests: Any = tests) -> bool:
            return all(test(r.get(c, "")) for c, test in tests)

        key = "offer" if table == "offers" else None
        groups: dict[Any, list[dict[str, str]]] = {}
        for r in raw.tables[table].rows:
            if match(r):
                groups.setdefault(r[key] if key else (r["commodity"], r["item"]), []).append(r)
        added = []
        for rows in groups.values():
            years = [int(r["year"]) for r in rows]
            if year not in years and min(years) < year:
                latest = max((r for r in rows if int(r["year"]) < year),
                             key=lambda r: int(r["year"]))
                added.append({**{k: _typed(t, k, v) for k, v in latest.items() if v != ""},
                              "year": year})
        if added:
            changes.append({"table": table, "rows": added})
        years_on = sorted({y for rows in groups.values() for r in rows
                           for y in [int(r["year"])] if y >= year} | ({year} if added else set()))
        if years_on:
            changes.append({"table": table, "where": {**where, "year": years_on},
                            "column": column, action: operand})
    return changes


def _typed(table: Any, column: str, text: str) -> Any:
    kind = table.column(column).kind
    if kind == "int":
        return int(float(text))
    if kind == "float":
        return float(text)
    return text


def future_text(s: ScenarioSet, outcome: tuple[Any, ...]) -> str:
    """Return what a future is: each uncertain input's outcome."""
    return "; ".join(f"{u.name}: {o}" for u, o in zip(s.uncertain, outcome, strict=True))


def write_future(s: ScenarioSet, folder: Path | None, name: str, outcome: tuple[Any, ...],
                 raw: RawInputs) -> str:
    """Return the scenario file text of one future.

    Its base is relative to ``folder``, or absolute without one.
    """
    import tomllib

    if is_scenario_file(s.base):
        doc = tomllib.loads(s.base.read_text(encoding="utf-8-sig"))
        base = (s.base.parent / str(doc["base"])).resolve()
    else:
        doc, base = {}, s.base
    added = [c for u, o in zip(s.uncertain, outcome, strict=True)
             for c in outcome_changes(u, o, raw)]
    # Drops last: a slip of a facility whose permit is denied changes it before it goes.
    added = [c for c in added if "drop" not in c] + [c for c in added if "drop" in c]
    where = str(base) if folder is None else os.path.relpath(base, folder)
    lines = [f"base = {toml_value(where)}",
             f"description = {json.dumps(name + ': ' + future_text(s, outcome))}"]
    for kind, entries in (("change", [*doc.get("change", []), *added]),
                          ("decision", doc.get("decision", []))):
        for entry in entries:
            lines.append(f"[[{kind}]]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def futures(set_file: str | Path, out: Path) -> pd.DataFrame:
    """Draw the futures of a scenario-set file and write them, checked, into ``out``.

    Every future is loaded and validated before anything is written; a future the inputs
    refuse is an error naming the set file, the future and its outcomes.
    """
    s = read_set(Path(set_file))
    raw = resolved_raw(s.base)
    folder = output.target(out, [set_file, s.base])
    drawn = draw(s)
    width = max(3, len(str(len(drawn))))
    with claim(folder, (ANALYSIS_KIND,)):
        texts, rows, problems = {}, [], []
        for i, (outcome, p) in enumerate(drawn, start=1):
            name = f"future-{i:0{width}d}"
            texts[f"{name}.toml"] = write_future(s, folder, name, outcome, raw)
            rows.append({"future": name, "probability": p, "file": f"{name}.toml",
                         **{u.name: o for u, o in zip(s.uncertain, outcome, strict=True)}})
        for (outcome, _), row in zip(drawn, rows, strict=True):
            problems += check_future(write_future(s, None, row["future"], outcome, raw), s, row)
        if problems:
            raise InputError(problems)
        table = pd.DataFrame(rows)
        summary = {"analysis": "futures", "set": str(set_file), "base": str(s.base),
                   "seed": s.seed, "sample": s.sample, "n_futures": len(rows),
                   "uncertain": [{"name": u.name, "kind": u.kind} for u in s.uncertain]}
        output.write_analysis(folder, {"futures": table}, summary,
                              files={f: t for f, t in texts.items()})
    return table


def check_future(text: str, s: ScenarioSet, row: dict[str, Any]) -> list[Problem]:
    """Return the problems of one future's scenario file, named by the set file and future."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ree-plan-future-") as tmp:
        path = Path(tmp) / f"{row['future']}.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_inputs(path)
        except InputError as exc:
            label = f"{row['future']} ({future_text(s, tuple(row[u.name] for u in s.uncertain))})"
            return [Problem(s.path.name, None, None, f"{label}: {p}") for p in exc.problems]
    return []


def read_futures_folder(folder: Path) -> tuple[list[Path], list[float]]:
    """Return the scenario files and probabilities a ``futures`` folder lists."""
    table = folder / "futures.csv"
    if not table.is_file():
        raise InputError([Problem(str(folder), None, None, "is not a futures folder (no "
                                  "futures.csv: run ree-plan futures SETFILE first)")])
    frame = pd.read_csv(table)
    problems = [Problem(str(table), None, c, "column missing") for c in ("file", "probability")
                if c not in frame.columns]
    if problems:
        raise InputError(problems)
    return [folder / str(f) for f in frame.file], [float(p) for p in frame.probability]
