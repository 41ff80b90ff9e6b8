"""One run, end to end: load, validate, build, solve, extract, write."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pyomo.environ import ConcreteModel

from optimize.data.checks import LoadedInputs, load_inputs
from optimize.data.load import setting_problem
from optimize.data.modeldata import ModelData
from optimize.errors import InputError, Problem
from optimize.model import build_model, extensions
from optimize.model.parameters import StructureChanged
from optimize.results.marginals import marginals_summary, marginals_table
from optimize.results.safety import check_model_file, claim, output_path
from optimize.results.tables import Tables, extract, summary_numbers
from optimize.results.write import write_run
from optimize.solve import RANDOM_SEED, SolveOptions, SolveResult, Status
from optimize.solvers import SolverModel, solver_model


@dataclass
class RunResult:
    """What a run produced: its summary, its tables (None without a plan) and where."""

    summary: dict[str, Any]
    tables: Tables | None
    out: Path | None
    data: ModelData
    model: ConcreteModel | None = None  # the solved Pyomo model, its variables at the plan

    @property
    def status(self) -> Status:
        """Return the solve status."""
        return Status(self.summary["status"])

    def report_tables(self) -> Any:
        """Return the run's tables and summary as the report reads them (``RunTables``)."""
        from optimize.report.figures import RunTables

        frames = dict(self.tables.frames) if self.tables is not None else {}
        return RunTables(self.out, self.summary, frames)

    def figures(self, year: int | None = None) -> dict[str, Any]:
        """Return the report's figures as plotly objects, by name (flows of ``year``)."""
        from optimize.report.html import run_figures

        if self.tables is None:
            return {}
        return run_figures(self.report_tables(), year)

    def _repr_html_(self) -> str:
        """Return the answer and the key figures as HTML (what Jupyter shows of a run)."""
        from optimize.report.html import notebook_html

        return notebook_html(self.report_tables())

    def _ipython_display_(self) -> None:
        """Show the answer, then every figure of the report, in Jupyter."""
        from IPython.display import HTML, display

        display(HTML(self._repr_html_()))
        for fig in self.figures().values():
            display(fig)


#: The settings.toml setting that each overridable SolveOptions field stands for.
OVERRIDABLE = {"mode": "mode", "time_limit_s": "solver.time_limit_s", "mip_gap": "solver.mip_gap",
               "threads": "solver.threads", "solver": "solver.name"}


#: HiGHS options that print its log (presolve, the branch-and-bound table) as it solves.
SOLVER_LOG = (("output_flag", True), ("log_to_console", True))


def options_for(data: ModelData, solver_log: bool = False, **overrides: Any) -> SolveOptions:
    """Return the solve options of settings.toml with any non-None overrides applied.

    Overrides obey the bounds that settings.toml does (InputError otherwise).
    ``solver_log`` (``solve --verbose``) adds the HiGHS options that print its log.
    """
    check_overrides(overrides)
    base = SolveOptions(mode=data.mode, time_limit_s=data.time_limit_s, mip_gap=data.mip_gap,
                        threads=data.threads, solver=data.solver)
    options = replace(base, **{k: v for k, v in overrides.items() if v is not None})
    if overrides.get("own_options") is None:  # the chosen solver's own table of settings.toml
        options = replace(options, own_options=data.solver_options.get(options.solver, ()))
    if solver_log and options.solver == "highs":
        options = replace(options, own_options=(*options.own_options, *SOLVER_LOG))
    return options


def check_overrides(overrides: dict[str, Any]) -> None:
    """Raise InputError if an override breaks the bounds of its setting in the registry."""
    problems = []
    for name, value in overrides.items():
        setting = OVERRIDABLE.get(name)
        why = None if value is None or setting is None else setting_problem(setting, value)
        if why is not None:
            problems.append(Problem("solve options", None, name, why))
    if problems:
        raise InputError(problems)


class ModelCache:
    """The last model built, kept so that a run differing only in parameters updates it.

    Parameters are prices, offers, demand, penalties and budgets (``optimize.model.parameters``);
    any other difference, or other solve options, builds afresh and drops the old model.
    """

    def __init__(self) -> None:
        self.model: SolverModel | None = None

    def model_for(self, data: ModelData, options: SolveOptions) -> tuple[SolverModel, float, bool]:
        """Return ``(model, seconds, updated)``: the kept model updated to ``data``, or anew.

        The model is held for ``options.solver``; SolverUnavailable if it cannot run here.
        """
        if self.model is not None and self.model.options == options:
            try:
                return self.model, self.model.update(data), True
            except StructureChanged:
                pass
        self.model = None  # let the old model go before the new one takes memory
        started = time.perf_counter()
        built = build_model(data)
        build_seconds = time.perf_counter() - started
        self.model = solver_model(built, options)
        return self.model, build_seconds, False


def run(inputs: str | Path, out: str | Path | None = None, write_lp: str | Path | None = None,
        report: bool = False, tag: dict[str, Any] | None = None,
        cache: ModelCache | None = None, ignore_decisions: bool = False,
        **overrides: Any) -> RunResult:
    """Solve the inputs folder and, when ``out`` is given, write its run folder.

    ``report`` also writes ``report.html`` (plots of the tables) into the run folder; ``tag``
    adds fields to summary.json (a sweep's run id). With a ``cache``, a model kept from an
    earlier run is updated in place when only parameters differ (summary ``model``).
    ``ignore_decisions`` solves a scenario as if it had no ``[[decision]]`` entries.

    ``overrides`` are SolveOptions fields (mode, time_limit_s, mip_gap, threads, solver).
    Raises InputError on invalid inputs and SolverUnavailable when the solver is not
    installed; solver outcomes are reported in the summary. ``out`` must be a new or empty
    folder or a run folder ree-plan wrote, away from the inputs, and ``write_lp`` a ``.lp``
    or ``.mps`` file in an existing folder (OutputRefused otherwise, before anything is
    solved); another run writing ``out`` now raises OutputBusy
    (``optimize.results.safety``).
    """
    target = output_path(out, [inputs]) if out is not None else None
    if write_lp is not None:
        check_model_file(write_lp, target)
    loaded = load_inputs(inputs)
    if ignore_decisions:
        loaded = loaded.without_decisions()
    options = options_for(loaded.data, **overrides)
    with claim(target) if target is not None else contextlib.nullcontext():
        model, build_seconds, updated = (cache or ModelCache()).model_for(loaded.data, options)
        tag = {"model": "updated" if updated else "built", **(tag or {})}
        return solve_model(loaded, model, build_seconds, out, write_lp, report, tag)


def solve_model(loaded: LoadedInputs, model: SolverModel, build_seconds: float,
                out: str | Path | None = None, write_lp: str | Path | None = None,
                report: bool = False, tag: dict[str, Any] | None = None) -> RunResult:
    """Solve a model held by a solver, extract its tables and write its run folder.

    The second half of ``run``, and what ``optimize.api.solve`` calls for a model a user
    has extended. Components added to the model after ``build_model`` are listed in
    summary.json (``extensions``), so a run folder says that its model was changed.
    """
    built = model.m
    if write_lp is not None:
        model.write(check_model_file(write_lp, Path(out).resolve() if out is not None else None))
    result = model.solve()
    tables = extract(built, model.expression_values()) if result.status.has_solution else None
    if tables is not None:
        tables.frames["marginals"] = marginals_table(model.plan_duals())
    summary = make_summary(loaded, built, result, model.options, tables, build_seconds)
    summary["extensions"] = extensions(built)
    summary.update(tag or {})
    summary = finite_or_null(summary)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        write_run(out_path, summary, tables, before_swap=_write_report if report else None)
    return RunResult(summary, tables, out_path, loaded.data, built)


def finite_or_null(value: Any) -> Any:
    """Return ``value`` with every NaN or infinite number, however nested, made ``None``.

    summary.json is strict JSON: a solver's infinite gap (no bound yet) is ``null``, not
    ``Infinity``, which JSON readers other than Python's refuse.
    """
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_null(v) for v in value]
    if isinstance(value, tuple):
        return tuple(finite_or_null(v) for v in value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_report(folder: Path) -> None:
    from optimize.report.html import write_report

    write_report(folder)


def make_summary(loaded: LoadedInputs, built: ConcreteModel, result: SolveResult,
                 options: SolveOptions, tables: Tables | None,
                 build_seconds: float) -> dict[str, Any]:
    """Return the content of summary.json (docs/formulation.md, Outputs)."""
    summary: dict[str, Any] = {
        "scenario": loaded.name,
        "scenario_file": loaded.scenario,
        "mode": options.mode,
        "decisions": [d.as_given() for d in built.data.decisions],
        "status": str(result.status),
        "message": result.message,
        "objective_musd": result.objective_musd,
        "subsidy_npv_musd": None,
        "penalty_npv_musd": None,
        "mip_gap": result.mip_gap,
    }
    if tables is not None:
        summary.update(summary_numbers(built, tables, built.data))
        if "marginals" in tables.frames:
            summary["marginals"] = marginals_summary(tables["marginals"])
    summary.update({
        "build_seconds": round(build_seconds, 3),
        "transfer_seconds": round(result.transfer_seconds, 3),
        "solve_seconds": round(result.solve_seconds, 3),
        "load_seconds": round(result.load_seconds, 3),
        "nodes": result.nodes,
        "n_variables": result.n_variables,
        "n_binaries": result.n_binaries,
        "n_constraints": result.n_constraints,
        "solver": result.solver,
        # In the project's terms, then as passed: the solver's own names and values.
        "solver_options": {"solver": options.solver, "time_limit_s": options.time_limit_s,
                           "mip_gap": options.mip_gap, "threads": options.threads,
                           "random_seed": RANDOM_SEED, "passed": result.solver_options,
                           "used": result.options_used},
        "solve_stages": result.stages,
        "currency": f"MUSD, constant {built.data.currency_year} US dollars, discounted to "
                    f"{built.data.start_year} at {built.data.discount_rate:g}",
        "inputs_sha256": loaded.sha256,
    })
    return summary
