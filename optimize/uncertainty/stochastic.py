r"""The two-stage stochastic program in extensive form, solved by HiGHS.

Futures :math:`s \in S` with probabilities :math:`p_s` each have the deterministic model of
docs/formulation.md (a block ``future_<i>``, every Set, Var and Constraint of its own). The
FIDs up to the decision year ``Y`` (``--decide-by``; all FIDs without it) are the first
stage: one shared binary ``plan[f,y]`` per FID some future allows, which every future that
allows it must follow (``non_anticipativity``). Later FIDs and all operations are each
future's own. A planned FID that a future forbids (its facility is absent there, or may
not take its FID yet) is not taken there: that future is free of it (the project slips or
never happens there), as ``ree-plan stress`` holds a plan.

The objective is the expected subsidy plus shortfall penalty, plus (``--cvar-weight``
:math:`\lambda > 0`) :math:`\lambda` times the CVaR at level :math:`\alpha` of the penalty
NPV, the shortfall priced at each program's penalty (``cvar_excess``).

Three values measure what the stochastic plan is worth:

- RP, the stochastic program;
- WS, wait-and-see: each future solved alone, with its own plan (with a CVaR weight, plus
  the weighted CVaR of those plans' penalties); EVPI = RP - WS, what knowing the future
  before deciding would save;
- EEV: the first stage held at a reference plan (the first future's own optimum, or a
  solved run's) in every future, the rest free; VSS = EEV - RP, what planning for every
  future saves over planning for the reference one.

WS takes N solves (one per future) and EEV N more (the reference held in each future alone,
as ``ree-plan stress`` does). The futures' own first stages are also held in every future,
but only the distinct ones and only the most probable (``held_first_stages``: at most
``MAX_HELD`` first stages in all, the reference's among them): at most ``MAX_HELD`` x N
solves, where holding each future's own in every future would be N x N (10,000 solves at
100 futures). A future whose own optimum has the first stage held is not solved again: its
own optimum is also its optimum with that first stage held (a restriction that contains
it), so where the futures agree with the reference EEV costs no solve at all. The best of
those held starts HiGHS on the stochastic program; if the time limit stops HiGHS before it
improves on that start, the start is the plan (status ``feasible``, saying so). The
stochastic plan is never worse than any first stage held.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pyomo.common.gc_manager import PauseGC
from pyomo.environ import (
    Binary,
    ConcreteModel,
    Constraint,
    NonNegativeReals,
    Objective,
    Param,
    Set,
    Var,
    minimize,
    value,
)
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimize.data.checks import LoadedInputs, load_inputs
from optimize.errors import InputError, Problem
from optimize.model import VARIABLES, build_model
from optimize.pipeline import finite_or_null, options_for
from optimize.results.safety import claim
from optimize.results.tables import extract, summary_numbers
from optimize.solve import (
    SolveOptions,
    column_bounds,
    highs_value,
    new_highs,
    project_highs_options,
    row_bounds,
    row_senses,
)
from optimize.uncertainty import output
from optimize.uncertainty.output import ANALYSIS_KIND
from optimize.uncertainty.plans import Plan, last_first_full_year, solve_loaded

#: Probabilities must sum to 1 within this.
PROBABILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Risk:
    """The CVaR term: ``weight`` x CVaR at ``alpha`` of the penalty NPV (none at weight 0)."""

    weight: float = 0.0
    alpha: float = 0.9


@dataclass
class Future:
    """One future of the stochastic program: its name, inputs and probability."""

    name: str
    loaded: LoadedInputs
    probability: float


def read_futures(scenarios: list[str | Path],
                 probabilities: list[float] | None = None) -> list[Future]:
    """Load the futures; probabilities default to equal. InputError for bad ones."""
    loaded = [load_inputs(s) for s in scenarios]
    n = len(loaded)
    names = [f.name for f in loaded]
    problems = []
    if len(set(names)) < n:
        dupes = sorted({x for x in names if names.count(x) > 1})
        problems.append(Problem("scenarios", None, None, f"two futures share the name "
                                f"{', '.join(dupes)}; rename one"))
    if probabilities is None:
        probabilities = [1.0 / n] * n
    problems += probability_problems(probabilities, n, "--probabilities")
    first = loaded[0].data
    for f in loaded[1:]:
        if (f.data.start_year, f.data.end_year) != (first.start_year, first.end_year):
            problems.append(Problem(f.name, None, None, f"horizon {f.data.start_year}-"
                                    f"{f.data.end_year} differs from {loaded[0].name}'s "
                                    f"{first.start_year}-{first.end_year}: futures share one"))
    if problems:
        raise InputError(problems)
    return [Future(f.name, f, p) for f, p in zip(loaded, probabilities, strict=True)]


def probability_problems(probabilities: list[float], n: int, where: str) -> list[Problem]:
    """Return what is wrong with ``probabilities`` for ``n`` futures."""
    if len(probabilities) != n:
        return [Problem(where, None, None, f"{len(probabilities)} probabilities for {n} "
                        "futures; give one per future")]
    bad = [p for p in probabilities if not (math.isfinite(p) and 0.0 <= p <= 1.0)]
    if bad:
        return [Problem(where, None, None, f"each probability must be between 0 and 1, got "
                        f"{bad[0]!r}")]
    if abs(sum(probabilities) - 1.0) > PROBABILITY_TOLERANCE:
        return [Problem(where, None, None, f"probabilities must sum to 1, they sum to "
                        f"{sum(probabilities):.6g}")]
    return []


def parse_probabilities(text: str | None) -> list[float] | None:
    """Return ``--probabilities 0.5,0.3,0.2`` as numbers (InputError naming the flag)."""
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise InputError([Problem("--probabilities", None, None, "must be numbers separated "
                                  f"by commas, e.g. 0.5,0.3,0.2; got {text!r}")]) from None


# -- the model -----------------------------------------------------------------------------

def first_stage_keys(blocks: list[ConcreteModel], decide_by: int | None) -> list[tuple[str, int]]:
    """Return the FIDs of the first stage: every (f, y) a future allows, y up to decide_by."""
    keys = {k for m in blocks for k in m.fid_years if decide_by is None or k[1] <= decide_by}
    return sorted(keys, key=lambda k: (k[1], k[0]))


def non_anticipativity(ef: ConcreteModel) -> None:
    r"""A first-stage FID is the same in every future that allows it.

    .. math::

        fid^s_{f,y} = plan_{f,y} \qquad \forall s,\ (f, y) \in \text{fid\_years}^s,\ y \le Y
    """
    index = [(s, f, y) for s, m in ef.blocks.items() for f, y in ef.first_stage
             if (f, y) in m.fid]
    ef.non_anticipativity = Constraint(
        index, rule=lambda ef, s, f, y: ef.blocks[s].fid[f, y] == ef.plan[f, y])


def cvar_excess(ef: ConcreteModel) -> None:
    r"""The penalty NPV of a future above the threshold :math:`\eta` (Rockafellar-Uryasev).

    At the optimum :math:`\eta` is the penalty NPV's value at risk at level :math:`\alpha`
    and :math:`\eta + \frac{1}{1-\alpha}\sum_s p_s\, excess_s` its CVaR, the mean of the
    worst :math:`1-\alpha` of futures by probability. No rows at weight 0.

    .. math::

        excess_s \ge penalty^s - \eta, \qquad excess_s \ge 0, \qquad \eta \ge 0
    """
    rows = list(ef.futures) if ef.risk.weight > 0 else []
    ef.cvar_excess = Constraint(
        rows, rule=lambda ef, s: ef.excess[s] >= ef.blocks[s].penalty - ef.var_threshold)


def expected_objective(ef: ConcreteModel) -> None:
    r"""Minimise the expected subsidy plus penalty, plus the weighted CVaR of the penalty.

    Each future's funding tie-break (docs/formulation.md) is weighted like its objective
    and left out of the reported value.

    .. math::

        \min \sum_s p_s \big(subsidy^s + penalty^s + tiebreak^s\big)
        + \lambda \Big(\eta + \frac{1}{1-\alpha} \sum_s p_s\, excess_s\Big)
    """
    ef.objective = Objective(
        expr=sum(ef.probability[s] * (m.subsidy + m.penalty + m.tiebreak)
                 for s, m in ef.blocks.items()) + ef.risk.weight * ef.cvar, sense=minimize)


#: The families of the stochastic program, in the order of docs/formulation.md.
STOCHASTIC_FAMILIES = (non_anticipativity, cvar_excess, expected_objective)


def extensive_form(futures: list[Future], decide_by: int | None = None,
                   risk: Risk = Risk()) -> ConcreteModel:
    """Return the extensive form: a block per future, the shared plan, NA rows, objective."""
    with PauseGC():
        ef = ConcreteModel(name="ree-plan-stochastic")
        ef.futures = Set(initialize=[f.name for f in futures], ordered=True)
        ef.probability = Param(ef.futures, initialize={f.name: f.probability for f in futures})
        ef.blocks = {}
        for i, f in enumerate(futures):
            m = build_model(f.loaded.data)
            m.objective.deactivate()
            ef.add_component(f"future_{i}", m)
            ef.blocks[f.name] = m
        ef.risk, ef.decide_by = risk, decide_by
        ef.first_stage = Set(initialize=first_stage_keys(list(ef.blocks.values()), decide_by),
                             dimen=2, ordered=True, doc="(candidate, year) decided now")
        ef.plan = Var(ef.first_stage, domain=Binary, doc="1 if the plan takes f's FID in y")
        ef.var_threshold = Var(domain=NonNegativeReals, initialize=0.0)
        ef.excess = Var(ef.futures, domain=NonNegativeReals, initialize=0.0)
        ef.cvar = (ef.var_threshold + 1.0 / (1.0 - risk.alpha)
                   * sum(ef.probability[s] * ef.excess[s] for s in ef.futures))
        for family in STOCHASTIC_FAMILIES:
            family(ef)
    return ef


# -- solving -----------------------------------------------------------------------------

@dataclass
class Held:
    """The extensive form held in HiGHS: columns, rows, and where the plan and NA rows are."""

    ef: ConcreteModel
    h: highspy.Highs
    columns: list[Any]
    integer: np.ndarray
    plan_columns: dict[tuple[str, int], int]
    na_rows: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    offset: float
    seconds: dict[str, float] = field(default_factory=dict)
    x: np.ndarray | None = None  # the last plan found, one value per column


def highs_settings(options: SolveOptions) -> dict[str, Any]:
    """Return the project's HiGHS options, then settings.toml's ``[solver.highs]``.

    As ``ree-plan solve`` sets them: the own ones win where both name an option.
    """
    own = options.own_options if options.solver == "highs" else ()
    return {**project_highs_options(options),
            **{name: highs_value(name, v) for name, v in own}}


def hold_in_highs(ef: ConcreteModel, options: SolveOptions) -> Held:
    """Compile the extensive form (Pyomo's standard-form compiler) and pass it to HiGHS."""
    started = time.perf_counter()
    with PauseGC():
        info = LinearStandardFormCompiler().write(ef, mixed_form=True)
    columns = info.columns
    n = len(columns)
    row_lower, row_upper = row_bounds(row_senses(info), np.asarray(info.rhs, dtype=np.float64))
    col_lower, col_upper, integer = column_bounds(columns)
    a = info.A
    cost = np.asarray(info.c.toarray()[0], dtype=np.float64)
    h = new_highs()
    for name, v in highs_settings(options).items():
        if h.setOptionValue(name, v) == highspy.HighsStatus.kError:
            raise ValueError(f"HiGHS refused option {name} = {v!r}")
    h.passModel(n, len(info.rows), a.nnz, int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), 0.0, cost, col_lower, col_upper, row_lower,
                row_upper, a.indptr.astype(np.int32), a.indices.astype(np.int32),
                a.data.astype(np.float64), integer.astype(np.int32))
    at = {id(v): j for j, v in enumerate(columns)}
    plan_columns = {k: at[id(v)] for k, v in ef.plan.items() if id(v) in at}
    na = ef.non_anticipativity
    na_rows = np.array([i for i, (c, _) in enumerate(info.rows) if c.parent_component() is na],
                       dtype=np.int32)
    held = Held(ef, h, columns, integer, plan_columns, na_rows, row_lower, row_upper, col_lower,
                col_upper, float(np.asarray(info.c_offset)[0]) if len(info.c_offset) else 0.0)
    held.seconds["compile"] = time.perf_counter() - started
    return held


@dataclass
class Solved:
    """One solve of the held extensive form."""

    status: str
    objective_musd: float | None  # reported: without the tie-break
    mip_gap: float | None
    seconds: float
    per_future: dict[str, float]  # subsidy + penalty NPV of each future
    message: str = ""


def solve_held(held: Held, stage: str, start: np.ndarray | None = None) -> Solved:
    """Solve what HiGHS holds now (from ``start``, a plan it may begin with, if given).

    Sets the plan found on the model's variables and keeps it in ``held.x``.
    """
    h = held.h
    h.clearSolver()
    if start is not None:
        h.setSolution(len(start), np.arange(len(start), dtype=np.int32), start)
    started = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - started
    held.seconds[stage] = held.seconds.get(stage, 0.0) + seconds
    status = h.getModelStatus()
    info = h.getInfo()
    ms = highspy.HighsModelStatus
    has_point = info.primal_solution_status == 2
    if status == ms.kOptimal:
        state = "optimal"
    elif has_point:
        state = "feasible"
    elif status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return Solved("infeasible", None, None, seconds, {},
                      "no plan: the futures' decisions cannot all hold under one first stage")
    else:
        return Solved("time_limit" if status == ms.kTimeLimit else "error", None, None, seconds,
                      {}, f"HiGHS: {h.modelStatusToString(status)}")
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    x[held.integer] = np.round(x[held.integer])
    held.x = x
    with PauseGC():
        for v, val in zip(held.columns, x.tolist(), strict=True):
            v.set_value(val, skip_validation=True)
        for m in held.ef.blocks.values():
            for name in VARIABLES:
                for v in m.component(name).values():
                    if v.value is None:
                        v.set_value(0.0, skip_validation=True)
    ef = held.ef
    per_future = {s: float(value(m.subsidy) + value(m.penalty)) for s, m in ef.blocks.items()}
    objective = sum(float(value(ef.probability[s])) * z for s, z in per_future.items())
    objective += ef.risk.weight * float(value(ef.cvar))
    gap = float(info.mip_gap) if held.integer.any() else 0.0
    return Solved(state, objective, gap, seconds, per_future)


def first_stage_of(plan: Plan, held: Held) -> tuple[tuple[str, int], ...]:
    """Return the plan's FIDs that are first-stage decisions of the held model."""
    return tuple(sorted((f, y) for f, y in plan.items() if (f, y) in held.plan_columns))


# -- the analysis ------------------------------------------------------------------------

@dataclass
class StochasticResult:
    """The stochastic program's outcome, its measures and tables."""

    folder: Path | None
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]


def plan_of(ef: ConcreteModel) -> Plan:
    """Return the first-stage plan set on the model: ``{facility: fid_year}``."""
    return {f: y for (f, y), v in ef.plan.items() if (v.value or 0.0) > 0.5}


@dataclass
class Candidate:
    """A first stage held in every future, each future solved alone with it."""

    plan: Plan
    objective_musd: float | None
    per_future: dict[str, float | None]
    #: Per future, the solved values of each of ``VARIABLES`` in index order (arrays, not
    #: the solved models: N models of the futures alive beside the extensive form cost GBs).
    values: dict[str, dict[str, np.ndarray]]


def solved_values(m: ConcreteModel) -> dict[str, np.ndarray]:
    """Return a solved model's values of each of ``VARIABLES``, in index order."""
    return {name: np.fromiter((v.value or 0.0 for v in m.component(name).values()),
                              dtype=np.float64) for name in VARIABLES}


#: A future's own optimum, known already: its summary and ``solved_values``.
Known = tuple[dict[str, Any], dict[str, np.ndarray]]


def evaluate_plan(futures: list[Future], plan: Plan, decide_by: int | None, risk: Risk,
                  options: SolveOptions, known: dict[str, Known] | None = None) -> Candidate:
    """Hold ``plan`` up to ``decide_by`` in each future and solve each alone.

    With the first stage fixed the futures no longer share anything, so each is its own
    (small) MIP: faster and surer than the extensive form with the plan fixed. A future in
    ``known`` is not solved again: its own optimum has this first stage, so it is also the
    optimum with the first stage held (the held problem is a restriction that contains it).
    """
    per_future: dict[str, float | None] = {}
    penalties: dict[str, float] = {}
    values = {}
    for f in futures:
        if known is not None and f.name in known:
            summary, solved = known[f.name]
            per_future[f.name] = summary["subsidy_npv_musd"] + summary["penalty_npv_musd"]
            penalties[f.name] = summary["penalty_npv_musd"]
            values[f.name] = solved
            continue
        e = solve_loaded(f.loaded, options, plan=plan, up_to=decide_by)
        per_future[f.name] = e.summary.get("objective_musd")
        penalties[f.name] = e.summary.get("penalty_npv_musd") or 0.0
        if e.model is not None:
            values[f.name] = solved_values(e.model)
    if any(z is None for z in per_future.values()):
        return Candidate(plan, None, per_future, values)
    z = sum(f.probability * float(per_future[f.name] or 0.0) for f in futures)
    z += risk.weight * cvar_of(penalties, {f.name: f.probability for f in futures}, risk.alpha)
    return Candidate(plan, z, per_future, values)


#: At most this many distinct first stages are held in every future (the reference's first):
#: N futures cost at most ``MAX_HELD`` x N solves, not one per future's own plan (N x N).
MAX_HELD = 3


def held_first_stages(reference: tuple[tuple[str, int], ...],
                      own: list[tuple[tuple[str, int], ...]],
                      probabilities: list[float]) -> list[tuple[tuple[str, int], ...]]:
    """Return the first stages to hold in every future, at most ``MAX_HELD``.

    The reference's, then the futures' own, distinct, most probable first (the summed
    probability of the futures whose own it is; ties in the futures' order).
    """
    weight: dict[tuple[tuple[str, int], ...], float] = {}
    for key, p in zip(own, probabilities, strict=True):
        weight[key] = weight.get(key, 0.0) + p
    order = sorted(weight, key=lambda k: -weight[k])  # stable: the futures' order on ties
    return [reference, *[k for k in order if k != reference]][:MAX_HELD]


def start_from(held: Held, candidate: Candidate) -> np.ndarray:
    """Return the extensive form's columns at a candidate's plan (a start for HiGHS)."""
    ef = held.ef
    with PauseGC():
        for name, m in ef.blocks.items():
            # Both models are build_model of the same inputs: the same indices, same order.
            for component, xs in candidate.values[name].items():
                target = m.component(component)
                assert len(target) == len(xs), component
                for v, x in zip(target.values(), xs.tolist(), strict=True):
                    v.set_value(x, skip_validation=True)
        for (f, y), v in ef.plan.items():
            v.set_value(1.0 if candidate.plan.get(f) == y else 0.0)
        ef.var_threshold.set_value(0.0)
        for s, m in ef.blocks.items():
            ef.excess[s].set_value(max(0.0, float(value(m.penalty))))
    return np.array([v.value or 0.0 for v in held.columns], dtype=np.float64)


def solve_stochastic(futures: list[Future], decide_by: int | None = None, risk: Risk = Risk(),
                     reference: tuple[str, Plan] | None = None,
                     overrides: dict[str, Any] | None = None,
                     measures: bool = True) -> StochasticResult:
    """Solve the stochastic program; with ``measures``, also WS and EEV (EVPI, VSS).

    With ``measures`` each future is first solved alone (WS; the first one's plan is the
    default reference), then the reference and the most probable distinct first stages
    among those plans (``held_first_stages``, ``MAX_HELD`` in all) are each held in every
    future (EEV is the reference's). The best of them starts HiGHS on the extensive form; if
    HiGHS stops (time limit) without improving on it, the best of them is the reported plan
    (status ``feasible``, saying so), so the stochastic plan is never worse than any first
    stage held.
    """
    options = options_for(futures[0].loaded.data, **(overrides or {}))
    started = time.perf_counter()
    ef = extensive_form(futures, decide_by, risk)
    build_seconds = time.perf_counter() - started
    held = hold_in_highs(ef, options)
    held.seconds["build"] = build_seconds
    extra: dict[str, Any] = {}
    per_future: dict[str, dict[str, float | None]] = {f.name: {} for f in futures}
    best: Candidate | None = None
    start = None
    if measures:
        started = time.perf_counter()
        own, own_values = {}, {}
        for f in futures:
            e = solve_loaded(f.loaded, options)
            own[f.name] = e.summary
            if e.summary.get("status") == "optimal" and e.model is not None:
                own_values[f.name] = solved_values(e.model)
        held.seconds["wait_and_see"] = time.perf_counter() - started
        plans = {name: {x["facility"]: x["fid_year"] for x in s.get("funded") or []}
                 for name, s in own.items()}
        if reference is None:
            reference = (futures[0].name, plans[futures[0].name])
        started = time.perf_counter()
        ref_key = first_stage_of(reference[1], held)
        own_keys = {f.name: first_stage_of(plans[f.name], held) for f in futures}
        keys = held_first_stages(ref_key, list(own_keys.values()),
                                 [f.probability for f in futures])
        tried: dict[tuple[tuple[str, int], ...], Candidate] = {}
        eev: Candidate | None = None
        for key in keys:
            c = evaluate_plan(futures, dict(key), decide_by, risk, options,
                              {n: (own[n], x) for n, x in own_values.items() if own_keys[n] == key})
            tried[key] = c
            if key == ref_key:
                eev = c
            if c.objective_musd is not None and (
                    best is None or c.objective_musd < float(best.objective_musd or 0.0)):
                if best is not None:
                    best.values.clear()  # only the best start's values are kept
                best = c
            else:
                c.values.clear()
        assert eev is not None
        held.seconds["plans_held"] = time.perf_counter() - started
        lost = [f"{f} {y}" for f, y in sorted(reference[1].items())
                if (decide_by is None or y <= decide_by) and (f, y) not in held.plan_columns]
        start = None if best is None else start_from(held, best)
        objectives = {n: s.get("objective_musd") for n, s in own.items()}
        ws = None if any(z is None for z in objectives.values()) else (
            sum(f.probability * float(objectives[f.name] or 0.0) for f in futures)
            + risk.weight * cvar_of({n: s["penalty_npv_musd"] for n, s in own.items()},
                                    {f.name: f.probability for f in futures}, risk.alpha))
        for f in futures:
            per_future[f.name].update(wait_and_see_musd=objectives[f.name],
                                      reference_plan_musd=eev.per_future.get(f.name))
        extra = {
            "wait_and_see_musd": ws, "reference": reference[0],
            "reference_plan": [{"facility": f, "fid_year": y}
                               for f, y in sorted(reference[1].items())
                               if decide_by is None or y <= decide_by],
            "reference_fids_not_allowed": lost, "reference_plan_musd": eev.objective_musd,
            "own_plans": {n: [{"facility": f, "fid_year": y} for f, y in sorted(p.items())]
                          for n, p in plans.items()},
            "first_stages_distinct": len({first_stage_of(p, held) for p in plans.values()}),
            "first_stages_tried": len(tried),
            "statuses": {"wait_and_see": sorted({s["status"] for s in own.values()})},
        }
    rp = solve_held(held, "stochastic", start)
    if best is not None and start is not None and (
            rp.objective_musd is None or rp.objective_musd > float(best.objective_musd or 0.0)
            + 1e-6 * max(1.0, abs(float(best.objective_musd or 0.0)))):
        for v, x in zip(held.columns, start.tolist(), strict=True):  # back to the best start
            v.set_value(x, skip_validation=True)
        rp = Solved("feasible", best.objective_musd, rp.mip_gap, rp.seconds,
                    {n: float(z or 0.0) for n, z in best.per_future.items()},
                    f"HiGHS stopped ({rp.status}) before it improved on the best of the "
                    "futures' own first stages held in every future; that is the plan")
    ws_bound = extra.get("wait_and_see_musd")
    if rp.status == "feasible" and rp.objective_musd is not None and ws_bound is not None \
            and rp.objective_musd <= ws_bound + 1e-6 * max(1.0, abs(ws_bound)):
        # Wait-and-see is a lower bound on the stochastic program: the plan is optimal.
        rp.status, rp.message, rp.mip_gap = "optimal", "equals the wait-and-see bound", 0.0
    if rp.objective_musd is None:
        failed: dict[str, Any] = {"analysis": "stochastic", "status": rp.status,
                                  "message": rp.message}
        return StochasticResult(None, failed, {})
    plan = plan_of(ef)
    tables = future_tables(ef, futures)
    rows: list[dict[str, Any]] = [
        {"future": f.name, "probability": f.probability,
         "stochastic_musd": rp.per_future[f.name], **per_future[f.name]} for f in futures]
    summary: dict[str, Any] = {
        "analysis": "stochastic", "status": rp.status, "message": rp.message,
        "futures": {f.name: f.probability for f in futures}, "decide_by": decide_by,
        "cvar_weight": risk.weight, "cvar_alpha": risk.alpha,
        "objective_musd": rp.objective_musd, "mip_gap": rp.mip_gap,
        "expected_subsidy_npv_musd": expected(ef, "subsidy"),
        "expected_penalty_npv_musd": expected(ef, "penalty"),
        "cvar_penalty_npv_musd": cvar_of({f.name: value(ef.blocks[f.name].penalty)
                                          for f in futures},
                                         {f.name: f.probability for f in futures}, risk.alpha),
        "plan": [{"facility": f, "fid_year": y} for f, y in sorted(plan.items(),
                                                                   key=lambda k: (k[1], k[0]))],
        "n_variables": len(held.columns), "n_binaries": int(held.integer.sum()),
        "n_constraints": int(held.h.getNumRow()), **extra,
    }
    if measures:
        summary["evpi_musd"] = _minus(rp.objective_musd, summary["wait_and_see_musd"])
        summary["vss_musd"] = _minus(summary["reference_plan_musd"], rp.objective_musd)
    summary["seconds"] = {k: round(v, 3) for k, v in held.seconds.items()}
    tables["objectives"] = pd.DataFrame(rows)
    tables["plan"] = pd.DataFrame(summary["plan"], columns=["facility", "fid_year"])
    tables["measures"] = pd.DataFrame(
        [{"measure": k, "musd": summary.get(k)} for k in (
            "objective_musd", "expected_subsidy_npv_musd", "expected_penalty_npv_musd",
            "cvar_penalty_npv_musd", "wait_and_see_musd", "reference_plan_musd", "evpi_musd",
            "vss_musd") if k in summary])
    return StochasticResult(None, finite_or_null(summary), tables)


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def expected(ef: ConcreteModel, part: str) -> float:
    """Return the probability-weighted ``subsidy`` or ``penalty`` NPV of the solved futures."""
    return sum(float(value(ef.probability[s])) * float(value(m.component(part)))
               for s, m in ef.blocks.items())


def cvar_of(losses: dict[str, Any], probabilities: dict[str, float], alpha: float) -> float:
    """Return the CVaR at ``alpha`` of a discrete loss: the mean of its worst 1 - alpha."""
    tail, total = 1.0 - alpha, 0.0
    left = tail
    for s in sorted(losses, key=lambda s: -float(losses[s])):
        take = min(probabilities[s], left)
        total += take * float(losses[s])
        left -= take
        if left <= 1e-12:
            break
    return total / tail


def future_tables(ef: ConcreteModel, futures: list[Future]) -> dict[str, pd.DataFrame]:
    """Return tidy tables of the solved futures: one row per future, per program, per FID."""
    rows, programs, fids = [], [], []
    for f in futures:
        m = ef.blocks[f.name]
        tables = extract(m)
        s = summary_numbers(m, tables, m.data)
        rows.append({"future": f.name, "probability": f.probability,
                     "objective_musd": s["subsidy_npv_musd"] + s["penalty_npv_musd"],
                     "subsidy_npv_musd": s["subsidy_npv_musd"],
                     "penalty_npv_musd": s["penalty_npv_musd"],
                     "shortfall_t": sum(s["shortfall_t"].values()),
                     "first_full_coverage_year": last_first_full_year(s)})
        programs += [{"future": f.name, "program": p, "shortfall_t": s["shortfall_t"][p],
                      "first_full_coverage_year": s["first_full_coverage_year"][p]}
                     for p in m.data.programs]
        fids += [{"future": f.name, "facility": x["facility"], "fid_year": x["fid_year"],
                  "first_stage": (x["facility"], x["fid_year"]) in ef.first_stage}
                 for x in s["funded"]]
    return {"futures": pd.DataFrame(rows),
            "programs": pd.DataFrame(programs),
            "fids": pd.DataFrame(fids, columns=["future", "facility", "fid_year", "first_stage"])}


def stochastic(scenarios: list[str | Path], out: Path, probabilities: list[float] | None = None,
               decide_by: int | None = None, risk: Risk = Risk(),
               reference_run: str | Path | None = None,
               overrides: dict[str, Any] | None = None) -> StochasticResult:
    """Solve the stochastic program of the scenarios and write its analysis folder ``out``."""
    from optimize.uncertainty.plans import read_plan

    futures = read_futures(scenarios, probabilities)
    reference = read_plan(reference_run) if reference_run is not None else None
    folder = output.target(out, [*scenarios, *([reference_run] if reference_run else [])])
    with claim(folder, (ANALYSIS_KIND,)):
        result = solve_stochastic(futures, decide_by, risk, reference, overrides)
        output.write_analysis(folder, result.tables, result.summary,
                              report(result) if result.tables else None)
    result.folder = out
    return result


def objectives_figure(frame: pd.DataFrame) -> go.Figure:
    """Return bars per future: the stochastic plan, the reference plan, its own optimum."""
    fig = go.Figure()
    for column, label in (("stochastic_musd", "stochastic plan"),
                          ("reference_plan_musd", "reference plan held"),
                          ("wait_and_see_musd", "own plan (perfect information)")):
        if column in frame:
            fig.add_bar(name=label, x=frame.future, y=frame[column])
    fig.update_layout(barmode="group", yaxis_title="subsidy + penalty NPV (MUSD)",
                      title="Each future under the stochastic plan, the reference plan and "
                            "its own")
    return fig


def report(result: StochasticResult) -> str:
    """Return the stochastic program's report page."""
    s, t = result.summary, result.tables
    plan = ", ".join(f"{p['facility']} {p['fid_year']}" for p in s["plan"]) or "nothing"
    when = "in every year" if s["decide_by"] is None else f"up to {s['decide_by']}"
    return output.page("Stochastic program", [
        f"<p>First stage: FIDs {when}, shared by every future. Plan: {output.text(plan)}.</p>",
        "<p>EVPI: what knowing the future before deciding would save; VSS: what this plan "
        "saves over holding the reference plan (MUSD NPV, expected).</p>",
        output.table(t["measures"]),
        output.figure(objectives_figure(t["objectives"]), "objectives"),
        "<h2>Futures under the stochastic plan</h2>", output.table(t["futures"]),
        "<h2>Per program</h2>", output.table(t["programs"]),
        "<h2>FIDs per future</h2>", output.table(t["fids"])])
