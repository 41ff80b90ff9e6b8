"""Hand the built model to HiGHS and load the solution back; never raises on a solver outcome.

Path chosen: Pyomo's ``LinearStandardFormCompiler`` turns the model into CSC matrices, which
go straight to ``highspy`` with ``passModel``. Measured on our own model by
``benchmarks/handoff.py`` (2026-11-29, this 2-core machine), hand-off time after the build:

| instance | columns | standard form | LP file | appsi | contrib.solver |
|---|---|---|---|---|---|
| synthetic S | 20k | 0.33 s | 0.69 s | 0.71 s | 0.97 s |
| synthetic M | 376k | 7.4 s | 15.3 s | 17.3 s | 18.9 s |

It is also robust: no exceptions on non-optimal outcomes to work around, and both objective
parts compile at once, so ``max_coverage`` re-solves the same HiGHS model with other costs
and one added row instead of rebuilding.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimize.data.modeldata import ModelData
from optimize.model import Build
from optimize.model.context import Terms
from optimize.model.parameters import (
    StructureChanged,
    coefficient_rows,
    objective_terms,
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
    """The model as matrices: columns, rows, and one cost row per objective part."""

    columns: list[Any]
    rows: Any
    lp: highspy.HighsLp
    cost_subsidy: np.ndarray
    cost_penalty: np.ndarray
    cost_tiebreak: np.ndarray
    integer: np.ndarray


def compile_model(b: Build) -> StandardForm:
    """Compile the Pyomo model to standard form with the subsidy and penalty parts as objectives."""
    m = b.m
    m.objective.deactivate()
    m._part_subsidy = pyo.Objective(expr=m.subsidy_npv)
    m._part_penalty = pyo.Objective(expr=m.penalty_npv)
    try:
        repn = LinearStandardFormCompiler().write(m, mixed_form=True)
    finally:
        m.del_component("_part_subsidy")
        m.del_component("_part_penalty")
        m.objective.activate()
    n_col, n_row = len(repn.columns), len(repn.rows)
    costs = repn.c.toarray() if repn.c.shape[0] else np.zeros((2, n_col))
    tiebreak = _tiebreak_costs(b, repn.columns)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, n_row
    lp.col_cost_ = costs[0] + costs[1] + tiebreak
    lp.col_lower_ = np.array([-math.inf if v.lb is None else v.lb for v in repn.columns])
    lp.col_upper_ = np.array([math.inf if v.ub is None else v.ub for v in repn.columns])
    kind = np.array([r.bound_type for r in repn.rows], dtype=int)
    rhs = np.asarray(repn.rhs, dtype=float)
    lp.row_lower_ = np.where(kind == 1, -math.inf, rhs)
    lp.row_upper_ = np.where(kind == -1, math.inf, rhs)
    a = repn.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_col, n_row
    integer = np.array([v.is_integer() or v.is_binary() for v in repn.columns], dtype=bool)
    if integer.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integer]
    return StandardForm(list(repn.columns), repn.rows, lp, costs[0], costs[1], tiebreak, integer)


def funding_priority(b: Build) -> dict[str, int]:
    """Return each funding program's rank: who pays first when several could (0 first).

    Programs that cover fewer countries pay first, so that a host country's own program pays
    before a multilateral one; ties go by the order of funding.csv. Without this rule the
    split between eligible programs is an arbitrary pick among equally cheap plans.
    """
    programs = list((b.data.funding or {}).values())
    order = sorted(range(len(programs)), key=lambda i: (len(programs[i].countries), i))
    return {programs[i].name: rank for rank, i in enumerate(order)}


def _tiebreak_costs(b: Build, columns: list[Any]) -> np.ndarray:
    rank = funding_priority(b)
    costs = np.zeros(len(columns))
    for j, var in enumerate(columns):
        if var.parent_component() is b.m.fund:
            costs[j] = TIEBREAK_MUSD_PER_MUSD * (1 + rank[var.index()[0]])
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
    ``optimize.model.parameters``) change matrix coefficients, row bounds and costs in place
    instead of rebuilding the Pyomo model and compiling it again (``update``,
    ``scale_budgets``; benchmarks/resolve.py measures the speed-up).
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
        self.h.passModel(self.form.lp)
        self.transfer_seconds = time.perf_counter() - started
        budget = {c for c in (b.m.component("annual_budget"), b.m.component("total_budget"))
                  if c is not None}
        self.budget_rows = np.array([i for i, row in enumerate(self.form.rows)
                                     if row.constraint.parent_component() in budget], dtype=int)
        self.budget_upper = np.asarray(self.form.lp.row_upper_)[self.budget_rows]
        self.budget_scale = 1.0
        self._coefficients: dict[int, dict[int, float]] | None = None
        self._index: tuple[dict[int, int], dict[int, int]] | None = None

    def scale_budgets(self, scale: float) -> None:
        """Set every annual and total budget to ``scale`` times its input value."""
        self.budget_scale = scale
        n = len(self.budget_rows)
        if n:
            self._row_bounds(self.budget_rows, np.full(n, -math.inf), self.budget_upper * scale)

    def _row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        # present at runtime, missing from highspy 1.16's type stubs
        self.h.changeRowsBounds(len(rows), rows, lower, upper)  # type: ignore[attr-defined]

    def update(self, data: ModelData) -> float:
        """Take ``data``'s parameters in place (prices, offers, demand, penalties, budgets).

        ``data`` must build the same model up to parameter values (``same_structure``);
        otherwise this raises StructureChanged and changes nothing. Afterwards ``self.b``
        carries ``data``, so results are extracted with it; the Pyomo rows keep the numbers
        they were built with: HiGHS holds the model being solved. A budget scale set by
        ``scale_budgets`` carries over. Returns the seconds taken.
        """
        started = time.perf_counter()
        if not same_structure(data, self.b.data):
            raise StructureChanged("the data differ from the built model in more than "
                                   "parameters")
        new = replace(self.b, data=data)
        if self._index is None:
            self._index = ({id(v): j for j, v in enumerate(self.form.columns)},
                           {id(r.constraint): i for i, r in enumerate(self.form.rows)})
        col, row = self._index
        # everything is computed before HiGHS is touched: a StructureChanged changes nothing
        bounds = {row[id(r)]: (lo, up) for r, lo, up in row_bounds(new)}
        penalty = np.zeros(len(self.form.columns))
        for j, c in _by_column(objective_terms(new), col).items():
            penalty[j] = c
        if _prices_differ(data, self.b.data):
            now = {row[id(r)]: _by_column(t, col) for r, t in coefficient_rows(new)}
            if self._coefficients is None:
                self._coefficients = {row[id(r)]: _by_column(t, col)
                                      for r, t in coefficient_rows(self.b)}
            for i, coefs in now.items():
                before = self._coefficients[i]
                for j in coefs.keys() | before.keys():
                    if coefs.get(j, 0.0) != before.get(j, 0.0):
                        self.h.changeCoeff(i, j, coefs.get(j, 0.0))
            self._coefficients = now
        self.budget_upper = np.array([bounds[i][1] for i in self.budget_rows])
        for i in self.budget_rows:
            bounds[i] = (-math.inf, bounds[i][1] * self.budget_scale)
        if bounds:
            index = np.fromiter(bounds, dtype=int, count=len(bounds))
            self._row_bounds(index, np.array([bounds[i][0] for i in index]),
                             np.array([bounds[i][1] for i in index]))
        self.form.cost_penalty = penalty
        self.b = new
        self.transfer_seconds = 0.0  # nothing was handed over again
        return time.perf_counter() - started

    def _costs(self, costs: np.ndarray) -> None:
        n = self.form.lp.num_col_
        self.h.changeColsCost(n, np.arange(n), costs)

    def solve(self) -> SolveResult:
        """Solve in the options' mode and load the solution into the Pyomo variables."""
        form, h = self.form, self.h
        has_integers = bool(form.integer.any())
        result = SolveResult(
            status=Status.ERROR, n_variables=form.lp.num_col_,
            n_binaries=int(form.integer.sum()), n_constraints=form.lp.num_row_,
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
        for var, value in zip(form.columns, x, strict=True):
            var.set_value(float(value), skip_validation=True)
        result.solver_objective = float(np.asarray(h.getLp().col_cost_) @ x)
        objective = float((form.cost_subsidy + form.cost_penalty) @ x)
        result.objective_musd = 0.0 if abs(objective) < 1e-9 else objective


def _prices_differ(a: ModelData, b: ModelData) -> bool:
    """Return whether ``operating_support`` coefficients may differ between ``a`` and ``b``."""
    return a.prices != b.prices or a.offers != b.offers


def _by_column(terms: Terms, col: dict[int, int]) -> dict[int, float]:
    """Return the terms' coefficients summed by column index."""
    out: dict[int, float] = {}
    for c, v in terms:
        j = col.get(id(v))
        if j is None:
            raise StructureChanged(f"{v.name} is not a column of the built model")
        out[j] = out.get(j, 0.0) + c
    return out


def solve(b: Build, options: SolveOptions) -> SolveResult:
    """Solve the built model with HiGHS and load the solution into its variables."""
    return HighsModel(b, options).solve()
