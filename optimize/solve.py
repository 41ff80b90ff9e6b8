"""Hand the built model to HiGHS and load the solution back; never raises on a solver outcome.

Path chosen: the rules write rows straight into flat arrays (``optimize/model/lp.py``), which
go to ``highspy`` with the array form of ``passModel``: no expression tree and no compile
step. Measured on synthetic M (96k columns, 537k nonzeros; 2026-11-29, this 2-core machine):

| path | build | hand-off | peak before solve |
|---|---|---|---|
| Pyomo + ``LinearStandardFormCompiler`` + ``passModel`` (before) | 3.73 s | 2.26 s | 380 MB |
| rules into arrays + ``passModel`` (now) | 2.07 s | 0.06 s | 103 MB |
| floor: ``highspy.readModel`` of the same model as MPS | | 0.65 s | |

(Before that, the standard-form path had beaten an LP file, appsi and contrib.solver by
2-2.5x; see benchmarks/results.md.) Both objective parts are kept as cost vectors, so
``max_coverage`` re-solves the same HiGHS model with other costs and one added row instead
of rebuilding.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import highspy
import numpy as np

from optimize.data.modeldata import ModelData
from optimize.model import Build
from optimize.model.finance import penalty_terms
from optimize.model.lp import Linear
from optimize.model.parameters import (
    PriceMap,
    StructureChanged,
    row_bounds,
    same_structure,
)

INTEGRALITY_TOLERANCE = 1e-6
#: In max_coverage, the shortfall penalty may exceed its first-stage optimum by this much
#: (relative, with an absolute floor of the same size in MUSD).
COVERAGE_TOLERANCE = 1e-6
#: Cost per MUSD paid, per step of a funding program's rank: breaks ties between programs
#: that could equally pay (see funding_priority). Kept out of the reported objective.
TIEBREAK_MUSD_PER_MUSD = 1e-7


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
    #: Further HiGHS options as (name, value) pairs, e.g. (("mip_max_nodes", 100),).
    highs_options: tuple[tuple[str, Any], ...] = ()


@dataclass
class SolveResult:
    """The typed outcome of a solve."""

    status: Status
    objective_musd: float | None = None
    solver_objective: float | None = None  # what HiGHS minimised, with the tie-break
    mip_gap: float | None = None
    solve_seconds: float = 0.0
    transfer_seconds: float = 0.0
    nodes: int = 0
    n_variables: int = 0
    n_binaries: int = 0
    n_constraints: int = 0
    solver: str = "HiGHS"
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
    """The model as arrays: bounds, the row-wise matrix, one cost vector per objective part.

    The arrays are views of the LinearModel's own buffers, not copies.
    """

    n_col: int
    n_row: int
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

    @property
    def n_nonzeros(self) -> int:
        """Return the number of matrix entries."""
        return len(self.value)

    def pass_to(self, h: highspy.Highs) -> None:
        """Hand the model to HiGHS (costs: the full objective, subsidy + penalty + tie-break).

        The integrality array always has one entry per column: highspy reads ``n_col``
        entries even from an empty one, so a model without binaries (no candidate) would be
        refused.
        """
        status = h.passModel(self.n_col, self.n_row, self.n_nonzeros,
                             int(highspy.MatrixFormat.kRowwise), int(highspy.ObjSense.kMinimize),
                             0.0, self.cost_subsidy + self.cost_penalty + self.cost_tiebreak,
                             self.col_lower, self.col_upper, self.row_lower, self.row_upper,
                             self.start, self.index, self.value, self.integer.astype(np.int32))
        if status == highspy.HighsStatus.kError:
            raise RuntimeError(f"HiGHS refused the model ({self.n_col} columns, {self.n_row} "
                               "rows): a bug in building it")

    def positions(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Return where each (row, column) entry sits in ``value``; -1 where it has none."""
        held = np.repeat(np.arange(self.n_row, dtype=np.int64), np.diff(self.start)) \
            * self.n_col + self.index
        wanted = rows.astype(np.int64) * self.n_col + columns
        if not len(held):
            return np.full(len(wanted), -1, dtype=np.int64)
        order = np.argsort(held, kind="stable")
        at = order[np.minimum(np.searchsorted(held, wanted, sorter=order), len(order) - 1)]
        return np.where((rows >= 0) & (held[at] == wanted), at, -1)

    def with_entries(self, rows: np.ndarray, columns: np.ndarray,
                     values: np.ndarray) -> StandardForm:
        """Return a copy with the given entries added, each at the end of its row."""
        held = np.repeat(np.arange(self.n_row, dtype=np.int64), np.diff(self.start))
        every = np.concatenate([held, rows])
        order = np.argsort(every, kind="stable")
        return replace(
            self,
            start=np.concatenate([[0], np.cumsum(np.bincount(every, minlength=self.n_row))])
            .astype(np.int32),
            index=np.concatenate([self.index, columns]).astype(np.int32)[order],
            value=np.concatenate([self.value, values])[order])


def compile_model(b: Build) -> StandardForm:
    """Return the built model as arrays, with the subsidy and penalty parts as cost vectors."""
    m = b.m
    return StandardForm(
        n_col=m.n_columns, n_row=m.n_rows,
        col_lower=np.frombuffer(m.col_lower, dtype=np.float64),
        col_upper=np.frombuffer(m.col_upper, dtype=np.float64),
        row_lower=np.frombuffer(m.row_lower, dtype=np.float64),
        row_upper=np.frombuffer(m.row_upper, dtype=np.float64),
        start=np.frombuffer(m.row_start, dtype=np.int32),
        index=np.frombuffer(m.row_columns, dtype=np.int32),
        value=np.frombuffer(m.row_coefs, dtype=np.float64),
        integer=np.frombuffer(m.integer, dtype=np.int8).astype(bool),
        cost_subsidy=m.costs("subsidy"), cost_penalty=m.costs("penalty"),
        cost_tiebreak=_tiebreak_costs(b),
    )


def funding_priority(b: Build) -> dict[str, int]:
    """Return each funding program's rank: who pays first when several could (0 first).

    Programs that cover fewer countries pay first, so that a host country's own program pays
    before a multilateral one; ties go by the order of funding.csv. Without this rule the
    split between eligible programs is an arbitrary pick among equally cheap plans.
    """
    programs = list((b.data.funding or {}).values())
    order = sorted(range(len(programs)), key=lambda i: (len(programs[i].countries), i))
    return {programs[i].name: rank for rank, i in enumerate(order)}


def _tiebreak_costs(b: Build) -> np.ndarray:
    rank = funding_priority(b)
    costs = np.zeros(b.m.n_columns)
    for (g, *_), j in b.m.fund.items():
        costs[j] = TIEBREAK_MUSD_PER_MUSD * (1 + rank[g])
    return costs


def _status(h: highspy.Highs, has_integers: bool) -> tuple[Status, str]:
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_point = info.primal_solution_status == 2  # kSolutionStatusFeasible
    ms = highspy.HighsModelStatus
    if model_status == ms.kOptimal:
        if has_integers and info.mip_node_count < 0:
            return Status.ERROR, "HiGHS reported optimal without running branch and bound"
        return Status.OPTIMAL, ""
    if model_status in (ms.kInfeasible,):
        return Status.INFEASIBLE, "the model is infeasible"
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


class HighsModel:
    """A built model held in HiGHS, to solve once or re-solve after parameter changes.

    Parameter-only scenarios (prices, offers, demand, penalties, budgets: see
    ``optimize.model.parameters``) change matrix coefficients, row bounds and costs instead
    of rebuilding the model (``update``, ``scale_budgets``; benchmarks/resolve.py measures
    the speed-up). ``self.form`` always mirrors what HiGHS holds.
    """

    def __init__(self, b: Build, options: SolveOptions) -> None:
        started = time.perf_counter()
        self.b, self.options = b, options
        self.form = compile_model(b)
        self.h = new_highs()
        for name, value in (("time_limit", float(options.time_limit_s)),
                            ("mip_rel_gap", float(options.mip_gap)),
                            ("threads", int(options.threads)), ("random_seed", 0),
                            *options.highs_options):
            self.h.setOptionValue(name, value)
        self.form.pass_to(self.h)
        self.transfer_seconds = time.perf_counter() - started
        self.budget_rows = np.array([i for name in ("annual_budget", "total_budget")
                                     if name in b.m.families
                                     for i in b.m.families[name].values()], dtype=np.int32)
        self.budget_upper = self.form.row_upper[self.budget_rows].copy()
        self.budget_scale = 1.0
        self._prices: _Prices | None = None
        self._owned: set[str] = set()  # arrays of self.form copied from the LinearModel

    def scale_budgets(self, scale: float) -> None:
        """Set every annual and total budget to ``scale`` times its input value."""
        self.budget_scale = scale
        if len(self.budget_rows):
            self._row_bounds(self.budget_rows, np.full(len(self.budget_rows), -math.inf),
                             self.budget_upper * scale)

    def _row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Set the bounds of ``rows`` in HiGHS and in ``self.form`` (which mirrors HiGHS)."""
        self._take_arrays("row_lower", "row_upper")
        self.form.row_lower[rows], self.form.row_upper[rows] = lower, upper
        # present at runtime, missing from highspy 1.16's type stubs
        self.h.changeRowsBounds(len(rows), rows, lower, upper)  # type: ignore[attr-defined]

    def _take_arrays(self, *names: str) -> None:
        """Copy the named arrays of ``self.form`` before their first change.

        They start as views of the LinearModel's buffers, which keep what was built.
        """
        for name in names:
            if name not in self._owned:
                self.form = replace(self.form, **{name: getattr(self.form, name).copy()})
                self._owned.add(name)

    def update(self, data: ModelData) -> float:
        """Take ``data``'s parameters in place (prices, offers, demand, penalties, budgets).

        ``data`` must build the same model up to parameter values (``same_structure``);
        otherwise this raises StructureChanged and changes nothing. Afterwards ``self.b``
        carries ``data``, so results are extracted with it; ``self.b.m`` keeps the rows it
        was built with: HiGHS holds the model being solved. A budget scale set by
        ``scale_budgets`` carries over. Returns the seconds taken.
        """
        started = time.perf_counter()
        if not same_structure(data, self.b.data):
            raise StructureChanged("the data differ from the built model in more than "
                                   "parameters")
        new = replace(self.b, data=data)
        # everything is computed before HiGHS is touched: a StructureChanged changes nothing
        bounds = {i: (lo, up) for i, lo, up in row_bounds(new)}
        penalty = Linear(penalty_terms(new)).dense(self.form.n_col)
        coefficients = None
        if _prices_differ(data, self.b.data):
            if self._prices is None:
                self._prices = _Prices.of(self.b, self.form)
            now = self._prices.map.values(data)
            self._prices.map.check(now)
            changed = np.flatnonzero(now != self._prices.now)
            if len(changed):
                coefficients = (changed, now)
        self.budget_upper = np.array([bounds[i][1] for i in self.budget_rows])
        for i in self.budget_rows:
            bounds[i] = (-math.inf, bounds[i][1] * self.budget_scale)
        if bounds:
            index = np.fromiter(bounds, dtype=np.int32, count=len(bounds))
            self._row_bounds(index, np.array([bounds[i][0] for i in index]),
                             np.array([bounds[i][1] for i in index]))
        self.form.cost_penalty = penalty
        if coefficients is not None:
            self._coefficients(*coefficients)
        self.b = new
        self.transfer_seconds = 0.0  # nothing was built again
        return time.perf_counter() - started

    def _coefficients(self, changed: np.ndarray, now: np.ndarray) -> None:
        """Take the price-map entries ``changed`` at their values in ``now``.

        Coefficients already in the matrix are written into its value array, which goes to
        HiGHS again whole (``passModel``: about 2 ms at the baseline's size, where
        ``changeCoeff`` took 20-35 ms for the ~7-13k entries a price scenario changes).
        HiGHS drops entries that became zero. An entry the build left out because it was
        zero gets a place in the matrix's arrays (``StandardForm.with_entries``).
        """
        prices = self._prices
        assert prices is not None
        at = prices.position[changed]
        inside = at >= 0
        self._take_arrays("value")
        self.form.value[at[inside]] = now[changed[inside]]
        new = changed[~inside & (now[changed] != 0) & (prices.map.rows[changed] >= 0)]
        if len(new):
            self.form = self.form.with_entries(prices.map.rows[new], prices.map.columns[new],
                                               now[new])
            prices.position = self.form.positions(prices.map.rows, prices.map.columns)
        self.form.pass_to(self.h)
        prices.now = now

    def write(self, path: str | Path) -> None:
        """Write the model as HiGHS holds it (LP or MPS, by the file's suffix), with names.

        Columns and rows are named ``family(key,...)`` as in docs/formulation.md, with
        characters HiGHS does not allow in names (``-``, spaces, brackets) replaced. The
        objective is the full one, subsidy + penalty + funding tie-break.
        """
        m = self.b.m
        for j, name in enumerate(m.column_names()):
            self.h.passColName(j, _lp_name(name))
        for i, name in enumerate(m.row_names()):
            self.h.passRowName(i, _lp_name(name))
        self._costs(self.form.cost_subsidy + self.form.cost_penalty + self.form.cost_tiebreak)
        with _quiet_stdout():
            self.h.writeModel(str(path))

    def _costs(self, costs: np.ndarray) -> None:
        n = self.form.n_col
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)

    def solve(self) -> SolveResult:
        """Solve in the options' mode and load the solution into ``self.b.m.x``."""
        form, h = self.form, self.h
        has_integers = bool(form.integer.any())
        result = SolveResult(
            status=Status.ERROR, n_variables=form.n_col,
            n_binaries=int(form.integer.sum()), n_constraints=form.n_row,
            solver=f"HiGHS {h.version()}", transfer_seconds=self.transfer_seconds,
        )
        added_row = None
        h.clearSolver()  # no basis or plan from an earlier solve: each solve starts afresh
        try:
            if self.options.mode == "max_coverage":
                self._costs(form.cost_penalty)
                status, message, seconds = _run(h, has_integers)
                result.stages.append({"stage": "min_shortfall", "status": str(status),
                                      "seconds": seconds})
                result.solve_seconds += seconds
                if not status.has_solution:
                    result.status, result.message = status, message
                    return result
                best = float(form.cost_penalty @ np.asarray(h.getSolution().col_value))
                cap = best + COVERAGE_TOLERANCE * max(1.0, abs(best))
                nz = np.flatnonzero(form.cost_penalty)
                added_row = h.getNumRow()
                h.addRow(-math.inf, cap, len(nz), nz, form.cost_penalty[nz])
                self._costs(form.cost_subsidy + form.cost_tiebreak)
            else:
                self._costs(form.cost_subsidy + form.cost_penalty + form.cost_tiebreak)
            status, message, seconds = _run(h, has_integers)
            result.stages.append({"stage": "min_subsidy", "status": str(status),
                                  "seconds": seconds})
            result.solve_seconds += seconds
            result.status, result.message = status, message
            if status.has_solution:
                self._load(result, has_integers)
            return result
        finally:
            if added_row is not None:
                h.deleteRows(1, np.array([added_row]))

    def _load(self, result: SolveResult, has_integers: bool) -> None:
        form, h = self.form, self.h
        info = h.getInfo()
        result.nodes = max(int(info.mip_node_count), 0)
        result.mip_gap = float(info.mip_gap) if has_integers else 0.0
        x = np.asarray(h.getSolution().col_value)
        if has_integers:
            x[form.integer] = np.round(x[form.integer])
        self.b.m.load(x)
        result.solver_objective = float(np.asarray(h.getLp().col_cost_) @ x)
        objective = float((form.cost_subsidy + form.cost_penalty) @ x)
        result.objective_musd = 0.0 if abs(objective) < 1e-9 else objective


@dataclass
class _Prices:
    """A model's price map, where each of its entries sits in the matrix, and their values."""

    map: PriceMap
    position: np.ndarray  # index into StandardForm.value; -1 where the matrix has no entry
    now: np.ndarray

    @classmethod
    def of(cls, b: Build, form: StandardForm) -> _Prices:
        price_map = PriceMap.of(b)
        return cls(price_map, form.positions(price_map.rows, price_map.columns),
                   price_map.values(b.data))


def _lp_name(name: str) -> str:
    """Return ``name`` with what LP files do not allow in names replaced by ``_``."""
    name = name.replace("[", "(").replace("]", ")")
    return re.sub(r"[^A-Za-z0-9_.(),]", "_", name)


def _prices_differ(a: ModelData, b: ModelData) -> bool:
    """Return whether ``operating_support`` coefficients may differ between ``a`` and ``b``."""
    return a.prices != b.prices or a.offers != b.offers


def solve(b: Build, options: SolveOptions) -> SolveResult:
    """Solve the built model with HiGHS and load the solution into its variables."""
    return HighsModel(b, options).solve()
