"""Many solves at once, resumably: compare scenarios side by side, trace the budget frontier.

Each solve writes its own run folder under ``<sweep>/runs/`` atomically, so a folder with a
``summary.json`` is a finished solve: ``--resume`` skips those and solves only what is
missing; nothing finished is lost or solved twice. Work runs in a local process pool (spawn,
one solver thread per worker: HiGHS's threads gain little on these MIPs and its scheduler is
per process) or on an existing dask.distributed cluster. A solver that is not installed is
reported before any worker starts (``require_solvers``).

Whatever goes wrong with one scenario (or one budget scale) becomes its row, status
``invalid`` or ``error`` with the message, and the sweep goes on. Local workers end with
their parent: a killed sweep leaves no process behind, and Ctrl-C cancels what is pending,
ends the workers at once and keeps every finished run for ``--resume``
(``optimize.workers``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd

from optimize.data.checks import load_inputs, scenario_name
from optimize.data.modeldata import Decision, ModelData
from optimize.errors import InputError, SolverUnavailable
from optimize.model import build_model
from optimize.model.parameters import same_structure
from optimize.pipeline import ModelCache, options_for, run, solve_model
from optimize.results.safety import (
    COMPARE,
    FRONTIER,
    OutputRefused,
    claim,
    output_path,
    plain_name_problem,
    read_marker,
    tidy_leftovers,
    tidy_temp_files,
)
from optimize.results.write import write_csv, write_marker, write_run
from optimize.solve import SolveOptions
from optimize.solvers import SolverModel, require, solver_model
from optimize.workers import init_worker, stop_pool

SUMMARY = "summary.json"


@dataclass(frozen=True)
class Job:
    """One unit of work for a worker: ``fn(*args)`` returns a list of summaries."""

    key: str
    fn: Callable[..., list[dict[str, Any]]]
    args: tuple[Any, ...]


@dataclass
class Outcome:
    """What came back for a job: summaries, or the error that stopped it."""

    key: str
    summaries: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def finished(run_dir: Path) -> bool:
    """Return whether ``run_dir`` holds a finished solve."""
    return (run_dir / SUMMARY).is_file()


def read_summary(run_dir: Path) -> dict[str, Any]:
    """Return the summary of a finished run folder."""
    return dict(json.loads((run_dir / SUMMARY).read_text()))


# -- worker functions (top level, so that process pools and dask can ship them) ------------

_worker = threading.local()


def worker_cache() -> ModelCache:
    """Return this worker thread's model cache (one model kept between scenarios)."""
    if not hasattr(_worker, "cache"):
        _worker.cache = ModelCache()
    cache: ModelCache = _worker.cache
    return cache


def failure_row(kind: str, exc: Exception) -> dict[str, Any]:
    """Return the row of a failed solve: status ``invalid`` (bad input) or ``error``."""
    if isinstance(exc, InputError):
        return {"status": "invalid", "message": exc.report()}
    if isinstance(exc, SolverUnavailable):  # e.g. a dask worker without the solver's package
        return {"status": "invalid", "message": str(exc)}
    return {"status": "error", "message": f"{kind} failed: {type(exc).__name__}: {exc}"}


def solve_scenario(inputs: str, out: str, overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Solve one inputs folder or scenario into ``out``; any failure is a row, not a crash.

    Invalid input or a missing solver is status ``invalid``, anything else that goes wrong
    (building, solving, writing) status ``error``, each with its message; the exception
    never leaves the worker, so one that cannot be pickled cannot break the pool. After an
    ``error`` the worker drops its kept model and builds the next one afresh.
    """
    try:
        return [solve_and_write(inputs, out, overrides)]
    except Exception as exc:  # noqa: BLE001 - one scenario's failure is its row; others go on
        if not isinstance(exc, (InputError, SolverUnavailable)):
            worker_cache().model = None
        return [{"scenario": scenario_name(inputs), **failure_row("solve", exc)}]


def solve_and_write(inputs: str, out: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Solve one scenario, write its run folder into ``out``; return its summary.

    The worker keeps its last model: a scenario that differs from the previous one only in
    parameters (prices, offers, demand, penalties, budgets) updates it instead of rebuilding.
    A scenario with decisions is solved again without them, right after, and its summary
    says what the decisions cost (``decisions_cost``) before the run folder is written, so
    a finished run always carries both.
    """
    cache = worker_cache()
    forced = run(inputs, tag={"run_id": uuid.uuid4().hex}, cache=cache, **overrides)
    if forced.data.decisions:
        forced.summary.update(decisions_cost(inputs, forced.summary, cache, overrides))
    write_run(Path(out), forced.summary, forced.tables)
    return forced.summary


def decisions_cost(inputs: str, forced: dict[str, Any], cache: ModelCache,
                   overrides: dict[str, Any]) -> dict[str, Any]:
    """Solve the scenario without its decisions; return the summary fields of what they cost.

    ``decisions_cost_musd`` is the forced objective minus the unforced one (``None`` when
    either solve found no plan). A failed unforced solve is reported in ``unforced_status``
    and ``unforced_message``, and the forced run is kept.
    """
    try:
        unforced = run(inputs, cache=cache, ignore_decisions=True, **overrides).summary
    except Exception as exc:  # noqa: BLE001 - the forced run stands; the failure is reported
        unforced = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
    objective, base = forced.get("objective_musd"), unforced.get("objective_musd")
    return {
        "unforced_status": unforced["status"],
        "unforced_message": unforced.get("message") or "",
        "unforced_objective_musd": base,
        "unforced_funded": unforced.get("funded"),
        "decisions_cost_musd": None if objective is None or base is None else objective - base,
    }


def solve_frontier(inputs: str, scales: list[float], runs: str,
                   overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Solve ``max_coverage`` at each budget scale, building the model once for all of them.

    Any failure is a row of its scale (``budget_scale``, status ``invalid`` or ``error``,
    message), not a crash: inputs that do not load fail every scale; a scale that fails
    leaves the others to go on, on a model built afresh.
    """
    todo = [s for s in scales if not finished(Path(runs) / scale_key(s))]
    try:
        loaded = load_inputs(inputs)
        options = options_for(loaded.data, **{**overrides, "mode": "max_coverage"})
    except Exception as exc:  # noqa: BLE001 - reported per scale; other chunks go on
        return [{"budget_scale": s, **failure_row("loading the inputs", exc)} for s in todo]
    model: SolverModel | None = None
    build_seconds = 0.0
    summaries = []
    for scale in todo:
        try:
            if model is None:
                model, build_seconds = frontier_model(loaded.data, options)
            model.scale_budgets(scale)
            summaries.append(solve_model(loaded, model, build_seconds,
                                         out=Path(runs) / scale_key(scale),
                                         tag={"budget_scale": scale,
                                              "run_id": uuid.uuid4().hex}).summary)
        except Exception as exc:  # noqa: BLE001 - this scale's row; the next scales go on
            model = None
            summaries.append({"budget_scale": scale, **failure_row("solve", exc)})
    return summaries


def frontier_model(data: ModelData, options: SolveOptions) -> tuple[SolverModel, float]:
    """Return the frontier's model held for its solver, and the seconds the build took."""
    started = time.perf_counter()
    built = build_model(data)
    build_seconds = time.perf_counter() - started
    return solver_model(built, options), build_seconds


def scale_key(scale: float) -> str:
    """Return the run folder name of a budget scale, e.g. ``scale-0.30``."""
    return f"scale-{scale:.2f}"


# -- executing jobs ---------------------------------------------------------------------

class Progress:
    """A one-line progress bar on stderr: scenarios done, running and failed, and time left."""

    def __init__(self, total: int, label: str, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.total, self.label = total, label
        self.done = self.failed = self.running = 0
        self.tty = sys.stderr.isatty()
        self.clock = clock
        self.started = clock()

    def left(self) -> str:
        """Return the time left, estimated from the pace so far ("" before the first result)."""
        finished = self.done + self.failed
        if finished == 0 or finished >= self.total:
            return ""
        seconds = (self.clock() - self.started) / finished * (self.total - finished)
        return f", about {duration(seconds)} left"

    def show(self) -> None:
        """Print the current state (in place on a terminal, one line per change otherwise)."""
        width = 30
        filled = int(width * (self.done + self.failed) / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        line = (f"{self.label} [{bar}] {self.done}/{self.total} done, {self.running} running, "
                f"{self.failed} failed{self.left()}")
        # Clear to the end of the line: the estimate may be shorter than the one before it.
        print(("\r" + line + "\x1b[K") if self.tty else line, end="" if self.tty else "\n",
              file=sys.stderr, flush=True)

    def close(self) -> None:
        """End the progress line."""
        if self.tty:
            print(file=sys.stderr)


def duration(seconds: float) -> str:
    """Return a duration as a person says it: ``40 s``, ``3 min 20 s``, ``2 h 05 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def execute(jobs: list[Job], workers: int, scheduler: str | None,
            progress: Progress) -> list[Outcome]:
    """Run the jobs in a local process pool or on a dask cluster; failures become outcomes."""
    if not jobs:
        return []
    if scheduler:
        return _execute_dask(jobs, scheduler, progress)
    outcomes: list[Outcome] = []
    pool = ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))),
                               mp_context=get_context("spawn"), initializer=init_worker,
                               initargs=(os.getpid(),))
    try:
        futures = {pool.submit(job.fn, *job.args): job for job in jobs}
        _collect(futures, outcomes, progress, workers)
    except BaseException:  # Ctrl-C above all: cancel what is pending, end the workers now
        stop_pool(pool)
        raise
    pool.shutdown()
    return outcomes


def _execute_dask(jobs: list[Job], scheduler: str, progress: Progress) -> list[Outcome]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    outcomes: list[Outcome] = []
    with Client(scheduler, timeout="30s") as client:
        futures = {client.submit(job.fn, *job.args, key=f"{job.key}-{uuid.uuid4().hex}",
                                 pure=False): job for job in jobs}
        slots = sum(client.nthreads().values())
        try:
            _collect(futures, outcomes, progress, slots, completed=dask_completed)
        except BaseException:  # Ctrl-C: the cluster's workers are not ours; cancel our tasks
            client.cancel(list(futures))
            raise
    return outcomes


def _collect(futures: dict[Any, Job], outcomes: list[Outcome], progress: Progress,
             slots: int, completed: Callable[[Iterable[Any]], Iterable[Any]] = as_completed,
             ) -> None:
    progress.running = min(slots, len(futures))
    progress.show()
    for future in completed(list(futures)):
        job = futures[future]
        try:
            summaries = future.result()
            failed = [s for s in summaries if s.get("status") in ("invalid", "error")]
            outcomes.append(Outcome(job.key, summaries))
            progress.done += len(summaries) - len(failed) if summaries else 1
            progress.failed += len(failed)
        except BrokenProcessPool:
            outcomes.append(Outcome(job.key, error="a worker process died (killed, or out of "
                                                   "memory) before this finished"))
            progress.failed += 1
        except Exception as exc:  # noqa: BLE001 - a failed job is reported, others go on
            outcomes.append(Outcome(job.key, error=f"{type(exc).__name__}: {exc}"))
            progress.failed += 1
        left = len(futures) - len(outcomes)
        progress.running = min(slots, left)
        progress.show()
    progress.close()


def _prepare(folder: Path, resume: bool, kind: str) -> Path:
    """Mark a (checked and locked) sweep folder as ours and return its ``runs/``.

    Without ``resume`` earlier runs are removed; with it, the hidden folders that killed
    workers left in ``runs/`` are (a run they were replacing is put back). Temporary files
    of a killed table or report write go either way.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tidy_temp_files(folder, kind)
    if read_marker(folder) is None:
        write_marker(folder, kind, folder.name, files=[])
    runs = folder / "runs"
    if not resume and runs.exists():
        shutil.rmtree(runs)
    runs.mkdir(exist_ok=True)
    tidy_leftovers(runs)
    return runs


def execute_into(runs: Path, jobs: list[Job], workers: int, scheduler: str | None,
                 progress: Progress) -> list[Outcome]:
    """Run the jobs (``execute``); if interrupted, leave only finished run folders in ``runs``.

    With a local pool the workers are gone by then, so nothing writes any more: what they
    left half-written goes (a run folder they were replacing is put back). A dask
    cluster's workers may still be writing; their leftovers go at ``--resume``.
    """
    try:
        return execute(jobs, workers, scheduler, progress)
    except BaseException:
        if not scheduler:
            tidy_leftovers(runs)
        raise


def require_run_names(scenarios: list[str | Path], names: list[str]) -> None:
    """Raise OutputRefused if a scenario's name cannot name its run folder under ``runs/``."""
    for path, name in zip(scenarios, names, strict=True):
        problem = plain_name_problem(name)
        if problem is not None:
            raise OutputRefused(f"scenario {str(path)!r}: its name {name!r} cannot name a run "
                                f"folder ({problem}); rename the file or folder")


def _write_report(folder: Path) -> None:
    from optimize.report.html import write_report

    write_report(folder)


# -- compare ------------------------------------------------------------------------------

@dataclass
class SweepResult:
    """A finished (or partly finished) sweep: its folder, its table, what failed."""

    folder: Path
    table: pd.DataFrame
    failures: dict[str, str]


def compare(scenarios: list[str | Path], out: Path, workers: int = 2,
            scheduler: str | None = None, resume: bool = False,
            overrides: dict[str, Any] | None = None, report: bool = False) -> SweepResult:
    """Solve each scenario and write ``comparison.csv`` side by side into ``out``.

    A scenario with decisions is also solved without them; its column then has the rows
    ``decisions``, ``unforced_objective_musd`` and ``decisions_cost_musd`` (what forcing
    costs: its objective minus the unforced one). ``report`` also writes ``report.html``.
    ``out`` must be new, empty or a compare folder ree-plan wrote, away from the scenarios;
    it is locked while the sweep runs (``optimize.results.safety``).
    """
    names = [scenario_name(s) for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"two scenarios share the name {', '.join(dupes)}; rename one")
    require_run_names(scenarios, names)
    target = output_path(out, scenarios, kinds=(COMPARE,))
    require_solvers(scenarios, overrides or {})
    with claim(target, (COMPARE,)):
        runs = _prepare(target, resume, COMPARE)
        overrides = {"threads": 1, **(overrides or {})}
        todo = [(name, path) for name, path in zip(names, scenarios, strict=True)
                if not finished(runs / name)]
        jobs = [Job(name, solve_scenario, (str(path), str(runs / name), overrides))
                for name, path in same_structure_together(todo)]
        progress = Progress(len(jobs), "compare")
        outcomes = execute_into(runs, jobs, workers, scheduler, progress)
        failures = _failures(outcomes)
        summaries = {n: read_summary(runs / n) for n in names if finished(runs / n)}
        table = comparison_table(names, summaries, failures)
        write_csv(table, target / "comparison.csv")
        if report:
            _write_report(target)
    return SweepResult(out, table, failures)


def require_solvers(scenarios: list[str | Path], overrides: dict[str, Any]) -> None:
    """Raise SolverUnavailable now, before any worker starts, if a solver cannot run here.

    The solver is the overrides' (``--solver``), else each scenario's settings.toml; a
    scenario that does not load is left to its worker, which reports it.
    """
    names = {overrides["solver"]} if overrides.get("solver") else set()
    if not names:
        for path in scenarios:
            with contextlib.suppress(Exception):  # whatever stops it, its worker reports it
                names.add(load_inputs(path).data.solver)
    for name in sorted(names):
        require(name)


Named = tuple[str, str | Path]


def same_structure_together(scenarios: list[Named]) -> list[Named]:
    """Return the scenarios reordered so that those differing only in parameters are adjacent.

    Workers take jobs in order and keep their last model, so neighbours that share a
    structure update it instead of rebuilding. Reading and validating a scenario takes a
    few ms at the baseline's size; one that does not load, for whatever reason, is left
    where it is, for its worker to report as a row of the comparison.
    """
    groups: list[tuple[ModelData | None, list[Named]]] = []
    for name, path in scenarios:
        try:
            data: ModelData | None = load_inputs(path).data
        except Exception:  # noqa: BLE001 - whatever stops it, its worker reports it
            data = None
        for key, members in groups:
            if data is not None and key is not None and same_structure(key, data):
                members.append((name, path))
                break
        else:
            groups.append((data, [(name, path)]))
    return [member for _, members in groups for member in members]


def _failures(outcomes: list[Outcome]) -> dict[str, str]:
    """Return what failed, by scenario (a compare job) or by budget scale (``scale-0.30``)."""
    failures = {o.key: o.error for o in outcomes if o.error}
    for o in outcomes:
        for s in o.summaries:
            if s.get("status") in ("invalid", "error"):
                key = scale_key(s["budget_scale"]) if "budget_scale" in s else o.key
                failures[key] = s.get("message", s["status"])
    return {k: v for k, v in failures.items() if v is not None}


def comparison_table(names: list[str], summaries: dict[str, dict[str, Any]],
                     failures: dict[str, str]) -> pd.DataFrame:
    """Return metric rows x scenario columns: the side-by-side comparison."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def put(metric: str, item: str, name: str, value: Any) -> None:
        rows.setdefault((metric, item), {})[name] = value

    for name in names:
        s = summaries.get(name)
        if s is None:
            put("status", "", name, "failed" if name in failures else "missing")
            put("message", "", name, failures.get(name, "no run folder: run again with "
                                                        "--resume"))
            continue
        put("status", "", name, s["status"])
        if s.get("message") and s["status"] not in ("optimal", "feasible"):
            put("message", "", name, s["message"])
        for metric in ("subsidy_npv_musd", "penalty_npv_musd", "objective_musd", "mip_gap"):
            put(metric, "", name, s.get(metric))
        if s.get("decisions"):
            put("decisions", "", name, "; ".join(str(Decision.from_given(d))
                                                 for d in s["decisions"]))
            put("unforced_objective_musd", "", name, s.get("unforced_objective_musd"))
            put("decisions_cost_musd", "", name, decisions_cost_cell(s))
        for program, short in (s.get("shortfall_t") or {}).items():
            put("shortfall_t", program, name, short)
        for program, years in (s.get("coverage") or {}).items():
            shares = [v for v in years.values() if v is not None]
            put("mean_coverage", program, name, sum(shares) / len(shares) if shares else None)
        for program, year in (s.get("first_full_coverage_year") or {}).items():
            put("first_full_coverage_year", program, name, year)
        for f in s.get("funded") or []:
            put("fid_year", f["facility"], name, f["fid_year"])
        for program, musd in (s.get("paid_by_funding_program_musd") or {}).items():
            put("paid_musd", program, name, musd)
    order = ["status", "message", "subsidy_npv_musd", "penalty_npv_musd", "objective_musd",
             "decisions", "unforced_objective_musd", "decisions_cost_musd", "mip_gap",
             "shortfall_t", "mean_coverage", "first_full_coverage_year", "fid_year", "paid_musd"]
    keys = sorted(rows, key=lambda k: (order.index(k[0]), k[1]))
    return pd.DataFrame([{"metric": m, "item": i, **{n: rows[(m, i)].get(n) for n in names}}
                         for m, i in keys])


def decisions_cost_cell(summary: dict[str, Any]) -> float | str | None:
    """Return the comparison's ``decisions_cost_musd`` cell: the cost, or why there is none."""
    if summary.get("decisions_cost_musd") is not None:
        return float(summary["decisions_cost_musd"])
    status = summary.get("unforced_status")
    if status is None:
        return "no solve without its decisions recorded"
    if summary.get("unforced_objective_musd") is None:
        message = summary.get("unforced_message") or ""
        return f"unforced solve {status}" + (f": {message}" if message else "")
    return None  # the forced solve found no plan; the status row says why


# -- frontier -----------------------------------------------------------------------------

#: At most so many budget scales in a frontier, each at most MAX_SCALE times the budgets.
MAX_SCALES = 1000
MAX_SCALE = 1e6


def parse_scales(text: str) -> list[float]:
    """Return the scales of ``START:STOP:STEP`` (STOP included), e.g. ``0:2:0.1``.

    Refuses (ValueError) what is not three finite numbers with 0 <= START <= STOP <=
    MAX_SCALE and STEP > 0, more than MAX_SCALES scales, and scales so close that two share
    a run folder name (``scale_key``).
    """
    parts = text.split(":")
    try:
        start, stop, step = (float(x) for x in parts)
    except ValueError as exc:
        raise ValueError(f"--budget-scale must be START:STOP:STEP, got {text!r}") from exc
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise ValueError(f"--budget-scale {text!r}: START, STOP and STEP must be finite numbers")
    if step <= 0 or stop < start or start < 0:
        raise ValueError(f"--budget-scale {text!r}: need 0 <= START <= STOP and STEP > 0")
    if stop > MAX_SCALE:
        raise ValueError(f"--budget-scale {text!r}: STOP must be at most {MAX_SCALE:g} (a "
                         "budget scaled further is unlimited in effect)")
    steps = (stop - start) / step
    if not steps < MAX_SCALES - 0.5:
        raise ValueError(f"--budget-scale {text!r} gives {steps + 1:,.3g} scales; at most "
                         f"{MAX_SCALES:,} (take a larger STEP)")
    scales = [round(start + i * step, 10) for i in range(int(round(steps)) + 1)]
    if len({scale_key(s) for s in scales}) < len(scales):
        raise ValueError(f"--budget-scale {text!r}: scales closer than 0.01 would share a run "
                         f"folder ({scale_key(scales[0])}, ...); take a STEP of at least 0.01")
    return scales


def frontier(inputs: str | Path, scales: list[float], out: Path, workers: int = 2,
             scheduler: str | None = None, resume: bool = False,
             overrides: dict[str, Any] | None = None, report: bool = False) -> SweepResult:
    """Trace coverage against budget: ``max_coverage`` at each scale of every budget.

    ``out`` is checked and locked as in ``compare``; ``report`` also writes ``report.html``.
    """
    target = output_path(out, [inputs], kinds=(FRONTIER,))
    loaded = load_inputs(inputs)  # validate once, up front
    if loaded.data.funding is None:
        raise ValueError(f"{inputs} has no funding.csv: budgets are unlimited, so there is "
                         "no frontier to trace")
    require((overrides or {}).get("solver") or loaded.data.solver)
    with claim(target, (FRONTIER,)):
        runs = _prepare(target, resume, FRONTIER)
        overrides = {"threads": 1, **(overrides or {})}
        todo = [s for s in scales if not finished(runs / scale_key(s))]
        # Interleaved chunks balance the work; a few chunks per worker keep the progress bar
        # moving while each chunk still builds its model only once.
        n_chunks = min(len(todo), max(1, workers) * 3)
        chunks = [todo[i::n_chunks] for i in range(n_chunks)]
        jobs = [Job(f"chunk-{i}", solve_frontier, (str(inputs), chunk, str(runs), overrides))
                for i, chunk in enumerate(chunks) if chunk]
        progress = Progress(len(todo), "frontier")
        outcomes = execute_into(runs, jobs, workers, scheduler, progress)
        failures = _failures(outcomes)
        summaries = {s: read_summary(runs / scale_key(s)) for s in scales
                     if finished(runs / scale_key(s))}
        table = frontier_table(summaries, runs)
        write_csv(table, target / "frontier.csv")
        write_csv(entry_order(summaries), target / "entry_order.csv", float_format=None)
        if report:
            _write_report(target)
    return SweepResult(out, table, failures)


def frontier_table(summaries: dict[float, dict[str, Any]], runs: Path) -> pd.DataFrame:
    """Return one row per budget scale: subsidy, penalty, coverage overall and per program.

    ``coverage`` is the share of the penalty-weighted, discounted demand that is met: what
    ``max_coverage`` maximises, so it never falls as budgets grow.
    """
    rows = []
    for scale, s in sorted(summaries.items()):
        row: dict[str, Any] = {"budget_scale": scale, "status": s["status"],
                               "subsidy_npv_musd": s.get("subsidy_npv_musd"),
                               "penalty_npv_musd": s.get("penalty_npv_musd")}
        if s.get("shortfall_t") is not None:
            deliveries = pd.read_csv(runs / scale_key(scale) / "deliveries.csv")
            row["coverage"] = weighted_coverage(s)
            row["shortfall_t"] = float(deliveries.shortfall_t.sum())
            by_program = deliveries.groupby("program")[["delivered_t", "demand_t"]].sum()
            for program, r in by_program.iterrows():
                row[f"coverage_{program}"] = r.delivered_t / r.demand_t if r.demand_t else None
        rows.append(row)
    return pd.DataFrame(rows)


def weighted_coverage(summary: dict[str, Any]) -> float:
    """Return 1 - penalty NPV / penalty NPV of delivering nothing (1 with no demand)."""
    nothing = summary.get("penalty_npv_if_none_musd") or 0.0
    return 1.0 - summary["penalty_npv_musd"] / nothing if nothing > 0 else 1.0


def entry_order(summaries: dict[float, dict[str, Any]]) -> pd.DataFrame:
    """Return each funded facility with the smallest budget scale at which it is funded."""
    first: dict[str, tuple[float, int]] = {}
    for scale, s in sorted(summaries.items()):
        for f in s.get("funded") or []:
            first.setdefault(f["facility"], (scale, f["fid_year"]))
    rows = sorted(((f, sc, fid) for f, (sc, fid) in first.items()), key=lambda r: (r[1], r[2]))
    return pd.DataFrame(rows, columns=["facility", "first_budget_scale", "fid_year"])
