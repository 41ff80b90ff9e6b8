"""Hand the Pyomo model to HiGHS and load the solution back; never raises on a solver outcome.

Path chosen: Pyomo's own ``LinearStandardFormCompiler`` turns the model into arrays
(``mixed_form``: each row keeps its sense), which go to ``highspy`` with ``passModel``; the
solution comes back as arrays and is set on the model's variables. On this project's model
this path was 3-6x faster at hand-off than Pyomo's persistent HiGHS interfaces (appsi,
``pyomo.contrib.solver``; benchmarks/results.md). The objective's three parts (subsidy,
penalty, funding tie-break) are compiled as three cost vectors, so ``max_coverage``
re-solves the same HiGHS model with other costs and one added row instead of rebuilding.

No false "infeasible": without decisions the model always has a plan (fund nothing, take
the shortfall), yet HiGHS's presolve can decide infeasible on tiny coefficients (every
capacity times 1e-7). So an infeasible (or infeasible-or-unbounded) stage is solved again
with presolve off before it is reported; summary.json's ``solve_stages`` records that
re-check (``recheck``, ``why``, its status), and infeasible stands only if it agrees.

Other solvers (SCIP, CBC, Gurobi, CPLEX) go through Pyomo's own interfaces:
``optimize.solvers``.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from pyomo.common.gc_manager import PauseGC
from pyomo.environ import ConcreteModel, Constraint, Objective
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimize.data.modeldata import ModelData
from optimize.model import PARAMETRIC_EXPRESSIONS, PARAMETRIC_FAMILIES, VARIABLES, extensions
from optimize.model.parameters import set_parameters

#: In max_coverage, the shortfall penalty may exceed its first-stage optimum by this much
#: (relative, with an absolute floor of the same size in MUSD).
COVERAGE_TOLERANCE = 1e-6
#: A re-check of an infeasible (presolve off) gets what is left of the stage's time limit,
#: but at least this many seconds.
RECHECK_MIN_SECONDS = 1.0
#: The solvers' random seed, fixed so that a run repeats (each solver's own name for it:
#: ``optimize.solvers``).
RANDOM_SEED = 0


class Status(StrEnum):
    """What a solve ended with."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a solution, stopped by the time limit before the gap closed
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"  # stopped by the time limit with no solution
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        """Return whether a plan was found."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings: from settings.toml, overridden by CLI flags."""

    mode: str = "min_subsidy"
    time_limit_s: float = 600.0
    mip_gap: float = 1e-4
    threads: int = 1
    #: Which MIP solver: highs (here), or scip, cbc, gurobi, cplex (``optimize.solvers``).
    solver: str = "highs"
    #: The solver's own options as (name, value) pairs by its own names, e.g.
    #: (("mip_max_nodes", 100),) for HiGHS: settings.toml's ``[solver.<solver>]``. Set after
    #: the options above, so they win where they name the same thing.
    own_options: tuple[tuple[str, Any], ...] = ()


@dataclass
class SolveResult:
    """The typed outcome of a solve."""

    status: Status
    objective_musd: float | None = None
    solver_objective: float | None = None  # what HiGHS minimised, with the tie-break
    mip_gap: float | None = None
    solve_seconds: float = 0.0
    transfer_seconds: float = 0.0
    load_seconds: float = 0.0  # setting the solution on the model's variables
    nodes: int = 0
    n_variables: int = 0
    n_binaries: int = 0
    n_constraints: int = 0
    solver: str = "HiGHS"
    #: The options passed to the solver, by the solver's own names.
    solver_options: dict[str, Any] = field(default_factory=dict)
    #: The values the solver holds for them, as it reports them (HiGHS); else as passed.
    options_used: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    stages: list[dict[str, Any]] = field(default_factory=list)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C-level stdout (HiGHS prints a banner when its first object is made)."""
    fd = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(fd, 1)
        os.close(fd)


def new_highs() -> highspy.Highs:
    """Return a silent HiGHS object."""
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


@dataclass
class StandardForm:
    """The compiled model: bounds, the column-wise matrix, one cost vector per objective part.

    ``columns[j]`` is the Pyomo variable of column ``j`` and ``rows[i]`` the constraint of
    row ``i``. A fixed variable is not a column (the compiler moves it to the bounds); a
    variable that appears nowhere is not one either (it is 0 in every plan).
    """

    columns: list[Any]
    rows: list[Any]
    #: Each row's sense as the compiler gives it: 0 ==, 1 <=, -1 >=.
    row_sense: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    integer: np.ndarray
    cost_subsidy: np.ndarray
    cost_penalty: np.ndarray
    cost_tiebreak: np.ndarray
    #: The REPORTED Expressions as (name, key), their linear parts (rows) and constants.
    reported_keys: list[tuple[str, Any]]
    reported: Any
    reported_offset: np.ndarray
    #: Each objective part's constant: the terms of fixed variables, which the compiler
    #: takes out of the columns (a FID fixed through the API or held by ``stress``).
    offset_subsidy: float = 0.0
    offset_penalty: float = 0.0
    offset_tiebreak: float = 0.0
    _positions: Positions | None = field(default=None, repr=False, compare=False)

    @property
    def n_col(self) -> int:
        """Return the number of columns."""
        return len(self.columns)

    @property
    def n_row(self) -> int:
        """Return the number of rows."""
        return len(self.rows)

    @property
    def n_nonzeros(self) -> int:
        """Return the number of matrix entries."""
        return len(self.value)

    def positions(self) -> Positions:
        """Return where each column, row and matrix entry is (built once, then kept)."""
        if self._positions is None:
            self._positions = Positions(self)
        return self._positions

    @property
    def offset(self) -> float:
        """Return the full objective's constant (subsidy + penalty + tie-break)."""
        return self.offset_subsidy + self.offset_penalty + self.offset_tiebreak

    def pass_to(self, h: highspy.Highs) -> None:
        """Hand the model to HiGHS (costs: the full objective, subsidy + penalty + tie-break).

        The integrality array always has one entry per column: highspy reads ``n_col``
        entries even from an empty one, so a model without binaries (no candidate) would be
        refused.
        """
        status = h.passModel(self.n_col, self.n_row, self.n_nonzeros,
                             int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize),
                             self.offset,
                             self.cost_subsidy + self.cost_penalty + self.cost_tiebreak,
                             self.col_lower, self.col_upper, self.row_lower, self.row_upper,
                             self.start, self.index, self.value, self.integer.astype(np.int32))
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS refused the model")


class Positions:
    """Where a compiled model's columns, rows and matrix entries are, by Pyomo component."""

    def __init__(self, form: StandardForm) -> None:
        self.form = form
        #: Column of a variable, by ``id``; row of a constraint, by ``(id, sense)``.
        self.column = {id(v): j for j, v in enumerate(form.columns)}
        self.row = {(id(c), int(s)): i for i, (c, s) in
                    enumerate(zip(form.rows, form.row_sense.tolist(), strict=True))}
        #: The column of each matrix entry (the matrix is column-wise).
        self.entry_column = np.repeat(np.arange(form.n_col), np.diff(form.start))
        self._rows: dict[frozenset[str], np.ndarray] = {}
        self._entries: dict[frozenset[str], np.ndarray] = {}

    def parametric_rows(self, families: set[str]) -> np.ndarray:
        """Return the rows of the constraint components named ``families``, in order."""
        key = frozenset(families)
        if key not in self._rows:
            self._rows[key] = np.fromiter(
                (i for i, c in enumerate(self.form.rows)
                 if c.parent_component().local_name in families), dtype=np.int64)
        return self._rows[key]

    def entries(self, families: set[str]) -> np.ndarray:
        """Return the matrix entries in the rows of ``families``, in the matrix's order."""
        key = frozenset(families)
        if key not in self._entries:
            in_rows = np.zeros(self.form.n_row, dtype=bool)
            in_rows[self.parametric_rows(families)] = True
            self._entries[key] = np.flatnonzero(in_rows[self.form.index])
        return self._entries[key]


#: The Expressions the result tables read (``optimize.results.tables``). They are compiled
#: with the model, as extra objective rows, so that after a solve their values are one sparse
#: product. The compiler walks a named Expression once, however many rows use it.
REPORTED = ("cap", "throughput", "capex_out", "revenue", "cost")
#: The objective's parts, each compiled as a cost vector of its own.
OBJECTIVE_PARTS = ("subsidy", "penalty", "tiebreak")


@contextlib.contextmanager
def objective_rows(m: ConcreteModel, expressions: list[Any]) -> Iterator[None]:
    """Make ``expressions`` the model's active objectives, in order, for the compiler.

    The compiler returns one cost row per active objective.
    """
    m.objective.deactivate()
    m.objective_rows = Objective(range(len(expressions)), rule=lambda m, i: expressions[i])
    try:
        yield
    finally:
        m.del_component(m.objective_rows)
        m.objective.activate()


def reported_keys(m: ConcreteModel, names: tuple[str, ...] = REPORTED) -> list[tuple[str, Any]]:
    """Return ``(name, key)`` of every Expression of ``names``, in order."""
    return [(name, k) for name in names for k in m.component(name)]


def compile_model(m: ConcreteModel) -> StandardForm:
    """Return the model as arrays through Pyomo's ``LinearStandardFormCompiler``.

    Columns come in the order of ``optimize.model.VARIABLES`` (then any variable a user
    added); rows in the order the constraints were declared.
    """
    with PauseGC():  # as in build_model: no collector passes over the model's objects
        return _compile(m)


def _compile(m: ConcreteModel) -> StandardForm:
    keys = reported_keys(m)
    parts = [m.component(name) for name in OBJECTIVE_PARTS]
    with objective_rows(m, parts + [m.component(name)[k] for name, k in keys]):
        info = LinearStandardFormCompiler().write(
            m, mixed_form=True, column_order=[m.component(v) for v in VARIABLES])
    columns = info.columns
    sense = row_senses(info)
    lower, upper = row_bounds(sense, np.asarray(info.rhs, dtype=np.float64))
    col_lower, col_upper, integer = column_bounds(columns)
    a = info.A
    c = info.c.tocsr()
    costs = [without_round_off(row) for row in c[:3].toarray()]
    offsets = [float(v) for v in np.asarray(info.c_offset[:3], dtype=np.float64)]
    return StandardForm(
        columns=columns, rows=[r[0] for r in info.rows], row_sense=sense, col_lower=col_lower,
        col_upper=col_upper, row_lower=lower, row_upper=upper,
        start=a.indptr.astype(np.int32), index=a.indices.astype(np.int32),
        value=a.data.astype(np.float64), integer=integer,
        cost_subsidy=costs[0], cost_penalty=costs[1], cost_tiebreak=costs[2],
        reported_keys=keys, reported=c[3:], reported_offset=np.asarray(info.c_offset[3:]),
        offset_subsidy=offsets[0], offset_penalty=offsets[1], offset_tiebreak=offsets[2])


def row_senses(info: Any) -> np.ndarray:
    """Return each compiled row's sense (mixed form): 0 ==, 1 <=, -1 >=."""
    return np.fromiter((r[1] for r in info.rows), dtype=np.int8, count=len(info.rows))


def row_bounds(sense: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return rows' lower and upper bounds from their senses and right-hand sides."""
    return np.where(sense == 1, -math.inf, rhs), np.where(sense == -1, math.inf, rhs)


def column_bounds(columns: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the variables' lower and upper bounds (infinite where None) and integrality."""
    n = len(columns)
    bounds = [v.bounds for v in columns]
    lower = np.fromiter((-math.inf if lb is None else lb for lb, _ in bounds),
                        dtype=np.float64, count=n)
    upper = np.fromiter((math.inf if ub is None else ub for _, ub in bounds),
                        dtype=np.float64, count=n)
    integer = np.fromiter((v.is_integer() for v in columns), dtype=bool, count=n)
    return lower, upper, integer


def project_highs_options(options: SolveOptions) -> dict[str, Any]:
    """Return the project's settings (time limit, gap, threads, seed) by HiGHS's names."""
    return {"time_limit": float(options.time_limit_s), "mip_rel_gap": float(options.mip_gap),
            "threads": int(options.threads), "random_seed": RANDOM_SEED}


#: A cost coefficient at most this share of its objective part's largest is round-off: where
#: a FID's discounted capex and its salvage cancel, the compiled sum is 1e-15, not 0.
ROUND_OFF = 1e-12


def without_round_off(cost: np.ndarray) -> np.ndarray:
    """Return ``cost`` with the coefficients that are zero up to round-off set to zero.

    HiGHS warns of such "excessively small" costs, and they only add noise to its path.
    """
    largest = float(np.abs(cost).max()) if len(cost) else 0.0
    return np.where(np.abs(cost) <= ROUND_OFF * largest, 0.0, cost)


def recompile_parameters(m: ConcreteModel, form: StandardForm) -> bool:
    """Recompile into ``form`` only what holds a mutable Param; return whether that held.

    What holds a mutable Param: the rows of ``PARAMETRIC_FAMILIES`` (and of any constraint
    added after the build, which may), the objective parts and reported Expressions of
    ``PARAMETRIC_EXPRESSIONS``. They are compiled by the same compiler from the same
    expressions as a full compile, so the numbers are the ones a fresh build gives. Returns
    False, leaving ``form`` unchanged, when the rows' sparsity is not what ``form`` holds
    (a coefficient became zero or nonzero): then only a full compile is right.
    """
    families = {*PARAMETRIC_FAMILIES, *extensions(m)}
    others = [c for c in m.component_objects(Constraint, active=True)
              if c.local_name not in families]
    parts = [name for name in OBJECTIVE_PARTS if name in PARAMETRIC_EXPRESSIONS]
    keys = reported_keys(m, tuple(n for n in REPORTED if n in PARAMETRIC_EXPRESSIONS))
    for c in others:
        c.deactivate()
    try:
        with PauseGC(), objective_rows(m, [m.component(name) for name in parts]
                                       + [m.component(name)[k] for name, k in keys]):
            info = LinearStandardFormCompiler().write(m, mixed_form=True)
    finally:
        for c in others:
            c.activate()
    held = form.positions()
    try:
        cols = np.fromiter((held.column[id(v)] for v in info.columns), dtype=np.int64,
                           count=len(info.columns))
        rows = np.fromiter((held.row[id(con), sense] for con, sense in info.rows),
                           dtype=np.int64, count=len(info.rows))
    except KeyError:  # a column or row the held model does not have
        return False
    if not np.array_equal(np.sort(rows), held.parametric_rows(families)):
        return False
    a = info.A.tocoo()
    entry_rows, entry_cols = rows[a.row], cols[a.col]
    order = np.lexsort((entry_rows, entry_cols))  # the held matrix's order: by column, then row
    at = held.entries(families)
    if not (np.array_equal(entry_cols[order], held.entry_column[at])
            and np.array_equal(entry_rows[order], form.index[at])):
        return False
    form.value[at] = a.data[order]
    form.row_lower[rows], form.row_upper[rows] = row_bounds(
        form.row_sense[rows], np.asarray(info.rhs, dtype=np.float64))
    c = info.c.tocsr()
    for i, name in enumerate(parts):
        cost = np.zeros(form.n_col)
        row = c[i:i + 1]
        cost[cols[row.indices]] = row.data
        setattr(form, f"cost_{name}", without_round_off(cost))
        setattr(form, f"offset_{name}", float(info.c_offset[i]))
    _replace_reported(form, keys, c[len(parts):], cols, np.asarray(info.c_offset[len(parts):]))
    return True


def _replace_reported(form: StandardForm, keys: list[tuple[str, Any]], rows: Any,
                      cols: np.ndarray, offset: np.ndarray) -> None:
    """Put the recompiled reported rows (columns ``cols`` of the held model) in ``form``."""
    at = {key: i for i, key in enumerate(form.reported_keys)}
    which = np.fromiter((at[key] for key in keys), dtype=np.int64, count=len(keys))
    new = sp.csr_matrix((rows.data, cols[rows.indices], rows.indptr),
                        shape=(len(keys), form.n_col))
    keep = np.setdiff1d(np.arange(len(form.reported_keys)), which)
    stacked = sp.vstack([form.reported[keep], new], format="csr")
    position = np.empty(len(form.reported_keys), dtype=np.int64)
    position[np.concatenate([keep, which])] = np.arange(len(form.reported_keys))
    form.reported = stacked[position]
    form.reported_offset = form.reported_offset.copy()
    form.reported_offset[which] = offset


def _status(h: highspy.Highs, has_integers: bool) -> tuple[Status, str]:
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_point = info.primal_solution_status == 2  # kSolutionStatusFeasible
    ms = highspy.HighsModelStatus
    if model_status == ms.kOptimal:
        if has_integers and info.mip_node_count < 0:
            return Status.ERROR, "HiGHS reported optimal without running branch and bound"
        return Status.OPTIMAL, ""
    if model_status == ms.kInfeasible:
        return Status.INFEASIBLE, "the model is infeasible"
    if model_status == ms.kUnboundedOrInfeasible:
        # The objective is bounded below (costs and penalties are non-negative; salvage is
        # at most the capex funded), so this is infeasible.
        return Status.INFEASIBLE, "the model is infeasible (HiGHS: infeasible or unbounded)"
    stopped = (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit, ms.kInterrupt,
               ms.kObjectiveBound, ms.kObjectiveTarget, getattr(ms, "kHighsInterrupt", None))
    if model_status in stopped:
        if has_point:
            return Status.FEASIBLE, f"stopped ({h.modelStatusToString(model_status)}) with a plan"
        return Status.TIME_LIMIT, f"stopped ({h.modelStatusToString(model_status)}) with no plan"
    return Status.ERROR, f"HiGHS ended with '{h.modelStatusToString(model_status)}'"


def _run(h: highspy.Highs, has_integers: bool) -> tuple[Status, str, float]:
    before = h.getRunTime()
    h.run()
    status, message = _status(h, has_integers)
    return status, message, h.getRunTime() - before


def infeasible_message(m: ConcreteModel) -> str:
    """Return the message of an infeasible that a solve without presolve confirmed.

    Without decisions the model is feasible by construction: funding nothing and taking
    the shortfall (which absorbs any demand) is always a plan, and with no FID nothing must
    be paid. Forced decisions can make it infeasible (a forced project the budgets cannot
    pay for).
    """
    if m.data.decisions:
        return ("the model is infeasible, also with presolve off: the scenario's decisions "
                "cannot all be met (e.g. a forced project the budgets cannot pay for); "
                "without decisions the model is always feasible")
    return ("the model is infeasible, also with presolve off, but it should always be "
            "feasible (funding nothing and taking the shortfall is a plan): a bug in "
            "ree-plan, or inputs too extreme for the solver's tolerances")


def recheck_seconds(time_limit_s: float, spent: float) -> float:
    """Return the time limit of a re-check: what the stage left, at least RECHECK_MIN_SECONDS.

    Never more than the time limit itself.
    """
    return max(time_limit_s - spent, min(time_limit_s, RECHECK_MIN_SECONDS))


def recheck_message(status: Status, message: str) -> str:
    """Return the message of a re-check without presolve that did not confirm infeasible."""
    said = "the solver's presolve reported the model infeasible"
    if status.has_solution:
        return (f"{said} (presolve can misjudge very small or large numbers in the inputs); "
                "solved again without presolve, which found this plan"
                + (f": {message}" if message else ""))
    return f"{said}; solved again without presolve: {message}"


#: HiGHS's option types, and the Python type each takes.
_HIGHS_TYPES: dict[Any, type] = {
    highspy.HighsOptionType.kBool: bool, highspy.HighsOptionType.kInt: int,
    highspy.HighsOptionType.kDouble: float, highspy.HighsOptionType.kString: str}


def highs_value(name: str, value: Any) -> Any:
    """Return ``value`` as the type HiGHS option ``name`` takes; unchanged if unknown.

    A whole number for a real option becomes a float (TOML writes ``0`` for ``0.0``).
    """
    status, kind = new_highs().getOptionType(name)
    wanted = _HIGHS_TYPES.get(kind) if status == highspy.HighsStatus.kOk else None
    if wanted is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def highs_option_problem(name: str, value: Any) -> str | None:
    """Return why HiGHS does not take ``value`` for option ``name``, or None.

    HiGHS itself judges: the name must be one of its options, the value of its type and in
    its range.
    """
    h = new_highs()
    status, kind = h.getOptionType(name)
    if status != highspy.HighsStatus.kOk:
        close = difflib.get_close_matches(
            name, [n for n in dir(highspy.HighsOptions()) if not n.startswith("_")], n=1)
        return ("HiGHS has no option of this name" + (f"; did you mean {close[0]!r}?" if close
                else " (see HiGHS's documentation of its options)"))
    wanted = _HIGHS_TYPES[kind]
    typed: Any = highs_value(name, value)
    matches = type(typed) is wanted  # exactly: True is an int to Python, not to HiGHS
    if not matches:
        return f"HiGHS's option {name} takes {wanted.__name__}, got {value!r}"
    if h.setOptionValue(name, typed) == highspy.HighsStatus.kError:
        return f"HiGHS does not take {value!r} for {name} (out of its range or choices)"
    return None


def option_value(h: highspy.Highs, name: str) -> Any:
    """Return the value of a HiGHS option (highspy returns it bare, or as (status, value))."""
    got = h.getOptionValue(name)
    return got[1] if isinstance(got, tuple) else got


@contextlib.contextmanager
def highs_options_set(h: highspy.Highs, options: dict[str, Any]) -> Iterator[None]:
    """Set HiGHS options for the duration, then give each back its earlier value."""
    earlier = {name: option_value(h, name) for name in options}
    try:
        for name, value in options.items():
            h.setOptionValue(name, value)
        yield
    finally:
        for name, value in earlier.items():
            h.setOptionValue(name, value)


class HighsModel:
    """A built model held in HiGHS, to solve once or re-solve after parameter changes.

    Parameter-only scenarios (prices, offers, demand, penalties, budgets: the model's
    mutable Params, ``optimize.model.parameters``) set the Params and recompile (``update``,
    ``scale_budgets``): the matrix HiGHS gets is the one a fresh build would give.
    ``self.form`` always mirrors what HiGHS holds; ``self.m`` is the Pyomo model.
    """

    def __init__(self, m: ConcreteModel, options: SolveOptions) -> None:
        started = time.perf_counter()
        self.m, self.options = m, options
        self.h = new_highs()
        self.solver_options: dict[str, Any] = {
            **project_highs_options(options),
            **{name: highs_value(name, value) for name, value in options.own_options}}
        for name, value in self.solver_options.items():
            if self.h.setOptionValue(name, value) == highspy.HighsStatus.kError:
                raise ValueError(f"HiGHS refused option {name} = {value!r}")
        #: The value HiGHS holds for each option set, as it reports it.
        self.options_used = {name: option_value(self.h, name) for name in self.solver_options}
        self._compile()
        self.transfer_seconds = time.perf_counter() - started

    def _compile(self) -> None:
        self.form = compile_model(self.m)
        self.form.pass_to(self.h)
        placed = {id(v) for v in self.form.columns}
        self.absent = [v for name in VARIABLES for v in self.m.component(name).values()
                       if id(v) not in placed and not v.fixed]
        self.stale = False
        self.x: np.ndarray | None = None  # the last plan, one value per column
        #: What the last compile covered: "model" (all of it) or "parameters" (``sync``).
        self.recompiled = "model"

    def sync(self) -> float:
        """Hand HiGHS the model again if its Params changed since; return the seconds taken.

        Only what holds a mutable Param is recompiled (``recompile_parameters``), unless
        the changed values change the matrix's sparsity: then the whole model is. ``solve``
        and ``write`` call it, so several changes in a row compile once.
        """
        if not self.stale:
            return 0.0
        started = time.perf_counter()
        if recompile_parameters(self.m, self.form):
            self.form.pass_to(self.h)
            self.stale = False
            self.x = None
            self.recompiled = "parameters"
        else:
            self._compile()
        self.transfer_seconds = time.perf_counter() - started
        return self.transfer_seconds

    def scale_budgets(self, scale: float) -> None:
        """Set every annual and total budget to ``scale`` times its input value."""
        if self.m.budget_scale.value != scale:
            self.m.budget_scale.set_value(scale)
            self.stale = True

    def update(self, data: ModelData) -> float:
        """Take ``data``'s parameters in place (prices, offers, demand, penalties, budgets).

        ``data`` must build the same model up to parameter values (``same_structure``);
        otherwise this raises StructureChanged and changes nothing. Afterwards the model
        carries ``data`` (``m.data``) and HiGHS holds it. A budget scale set by
        ``scale_budgets`` carries over. Returns the seconds taken.
        """
        started = time.perf_counter()
        set_parameters(self.m, data)
        self.stale = True
        self.sync()
        return time.perf_counter() - started

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the model as HiGHS holds it (LP or MPS, by the file's suffix), with names.

        Columns and rows are named ``name(key,...)`` as in docs/formulation.md, with
        characters HiGHS does not allow in names (``-``, spaces, brackets) replaced. The
        objective is the full one, subsidy + penalty + funding tie-break.
        """
        self.sync()
        for j, v in enumerate(self.form.columns):
            self.h.passColName(j, _lp_name(v.name))
        for i, c in enumerate(self.form.rows):
            self.h.passRowName(i, _lp_name(c.name))
        self._costs(self.form.cost_subsidy + self.form.cost_penalty + self.form.cost_tiebreak)
        with _quiet_stdout():
            self.h.writeModel(str(path))

    def _costs(self, costs: np.ndarray) -> None:
        n = self.form.n_col
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)

    def solve(self) -> SolveResult:
        """Solve in the options' mode and load the solution into the model's variables."""
        self.sync()
        form, h = self.form, self.h
        has_integers = bool(form.integer.any())
        result = SolveResult(
            status=Status.ERROR, n_variables=form.n_col + len(self.absent),
            n_binaries=int(form.integer.sum()), n_constraints=form.n_row,
            solver=f"HiGHS {h.version()}", solver_options=dict(self.solver_options),
            options_used=dict(self.options_used),
            transfer_seconds=self.transfer_seconds,
        )
        added_row = None
        h.clearSolver()  # no basis or plan from an earlier solve: each solve starts afresh
        try:
            if self.options.mode == "max_coverage":
                self._costs(form.cost_penalty)
                status, message = self._stage("min_shortfall", result, has_integers)
                if not status.has_solution:
                    result.status, result.message = status, message
                    return result
                best = float(form.cost_penalty @ np.asarray(h.getSolution().col_value)
                             + form.offset_penalty)
                cap = best + COVERAGE_TOLERANCE * max(1.0, abs(best))
                nz = np.flatnonzero(form.cost_penalty)
                added_row = h.getNumRow()
                h.addRow(-math.inf, cap - form.offset_penalty, len(nz), nz,
                         form.cost_penalty[nz])
                self._costs(form.cost_subsidy + form.cost_tiebreak)
            else:
                self._costs(form.cost_subsidy + form.cost_penalty + form.cost_tiebreak)
            status, message = self._stage("min_subsidy", result, has_integers)
            result.status, result.message = status, message
            if status.has_solution:
                self._load(result, has_integers)
            return result
        finally:
            if added_row is not None:
                h.deleteRows(1, np.array([added_row]))

    def _stage(self, name: str, result: SolveResult, has_integers: bool) -> tuple[Status, str]:
        """Run HiGHS on the costs set, record the stage in ``result``; return its outcome.

        An infeasible is re-checked before it is reported (``_recheck``).
        """
        status, message, seconds = _run(self.h, has_integers)
        result.stages.append({"stage": name, "status": str(status), "seconds": seconds})
        result.solve_seconds += seconds
        if status is Status.INFEASIBLE:
            return self._recheck(name, result, has_integers, message, seconds)
        return status, message

    def _recheck(self, name: str, result: SolveResult, has_integers: bool, said: str,
                 spent: float) -> tuple[Status, str]:
        """Solve again with presolve off after HiGHS said infeasible; return what to report.

        Presolve can decide infeasible on tiny coefficients (a capacity times 1e-7) where
        the same model without presolve has a plan. The re-check gets what is left of the
        time limit (at least RECHECK_MIN_SECONDS) and is recorded as a stage of its own
        (``recheck``, ``why``); the presolve and time limit options are restored afterwards.
        Infeasible is reported only if the re-check agrees.
        """
        left = recheck_seconds(float(self.solver_options["time_limit"]), spent)
        with highs_options_set(self.h, {"presolve": "off", "time_limit": left}):
            self.h.clearSolver()
            status, message, seconds = _run(self.h, has_integers)
        result.stages.append({"stage": name, "recheck": "presolve off",
                              "why": f"HiGHS with presolve said: {said}",
                              "status": str(status), "seconds": seconds})
        result.solve_seconds += seconds
        if status is Status.INFEASIBLE:
            return status, infeasible_message(self.m)
        return status, recheck_message(status, message)

    def expression_values(self) -> dict[tuple[str, Any], float] | None:
        """Return the value of every REPORTED Expression at the last plan, or None.

        ``{("revenue", (f, y)): MUSD, ...}``: the compiled rows times the plan, in one
        product, for the result tables.
        """
        if self.x is None:
            return None
        values = self.form.reported @ self.x + self.form.reported_offset
        return dict(zip(self.form.reported_keys, values.tolist(), strict=True))

    def plan_duals(self) -> dict[Any, float] | None:
        """Return each row's dual in the LP of the last plan (binaries fixed), by constraint.

        Solved in the HiGHS model already held, with no recompile; None without a plan.
        """
        if self.x is None:
            return None
        duals = fixed_plan_duals(self.h, self.form, self.x)
        return None if duals is None else dict(zip(self.form.rows, duals.tolist(), strict=True))

    def _load(self, result: SolveResult, has_integers: bool) -> None:
        form, h = self.form, self.h
        info = h.getInfo()
        result.nodes = max(int(info.mip_node_count), 0)
        result.mip_gap = float(info.mip_gap) if has_integers else 0.0
        started = time.perf_counter()
        with PauseGC():
            self._set_values(h)
        result.load_seconds = time.perf_counter() - started
        x = self.x
        assert x is not None
        result.solver_objective = float(np.asarray(h.getLp().col_cost_) @ x
                                        + h.getLp().offset_)
        objective = float((form.cost_subsidy + form.cost_penalty) @ x
                          + form.offset_subsidy + form.offset_penalty)
        result.objective_musd = 0.0 if abs(objective) < 1e-9 else objective

    def _set_values(self, h: highspy.Highs) -> None:
        """Set the plan HiGHS found on the model's variables (binaries rounded)."""
        form = self.form
        x = np.asarray(h.getSolution().col_value)
        x[form.integer] = np.round(x[form.integer])
        for v, value in zip(form.columns, x.tolist(), strict=True):
            v.set_value(value, skip_validation=True)
        for v in self.absent:
            v.set_value(0.0, skip_validation=True)
        self.x = x


def fixed_plan_duals(h: highspy.Highs, form: StandardForm, x: np.ndarray) -> np.ndarray | None:
    """Return the row duals of the LP with the integer columns fixed at ``x``, or None.

    HiGHS must hold ``form``. The objective is subsidy + penalty (no tie-break); afterwards
    the integer columns get back their bounds and integrality. None when that LP is not
    solved to optimality.
    """
    ints = np.flatnonzero(form.integer).astype(np.int32)
    n = form.n_col
    h.changeColsCost(n, np.arange(n, dtype=np.int32), form.cost_subsidy + form.cost_penalty)
    try:
        if len(ints):
            h.changeColsIntegrality(len(ints), ints, np.zeros(len(ints), dtype=np.uint8))
            h.changeColsBounds(len(ints), ints, x[ints], x[ints])
        h.clearSolver()
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().row_dual, dtype=np.float64)
    finally:
        if len(ints):
            h.changeColsBounds(len(ints), ints, form.col_lower[ints], form.col_upper[ints])
            h.changeColsIntegrality(len(ints), ints, np.ones(len(ints), dtype=np.uint8))
        h.changeColsCost(n, np.arange(n, dtype=np.int32),
                         form.cost_subsidy + form.cost_penalty + form.cost_tiebreak)


def plan_duals(m: ConcreteModel) -> dict[Any, float] | None:
    """Return each row's dual in the LP of the solved plan (its binaries fixed), by constraint.

    Compiles the model afresh and solves that LP with HiGHS; for a plan found by any solver.
    """
    form = compile_model(m)
    x = np.fromiter((v.value or 0.0 for v in form.columns), dtype=np.float64, count=form.n_col)
    h = new_highs()
    h.setOptionValue("threads", 1)
    form.pass_to(h)
    duals = fixed_plan_duals(h, form, np.round(x))
    return None if duals is None else dict(zip(form.rows, duals.tolist(), strict=True))


def _lp_name(name: str) -> str:
    """Return ``name`` with what LP files do not allow in names replaced by ``_``."""
    name = name.replace("[", "(").replace("]", ")")
    return re.sub(r"[^A-Za-z0-9_.(),]", "_", name)


def solve(m: ConcreteModel, options: SolveOptions) -> SolveResult:
    """Solve the built model with the options' solver and load the solution into its variables.

    Raises SolverUnavailable when that solver is not installed.
    """
    from optimize.solvers import solver_model

    return solver_model(m, options).solve()
