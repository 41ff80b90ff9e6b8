r"""Stress a plan: hold a solved run's FIDs in other futures and see what they make of it.

For each future s, two solves: its own optimum (every FID free) and the plan held
(``plans.hold``: FIDs up to ``up_to`` fixed to the plan's, later ones free). The regret of
the plan in s is what holding it costs there:

.. math::

    regret_s = z_s(\text{plan}) - z_s^*

with ``z`` the objective (subsidy NPV + shortfall penalty NPV). Each future is one job on
the sweep's workers (``optimize.sweep.execute``); one that fails is its row (status
``invalid`` or ``error``), and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from optimize.data.checks import load_inputs, scenario_name
from optimize.pipeline import options_for
from optimize.results.safety import claim
from optimize.sweep import Job, Progress, execute, failure_row, worker_cache
from optimize.uncertainty import output
from optimize.uncertainty.output import ANALYSIS_KIND
from optimize.uncertainty.plans import (
    Plan,
    funded_text,
    last_first_full_year,
    solve_loaded,
    total_shortfall,
)

#: Columns of stress.csv, one row per future.
COLUMNS = ("scenario", "status", "held_status", "objective_musd", "held_objective_musd",
           "regret_musd", "subsidy_npv_musd", "held_subsidy_npv_musd", "penalty_npv_musd",
           "held_penalty_npv_musd", "shortfall_t", "held_shortfall_t",
           "first_full_coverage_year", "held_first_full_coverage_year", "funded", "held_funded",
           "unavailable_fids", "message")


def stress_future(inputs: str, plan: Plan, up_to: int | None,
                  overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Solve one future with and without the plan; return its row and its program rows.

    Any failure is the row's status and message, never an exception (a worker job).
    """
    name = scenario_name(inputs)
    try:
        loaded = load_inputs(inputs)
        options = options_for(loaded.data, **overrides)
        own = solve_loaded(loaded, options, cache=worker_cache()).summary
        held = solve_loaded(loaded, options, plan=plan, up_to=up_to)
    except Exception as exc:  # noqa: BLE001 - one future's failure is its row
        worker_cache().model = None
        return [{"scenario": name, **failure_row("stress", exc)}]
    h = held.summary
    objective, held_objective = own.get("objective_musd"), h.get("objective_musd")
    row = {
        "scenario": name, "status": own["status"], "held_status": h["status"],
        "objective_musd": objective, "held_objective_musd": held_objective,
        "regret_musd": None if objective is None or held_objective is None
        else held_objective - objective,
        "subsidy_npv_musd": own.get("subsidy_npv_musd"),
        "held_subsidy_npv_musd": h.get("subsidy_npv_musd"),
        "penalty_npv_musd": own.get("penalty_npv_musd"),
        "held_penalty_npv_musd": h.get("penalty_npv_musd"),
        "shortfall_t": total_shortfall(own), "held_shortfall_t": total_shortfall(h),
        "first_full_coverage_year": last_first_full_year(own),
        "held_first_full_coverage_year": last_first_full_year(h),
        "funded": funded_text(own), "held_funded": funded_text(h),
        "unavailable_fids": "; ".join(held.unavailable),
        "message": h.get("message") or own.get("message") or "",
        "programs": [
            {"scenario": name, "program": p,
             "shortfall_t": (own.get("shortfall_t") or {}).get(p),
             "held_shortfall_t": (h.get("shortfall_t") or {}).get(p),
             "first_full_coverage_year": (own.get("first_full_coverage_year") or {}).get(p),
             "held_first_full_coverage_year":
                 (h.get("first_full_coverage_year") or {}).get(p)}
            for p in loaded.data.programs],
    }
    return [row]


@dataclass
class StressResult:
    """A finished stress test: its folder, the table per future and per program."""

    folder: Path
    table: pd.DataFrame
    programs: pd.DataFrame
    failures: dict[str, str]


def stress(run: str | Path, scenarios: list[str | Path], out: Path,
           up_to: int | None = None, workers: int = 2,
           overrides: dict[str, Any] | None = None) -> StressResult:
    """Hold the plan of the run folder ``run`` in each scenario; write ``out``.

    ``out`` gets ``stress.csv`` (a row per future), ``stress_programs.csv`` (per future and
    program), ``plan.csv`` (the plan held), summary.json and report.html.
    """
    from optimize.uncertainty.plans import read_plan

    source, plan = read_plan(run)
    names = [scenario_name(s) for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"two scenarios share the name {', '.join(dupes)}; rename one")
    folder = output.target(out, [*scenarios, run])
    overrides = {"threads": 1, **(overrides or {})}
    with claim(folder, (ANALYSIS_KIND,)):
        jobs = [Job(n, stress_future, (str(s), plan, up_to, overrides))
                for n, s in zip(names, scenarios, strict=True)]
        outcomes = execute(jobs, workers, None, Progress(len(jobs), "stress"))
        rows: dict[str, dict[str, Any]] = {
            o.key: (o.summaries[0] if o.summaries else
                    {"scenario": o.key, "status": "error", "message": o.error})
            for o in outcomes}
        ordered = [rows[n] for n in names]
        programs = pd.DataFrame([p for r in ordered for p in r.get("programs", [])],
                                columns=["scenario", "program", "shortfall_t", "held_shortfall_t",
                                         "first_full_coverage_year",
                                         "held_first_full_coverage_year"])
        table = pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in ordered],
                             columns=list(COLUMNS))
        plan_table = pd.DataFrame(sorted(plan.items()), columns=["facility", "fid_year"])
        failures = {str(r["scenario"]): str(r.get("message") or r["status"]) for r in ordered
                    if r.get("status") in ("invalid", "error")}
        summary = {"analysis": "stress", "run": str(run), "plan_of": source,
                   "plan": [{"facility": f, "fid_year": y} for f, y in sorted(plan.items())],
                   "up_to": up_to, "scenarios": names,
                   "worst_regret_musd": _max(table.regret_musd),
                   "failures": failures}
        output.write_analysis(folder, {"stress": table, "stress_programs": programs,
                                       "plan": plan_table}, summary,
                              report(source, plan, up_to, table, programs))
    return StressResult(out, table, programs, failures)


def _max(values: pd.Series) -> float | None:
    found = pd.to_numeric(values, errors="coerce").dropna()
    return None if found.empty else float(found.max())


def regret_figure(table: pd.DataFrame) -> go.Figure:
    """Return bars of each future's objective: its own optimum and with the plan held."""
    fig = go.Figure()
    fig.add_bar(name="own optimum", x=table.scenario, y=table.objective_musd)
    fig.add_bar(name="plan held", x=table.scenario, y=table.held_objective_musd,
                customdata=table.regret_musd,
                hovertemplate="%{x}: %{y:,.1f} MUSD (regret %{customdata:,.1f})<extra></extra>")
    fig.update_layout(barmode="group", yaxis_title="subsidy + penalty NPV (MUSD)",
                      title="The plan in each future against that future's own optimum")
    return fig


def report(source: str, plan: Plan, up_to: int | None, table: pd.DataFrame,
           programs: pd.DataFrame) -> str:
    """Return the stress test's report page: the regret figure and both tables."""
    held = ", ".join(f"{f} {y}" for f, y in sorted(plan.items())) or "nothing"
    scope = "every FID" if up_to is None else f"FIDs up to {up_to} (later ones free)"
    return output.page(f"Stress test of the plan of {source}", [
        f"<p>Plan held: {output.text(held)}; {output.text(scope)}. Regret is the plan's "
        "objective in a future minus that future's own optimum (MUSD NPV).</p>",
        output.figure(regret_figure(table), "regret"),
        "<h2>Per future</h2>", output.table(table),
        "<h2>Per future and program</h2>", output.table(programs)])
