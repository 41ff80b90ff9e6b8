"""Solve with any MIP solver Pyomo knows: SCIP, CBC, Gurobi, CPLEX; HiGHS stays in ``solve``.

``solver_model(m, options)`` returns the model held for ``options.solver``: ``HighsModel``
(``optimize.solve``, the fast array hand-off) for ``highs``, a ``PyomoSolverModel`` for the
others. Both have the same interface (``SolverModel``): ``solve()`` never raises on a solver
outcome, loads the plan into the model's variables (so ``optimize.results`` reads it the same
way), and runs ``max_coverage`` in the same two stages.

Each solver goes through the Pyomo interface measured to work offline here (Pyomo 6.10):

| name | Pyomo interface | package (extra) |
|---|---|---|
| scip | ``scip_direct`` (the legacy ``scip`` wants an executable) | pyscipopt (``[scip]``) |
| cbc | ``cbc``, the program shipped in pulp, else ``cbc`` on PATH | pulp (``[cbc]``) |
| gurobi | ``gurobi_direct`` (built-in licence: 2,000 rows/columns) | gurobipy (``[gurobi]``) |
| cplex | ``cplex_direct`` (Community Edition: 1,000 rows/columns) | cplex (``[cplex]``) |

The options are set in the project's terms (time limit, relative gap, threads, a fixed random
seed) and mapped to each solver's names (``options_for_scip`` ...); the names and values
passed go into ``SolveResult.solver_options`` and summary.json. As with HiGHS, an infeasible
is re-checked with the solver's presolve off (``Backend.presolve_off``) before it is reported.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol

from pyomo.common.log import LoggingIntercept
from pyomo.environ import (
    ConcreteModel,
    Constraint,
    Objective,
    SolverFactory,
    TerminationCondition,
    Var,
    minimize,
    value,
)

from optimize.data.modeldata import ModelData
from optimize.data.registry import SOLVERS
from optimize.errors import SolverUnavailable
from optimize.model.parameters import set_parameters
from optimize.solve import (
    COVERAGE_TOLERANCE,
    RANDOM_SEED,
    HighsModel,
    SolveOptions,
    SolveResult,
    Status,
    infeasible_message,
    plan_duals,
    recheck_message,
    recheck_seconds,
)

#: A binary further than this from 0 or 1 means the solver returned a relaxation, not a plan
#: (solvers accept up to 1e-5: Gurobi's IntFeasTol).
PLAN_INTEGRALITY = 1e-4
#: A bound this large (CBC writes 1e50 for "no solution") is no bound.
NO_BOUND = 1e20

TC = TerminationCondition
OPTIMAL = {TC.optimal, TC.globallyOptimal, TC.locallyOptimal}
#: Stopped by a limit: a plan if the solver has an incumbent, none otherwise.
STOPPED = {TC.maxTimeLimit, TC.maxIterations, TC.maxEvaluations, TC.minFunctionValue,
           TC.minStepLength, TC.userInterrupt, TC.resourceInterrupt, TC.feasible,
           TC.intermediateNonInteger}


class SolverModel(Protocol):
    """A built model held for one solver, to solve once or re-solve after parameter changes."""

    m: ConcreteModel
    options: SolveOptions
    transfer_seconds: float

    def solve(self) -> SolveResult:
        """Solve in the options' mode and load the solution into the model's variables."""

    def update(self, data: ModelData) -> float:
        """Take ``data``'s parameters in place; return the seconds taken."""

    def scale_budgets(self, scale: float) -> None:
        """Set every annual and total budget to ``scale`` times its input value."""

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the model (LP or MPS, by the file's suffix), with names."""

    def plan_duals(self) -> dict[Any, float] | None:
        """Return each row's dual in the LP of the last plan (binaries fixed), or None."""

    def expression_values(self) -> dict[tuple[str, Any], float] | None:
        """Return the reported Expressions' values at the last plan, if at hand, or None."""


# -- each solver's option names -----------------------------------------------------------

def options_for_scip(o: SolveOptions) -> dict[str, Any]:
    """Return SCIP's parameters.

    SCIP's branch and bound runs on one thread; ``lp/threads`` (what Pyomo maps threads
    to) is its LP solver's.
    """
    return {"limits/time": float(o.time_limit_s), "limits/gap": float(o.mip_gap),
            "lp/threads": int(o.threads), "randomization/randomseedshift": RANDOM_SEED}


def options_for_cbc(o: SolveOptions) -> dict[str, Any]:
    """Return CBC's command-line options.

    ``timeMode elapsed``: wall-clock seconds, as the other solvers (CBC counts CPU time by
    default). ``threads`` 100+n runs n threads with a repeatable search. ``randomCbcSeed``
    stays at its fixed default -1: CBC's 0 means "seed from the clock".
    """
    threads = int(o.threads)
    return {"seconds": float(o.time_limit_s), "timeMode": "elapsed",
            "ratioGap": float(o.mip_gap), "threads": threads if threads <= 1 else 100 + threads,
            "randomCbcSeed": -1}


def options_for_gurobi(o: SolveOptions) -> dict[str, Any]:
    """Return Gurobi's parameters."""
    return {"TimeLimit": float(o.time_limit_s), "MIPGap": float(o.mip_gap),
            "Threads": int(o.threads), "Seed": RANDOM_SEED}


def options_for_cplex(o: SolveOptions) -> dict[str, Any]:
    """Return CPLEX's parameters, as Pyomo names them (``_`` for CPLEX's ``.``)."""
    return {"timelimit": float(o.time_limit_s), "mip_tolerances_mipgap": float(o.mip_gap),
            "threads": int(o.threads), "randomseed": RANDOM_SEED}


# -- node counts and versions, where the interface keeps them -----------------------------

def scip_nodes(solver: Any, results: Any) -> int:
    """Return the nodes SCIP explored."""
    return int(solver._solver_model.getNNodes())


def cbc_nodes(solver: Any, results: Any) -> int:
    """Return the nodes CBC explored, from its log as Pyomo parsed it."""
    return int(results.solver.statistics.branch_and_bound.number_of_created_subproblems)


def gurobi_nodes(solver: Any, results: Any) -> int:
    """Return the nodes Gurobi explored."""
    return int(solver._solver_model.NodeCount)


def cplex_nodes(solver: Any, results: Any) -> int:
    """Return the nodes CPLEX explored."""
    return int(solver._solver_model.solution.progress.get_num_nodes_processed())


def scip_version(solver: Any) -> str:
    """Return SCIP's version (Pyomo's ``version()`` is pyscipopt's, not SCIP's)."""
    import pyscipopt

    s = pyscipopt.Model()
    return f"{s.getMajorVersion()}.{s.getMinorVersion()}.{s.getTechVersion()}"


def pyomo_version(solver: Any) -> str:
    """Return the version Pyomo reports, e.g. ``13.0.3``."""
    return ".".join(str(part) for part in solver.version()[:3])


def gurobi_refuses_size(exc: Exception) -> bool:
    """Return whether ``exc`` is Gurobi's size-limited licence refusing the model."""
    return getattr(exc, "errno", None) == 10010


def cplex_refuses_size(exc: Exception) -> bool:
    """Return whether ``exc`` is CPLEX Community Edition refusing the model (error 1016)."""
    return len(exc.args) >= 3 and exc.args[2] == 1016


def never(exc: Exception) -> bool:
    """Return False: this solver has no size-limited licence."""
    return False


# -- the solvers --------------------------------------------------------------------------

def import_package(b: Backend) -> dict[str, Any]:
    """Import the backend's package; raise SolverUnavailable, saying what to install, if absent."""
    try:
        importlib.import_module(b.package)
    except ImportError as exc:
        raise SolverUnavailable(f"solver {b.name!r} needs the {b.package} package: "
                                f"{b.install_hint()}") from exc
    return {}


def cbc_program(b: Backend) -> dict[str, Any]:
    """Return the CBC program for SolverFactory (pulp is not needed if cbc is on PATH)."""
    return {"executable": cbc_executable()}


def cbc_executable() -> str:
    """Return the CBC program: pulp's own, else ``cbc`` on PATH; raise if there is neither."""
    with contextlib.suppress(ImportError, AttributeError):
        pulp = importlib.import_module("pulp")
        path = os.path.realpath(pulp.apis.coin_api.pulp_cbc_path)
        if os.access(path, os.X_OK):
            return path
    on_path = shutil.which("cbc")
    if on_path is None:
        raise SolverUnavailable("solver 'cbc' needs the CBC program: pip install "
                                "'ree-plan[cbc]' (pulp ships one), or put a cbc on PATH")
    return on_path


@dataclass(frozen=True)
class Backend:
    """How ree-plan runs one solver through Pyomo."""

    name: str  #: ree-plan's name, as in settings.toml and ``--solver``
    label: str  #: the solver's own name, for messages and summary.json
    pyomo_name: str  #: the name in Pyomo's SolverFactory
    package: str  #: the Python package it needs
    options: Callable[[SolveOptions], dict[str, Any]]
    nodes: Callable[[Any, Any], int]
    version: Callable[[Any], str]
    #: The options that turn presolve off: an infeasible is re-checked with them.
    presolve_off: tuple[tuple[str, Any], ...] = ()
    licence_refuses: Callable[[Exception], bool] = never
    #: Check what the solver needs; return further arguments for SolverFactory.
    prepare: Callable[[Backend], dict[str, Any]] = import_package

    def install_hint(self) -> str:
        """Return what to install for this solver."""
        return f"pip install 'ree-plan[{self.name}]'"

    def open(self) -> Any:
        """Return Pyomo's solver object; raise SolverUnavailable if it cannot run here."""
        solver = SolverFactory(self.pyomo_name, **self.prepare(self))
        with quiet_output():
            available = solver.available(exception_flag=False)
        if not available:
            raise SolverUnavailable(f"solver {self.name!r}: Pyomo cannot run {self.label} "
                                    f"({self.pyomo_name}) here; {self.install_hint()}")
        return solver


BACKENDS = {
    "scip": Backend("scip", "SCIP", "scip_direct", "pyscipopt", options_for_scip, scip_nodes,
                    scip_version, presolve_off=(("presolving/maxrounds", 0),)),
    "cbc": Backend("cbc", "CBC", "cbc", "pulp", options_for_cbc, cbc_nodes, pyomo_version,
                   presolve_off=(("presolve", "off"),), prepare=cbc_program),
    "gurobi": Backend("gurobi", "Gurobi", "gurobi_direct", "gurobipy", options_for_gurobi,
                      gurobi_nodes, pyomo_version, presolve_off=(("Presolve", 0),),
                      licence_refuses=gurobi_refuses_size),
    "cplex": Backend("cplex", "CPLEX", "cplex_direct", "cplex", options_for_cplex, cplex_nodes,
                     pyomo_version, presolve_off=(("preprocessing_presolve", 0),),
                     licence_refuses=cplex_refuses_size),
}
assert set(BACKENDS) | {"highs"} == set(SOLVERS)


def backend(name: str) -> Backend:
    """Return the backend of a solver other than HiGHS; raise SolverUnavailable if unknown."""
    if name not in BACKENDS:
        raise SolverUnavailable(f"unknown solver {name!r}: choose one of {', '.join(SOLVERS)}")
    return BACKENDS[name]


def require(name: str) -> None:
    """Raise SolverUnavailable, saying what to install, unless solver ``name`` can run here."""
    if name != "highs":
        backend(name).open()


def solver_model(m: ConcreteModel, options: SolveOptions) -> SolverModel:
    """Return ``m`` held for ``options.solver``; raise SolverUnavailable if it cannot run."""
    if options.solver == "highs":
        return HighsModel(m, options)
    return PyomoSolverModel(m, options)


# -- the model held for a Pyomo solver ----------------------------------------------------

@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """Silence the solver's own printing (stdout and stderr, at the C level), for the duration.

    Solvers print banners and licence notes (CPLEX: "Using size restricted mode"); what a
    run needs from them comes back as its status and message.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        for fd, copy in ((1, saved[0]), (2, saved[1])):
            os.dup2(copy, fd)
            os.close(copy)


@dataclass
class Stage:
    """One solver call: its status, message and timings."""

    status: Status
    message: str
    solver_seconds: float
    transfer_seconds: float
    results: Any = None
    objective: float | None = None  #: the stage's objective at its plan


class PyomoSolverModel:
    """A built model solved by SCIP, CBC, Gurobi or CPLEX through Pyomo.

    Pyomo's direct and file interfaces hand the whole model to the solver at every solve,
    so ``update`` and ``scale_budgets`` only set the mutable Params. ``transfer_seconds``
    is the time the last solve spent outside the solver (handing the model over and reading
    the plan back, summed over its stages; before any solve, opening the solver).
    """

    def __init__(self, m: ConcreteModel, options: SolveOptions) -> None:
        started = time.perf_counter()
        self.m, self.options = m, options
        self.backend = backend(options.solver)
        self.solver = self.backend.open()
        self.solver_options = {**self.backend.options(options), **dict(options.own_options)}
        self.version = f"{self.backend.label} {self.backend.version(self.solver)}"
        self.transfer_seconds = time.perf_counter() - started
        self.solved = False  # whether the variables hold a plan of this model

    def update(self, data: ModelData) -> float:
        """Take ``data``'s parameters in place (prices, offers, demand, penalties, budgets).

        ``data`` must build the same model up to parameter values; otherwise this raises
        StructureChanged and changes nothing. Returns the seconds taken.
        """
        started = time.perf_counter()
        set_parameters(self.m, data)
        return time.perf_counter() - started

    def scale_budgets(self, scale: float) -> None:
        """Set every annual and total budget to ``scale`` times its input value."""
        self.m.budget_scale.set_value(scale)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the model with Pyomo's writer (LP or MPS, by the file's suffix), with names.

        The objective is the full one, subsidy + penalty + funding tie-break.
        """
        self.m.write(str(path), io_options={"symbolic_solver_labels": True})

    def expression_values(self) -> None:
        """Return None: the result tables evaluate the Expressions from the variables."""
        return None

    def plan_duals(self) -> dict[Any, float] | None:
        """Return each row's dual in the LP of the last plan (binaries fixed), by constraint.

        HiGHS solves that LP (``optimize.solve.plan_duals``), whichever solver found the plan.
        """
        return plan_duals(self.m) if self.solved else None

    def solve(self) -> SolveResult:
        """Solve in the options' mode and load the solution into the model's variables."""
        m = self.m
        self.solved = False
        variables = free_variables(m)
        result = SolveResult(
            status=Status.ERROR, n_variables=len(variables),
            n_binaries=sum(1 for v in variables if v.is_integer()),
            n_constraints=count_constraints(m), solver=self.version,
            solver_options=dict(self.solver_options),
            options_used=dict(self.solver_options),
        )
        last = self._stages(result, variables)
        if last.status.has_solution:
            result.mip_gap = relative_gap(last.results, last.status)
            result.nodes = self._nodes(last.results)
            result.solver_objective = last.objective
            objective = float(value(m.subsidy + m.penalty))
            result.objective_musd = 0.0 if abs(objective) < 1e-9 else objective
            self.solved = True
        self.transfer_seconds = result.transfer_seconds
        return result

    def _stages(self, result: SolveResult, variables: list[Any]) -> Stage:
        """Run the options' mode, one stage or two; return the last stage run.

        ``max_coverage`` first minimises the shortfall penalty, then holds it at its optimum
        (plus COVERAGE_TOLERANCE) and minimises the subsidy and the funding tie-break.
        """
        m = self.m
        if self.options.mode != "max_coverage":
            return self._stage("min_subsidy", result, variables)
        with stage_objective(m, m.penalty):
            first = self._stage("min_shortfall", result, variables)
        if not first.status.has_solution:
            return first
        best = float(value(m.penalty))
        with stage_objective(m, m.subsidy + m.tiebreak), \
                penalty_cap(m, best + COVERAGE_TOLERANCE * max(1.0, abs(best))):
            return self._stage("min_subsidy", result, variables)

    def _stage(self, name: str, result: SolveResult, variables: list[Any]) -> Stage:
        """Solve with the active objective, load any plan, and record the stage in ``result``.

        An infeasible is re-checked before it is reported (``_recheck``).
        """
        stage = self._attempt(self.solver_options, variables)
        record_stage(result, {"stage": name}, stage)
        if stage.status is Status.INFEASIBLE:
            stage = self._recheck(name, result, variables, stage)
        result.status, result.message = stage.status, stage.message
        return stage

    def _recheck(self, name: str, result: SolveResult, variables: list[Any],
                 first: Stage) -> Stage:
        """Solve again with presolve off after the solver said infeasible; return that stage.

        As ``HighsModel._recheck``: presolve can decide infeasible on tiny coefficients
        (SCIP does on the example with every capacity times 1e-7). The re-check gets what is
        left of the time limit and the backend's ``presolve_off`` options, for this call
        only; it is recorded as a stage of its own, and infeasible is reported only if it
        agrees.
        """
        spent = first.solver_seconds + first.transfer_seconds
        limit = replace(self.options, time_limit_s=recheck_seconds(self.options.time_limit_s,
                                                                   spent))
        options = {**self.backend.options(limit), **dict(self.backend.presolve_off)}
        stage = self._attempt(options, variables)
        record_stage(result, {"stage": name, "recheck": "presolve off",
                              "why": f"{self.backend.label} with presolve said: "
                                     f"{first.message}"}, stage)
        if stage.status is Status.INFEASIBLE:
            stage.message = infeasible_message(self.m)
        else:
            stage.message = recheck_message(stage.status, stage.message)
        return stage

    def _attempt(self, options: dict[str, Any], variables: list[Any]) -> Stage:
        """Run the solver once with ``options`` and load any plan into the variables."""
        stage = self._call(options)
        if stage.status.has_solution:
            if load_plan(self.m, stage.results, variables):
                stage.objective = float(value(active_objective(self.m)))
            else:
                stage.status, stage.message = (
                    Status.TIME_LIMIT if stage.status is Status.FEASIBLE else Status.ERROR,
                    f"{self.backend.label} returned a point with fractional binaries, "
                    "not a plan")
        return stage

    def _call(self, options: dict[str, Any]) -> Stage:
        """Run the solver once; a failure of the solver is a status, not an exception."""
        started = time.perf_counter()
        try:
            with quiet_output():
                results = self.solver.solve(self.m, load_solutions=False,
                                            options=dict(options))
        except Exception as exc:  # noqa: BLE001 - any solver failure is reported, not raised
            seconds = time.perf_counter() - started
            return Stage(Status.ERROR, self._failure(exc), seconds, 0.0)
        wall = time.perf_counter() - started
        status, message = status_of(results, self.backend.label)
        inside = min(solver_seconds(results, wall), wall)
        return Stage(status, message, inside, wall - inside, results)

    def _failure(self, exc: Exception) -> str:
        """Return the message of a solver call that raised ``exc``."""
        label = self.backend.label
        detail = " ".join(str(exc).split())
        if self.backend.licence_refuses(exc):
            return (f"{label}'s licence refuses a model of this size ({detail}); use a full "
                    "licence or another solver (--solver)")
        own = ", ".join(f"{k} = {v!r}" for k, v in self.options.own_options)
        said = f" (its own options from [solver.{self.backend.name}]: {own})" if own else ""
        return f"{label} failed: {type(exc).__name__}: {detail}{said}"

    def _nodes(self, results: Any) -> int:
        """Return the nodes of the last solve, or 0 where the interface does not keep them."""
        try:
            return max(self.backend.nodes(self.solver, results), 0)
        except (AttributeError, TypeError, ValueError):
            return 0


def record_stage(result: SolveResult, entry: dict[str, Any], stage: Stage) -> None:
    """Add a solver call to ``result``: its stage entry (with status and seconds), its times."""
    result.stages.append({**entry, "status": str(stage.status),
                          "seconds": stage.solver_seconds})
    result.solve_seconds += stage.solver_seconds
    result.transfer_seconds += stage.transfer_seconds


def free_variables(m: ConcreteModel) -> list[Any]:
    """Return the model's variables that are not fixed (those a plan gives values)."""
    return [v for v in m.component_data_objects(Var, active=True, descend_into=True)
            if not v.fixed]


def count_constraints(m: ConcreteModel) -> int:
    """Return the number of the model's active constraints."""
    return sum(1 for _ in m.component_data_objects(Constraint, active=True, descend_into=True))


def active_objective(m: ConcreteModel) -> Any:
    """Return the model's one active objective."""
    (objective,) = m.component_data_objects(Objective, active=True, descend_into=True)
    return objective


@contextlib.contextmanager
def stage_objective(m: ConcreteModel, expr: Any) -> Iterator[None]:
    """Minimise ``expr`` instead of the model's objective, for the duration."""
    m.objective.deactivate()
    m.stage_objective = Objective(expr=expr, sense=minimize)
    try:
        yield
    finally:
        m.del_component(m.stage_objective)
        m.objective.activate()


@contextlib.contextmanager
def penalty_cap(m: ConcreteModel, cap: float) -> Iterator[None]:
    """Hold the shortfall penalty at most ``cap``, for the duration (max_coverage stage 2)."""
    m.penalty_cap = Constraint(expr=m.penalty <= cap)
    try:
        yield
    finally:
        m.del_component(m.penalty_cap)


def incumbent(results: Any) -> bool:
    """Return whether the solver reports a plan: a solution with a finite objective."""
    upper = results.problem.upper_bound
    return (len(results.solution) > 0 and isinstance(upper, (int, float))
            and math.isfinite(upper) and abs(upper) < NO_BOUND)


def status_of(results: Any, label: str) -> tuple[Status, str]:
    """Return the Status of Pyomo's results, and a message unless optimal."""
    tc = results.solver.termination_condition
    found = incumbent(results)
    if tc in OPTIMAL:
        if found:
            return Status.OPTIMAL, ""
        return Status.ERROR, f"{label} reported optimal but returned no plan"
    if tc == TC.infeasible:
        return Status.INFEASIBLE, "the model is infeasible"
    if tc == TC.infeasibleOrUnbounded:
        # The objective is bounded below (costs and penalties are non-negative; salvage is
        # at most the capex funded), so this is infeasible.
        return Status.INFEASIBLE, f"the model is infeasible ({label}: infeasible or unbounded)"
    if tc in STOPPED:
        if found:
            return Status.FEASIBLE, f"stopped ({tc}) with a plan"
        return Status.TIME_LIMIT, f"stopped ({tc}) with no plan"
    said = (results.solver.message, results.solver.termination_message)
    detail = next((s for s in said if isinstance(s, str) and s), "")  # unset: UndefinedData
    return Status.ERROR, f"{label} ended with '{tc}'" + (f": {detail}" if detail else "")


def relative_gap(results: Any, status: Status) -> float | None:
    """Return |incumbent - bound| / |incumbent| (0 when optimal and the bounds are unknown)."""
    lower, upper = results.problem.lower_bound, results.problem.upper_bound
    known = all(isinstance(b, (int, float)) and math.isfinite(b) and abs(b) < NO_BOUND
                for b in (lower, upper))
    if not known:
        return 0.0 if status is Status.OPTIMAL else None
    return max(0.0, upper - lower) / max(abs(upper), 1e-9)


def solver_seconds(results: Any, wall: float) -> float:
    """Return the seconds the solver itself reports (SCIP's solving time, else wall clock)."""
    timing = getattr(results, "timing_info", None)
    if isinstance(timing, dict) and isinstance(timing.get("scip_time"), (int, float)):
        return float(timing["scip_time"])
    reported = results.solver.wallclock_time
    if isinstance(reported, (int, float)) and reported >= 0:
        return float(reported)
    return wall


def load_plan(m: ConcreteModel, results: Any, variables: list[Any]) -> bool:
    """Load the solution into ``m``'s variables; return False if its binaries are fractional.

    A variable the solver did not get (it appears in no constraint) is 0, as in
    ``HighsModel``; binaries are rounded once they are within ``PLAN_INTEGRALITY``.
    """
    for v in variables:
        v.set_value(None, skip_validation=True)
    # Pyomo warns when it loads the plan of a solve stopped by a limit; that is reported.
    with LoggingIntercept(level=logging.WARNING, module="pyomo.core"):
        m.solutions.load_from(results)
    for v in variables:
        if v.value is None:
            v.set_value(0.0, skip_validation=True)
        elif v.is_integer():
            rounded = round(v.value)
            if abs(v.value - rounded) > PLAN_INTEGRALITY:
                return False
            v.set_value(rounded, skip_validation=True)
    return True
