"""Plans: the FIDs of a solved run, held in another future, and what a future makes of them.

A plan is ``{facility: fid_year}``. Holding it in a future's model fixes that model's
``fid`` variables: up to a year (``up_to``), ``fid[f,y] = 1`` where the plan takes f's FID
in y and 0 otherwise; later FIDs stay free for that future to choose. A planned FID that
the future does not allow (its facility is absent there, or may not yet take its FID) is
not taken there and is reported (``unavailable``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pyomo.environ import ConcreteModel

from optimize.data.checks import LoadedInputs
from optimize.errors import InputError, Problem
from optimize.model import build_model
from optimize.pipeline import ModelCache, finite_or_null, make_summary
from optimize.results.tables import extract
from optimize.solve import SolveOptions
from optimize.solvers import solver_model

Plan = dict[str, int]


def read_plan(run: str | Path) -> tuple[str, Plan]:
    """Return a run folder's scenario name and its plan (plan.csv ``fid_year``).

    InputError naming the file, row and column when the folder is no solved run.
    """
    folder = Path(run)
    where = str(folder / "plan.csv")
    if not (folder / "summary.json").is_file() or not (folder / "plan.csv").is_file():
        raise InputError([Problem(str(folder), None, None, "is not a solved run folder (it "
                                  "needs summary.json and plan.csv: run ree-plan solve first)")])
    try:
        frame = pd.read_csv(folder / "plan.csv", dtype={"facility": str})
        import json

        scenario = str(json.loads((folder / "summary.json").read_text()).get("scenario",
                                                                             folder.name))
    except (OSError, ValueError) as exc:
        raise InputError([Problem(where, None, None, f"cannot be read: {exc}")]) from exc
    problems = [Problem(where, None, c, "column missing") for c in ("facility", "fid_year")
                if c not in frame.columns]
    if problems:
        raise InputError(problems)
    plan: Plan = {}
    for i, (f, y) in enumerate(zip(frame.facility, frame.fid_year, strict=True)):
        if pd.isna(y):
            continue
        if not isinstance(y, (int, float)) or not float(y).is_integer() or not math.isfinite(y):
            problems.append(Problem(where, i + 2, "fid_year", f"must be a whole year, got {y!r}"))
            continue
        plan[str(f)] = int(y)
    if problems:
        raise InputError(problems)
    return scenario, plan


def parse_year(text: str | None, what: str) -> int | None:
    """Return a year flag's value (None when not given); ValueError naming the flag."""
    if text is None:
        return None
    try:
        year = int(text)
    except ValueError:
        raise ValueError(f"{what} must be a whole year such as 2030, got {text!r}") from None
    if not 1900 <= year <= 2200:
        raise ValueError(f"{what} must be a year between 1900 and 2200, got {year}")
    return year


def hold(m: ConcreteModel, plan: Plan, up_to: int | None = None) -> list[str]:
    r"""Fix the model's FIDs up to ``up_to`` (all, with None) to the plan; return what is lost.

    .. math::

        fid_{f,y} = [\,plan_f = y\,] \qquad \forall (f, y) \in \text{fid\_years},\ y \le up\_to

    Returns the planned FIDs (``facility fid_year``) within ``up_to`` that the model has no
    variable for: the future forbids them, so the plan loses them there.
    """
    for (f, y), var in m.fid.items():
        if up_to is None or y <= up_to:
            var.fix(1.0 if plan.get(f) == y else 0.0)
    return [f"{f} {y}" for f, y in sorted(plan.items())
            if (up_to is None or y <= up_to) and (f, y) not in m.fid]


@dataclass
class Evaluation:
    """One future solved: its summary (as summary.json has it) and the solved model."""

    summary: dict[str, Any]
    model: ConcreteModel | None
    unavailable: list[str]


def solve_loaded(loaded: LoadedInputs, options: SolveOptions, plan: Plan | None = None,
                 up_to: int | None = None, cache: ModelCache | None = None) -> Evaluation:
    """Solve one future, with ``plan`` held up to ``up_to`` when given.

    Without a plan the cache's model is updated in place when only parameters differ;
    a held plan fixes variables, so it gets a model of its own.
    """
    unavailable: list[str] = []
    if plan is None:
        model, build_seconds, _ = (cache or ModelCache()).model_for(loaded.data, options)
    else:
        started = time.perf_counter()
        built = build_model(loaded.data)
        unavailable = hold(built, plan, up_to)
        build_seconds = time.perf_counter() - started
        model = solver_model(built, options)
    result = model.solve()
    m = model.m
    tables = extract(m, model.expression_values()) if result.status.has_solution else None
    summary = make_summary(loaded, m, result, options, tables, build_seconds)
    return Evaluation(finite_or_null(summary), m, unavailable)


def last_first_full_year(summary: dict[str, Any]) -> int | None:
    """Return the year from which every US defense program is fully covered (None: some never is).

    Allied and commercial programs (``assumptions.buyer``) compete for the same supply but
    are not the headline.
    """
    buyer = (summary.get("assumptions") or {}).get("buyer") or {}
    years = [y for p, y in (summary.get("first_full_coverage_year") or {}).items()
             if buyer.get(p, "us-defense") == "us-defense"]
    if not years or any(y is None for y in years):
        return None
    return int(max(years))


def total_shortfall(summary: dict[str, Any]) -> float | None:
    """Return the shortfall summed over programs and years (t), None without a plan."""
    shortfall = summary.get("shortfall_t")
    return None if shortfall is None else float(sum(shortfall.values()))


def funded_text(summary: dict[str, Any]) -> str:
    """Return the funded projects as ``facility fid_year`` joined by ``; ``."""
    return "; ".join(f"{f['facility']} {f['fid_year']}" for f in summary.get("funded") or [])
