r"""Progressive hedging with mpi-sppy over MPI ranks: the stochastic program for many futures.

Each future is the deterministic model (docs/formulation.md) with a copy of the first stage,
``first_stage[f,y]`` for every FID up to the decision year that some future allows, tied
to its own ``fid`` where it allows it (``non_anticipativity``, as in the extensive form).
mpi-sppy's PH spreads the futures over the ranks (``mpiexec -n N``), solves each with HiGHS
(through Pyomo's ``appsi_highs``) and drives the copies to agree. HiGHS cannot solve the
quadratic proximal term; for binaries :math:`x^2 = x`, so the term is linear
(``linearize_binary_proximal_terms``) and exact.

Rho is cost-proportional (Watson and Woodruff, 2011): for a FID of f in year y,

.. math::

    \rho_{f,y} = \max\Big(\rho_{min},\ r \sum_{t=y}^{y + lead_f - 1} DF_t\,
    \frac{public\_share_f\, capex_f}{lead_f}\Big)

the public capex NPV the FID commits, times the factor ``r`` (``--rho-factor``, default
``RHO_FACTOR``). After PH the plan is the consensus rounded (per facility, the year with
the largest average above 1/2); each rank solves its futures with that plan held (later
FIDs free), and the expected objective is reported with PH's trivial bound (each future
alone: a lower bound on the stochastic program's optimum) and the gap between them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pyomo.environ import Binary, ConcreteModel, Constraint, Expression, Var

from optimize.data.checks import load_inputs
from optimize.data.modeldata import ModelData
from optimize.errors import SolverUnavailable
from optimize.model import build_model
from optimize.model.index import build_index
from optimize.model.network import build_network
from optimize.pipeline import options_for
from optimize.uncertainty.plans import Plan, solve_loaded
from optimize.uncertainty.stochastic import highs_settings

#: Default rho factor: rho is this share of the public capex NPV a FID commits.
RHO_FACTOR = 0.1
#: Smallest rho (MUSD per unit of disagreement), for FIDs that commit no public capex.
RHO_MIN = 1.0
SOLVER = "appsi_highs"


def require_mpisppy() -> None:
    """Raise SolverUnavailable unless mpi-sppy and mpi4py can be imported."""
    try:
        import mpi4py  # noqa: F401
        import mpisppy  # noqa: F401
    except ImportError as exc:
        raise SolverUnavailable(
            f"progressive hedging needs mpi-sppy and mpi4py ({exc}); install them with pip "
            "install -e '.[mpi]' and run under mpiexec -n N") from exc


def first_stage_keys(datas: list[ModelData], decide_by: int | None) -> list[tuple[str, int]]:
    """Return the first-stage FIDs: every (f, y) some future allows, y up to decide_by."""
    keys = set()
    for data in datas:
        keys |= {k for k in build_index(data, build_network(data)).fid
                 if decide_by is None or k[1] <= decide_by}
    return sorted(keys, key=lambda k: (k[1], k[0]))


def non_anticipativity(m: ConcreteModel, keys: list[tuple[str, int]]) -> None:
    r"""Tie a future's FIDs decided now to its copy of the first stage.

    .. math::

        fid_{f,y} = first\_stage_{f,y} \qquad \forall (f, y) \in \text{fid\_years},\ y \le Y

    A first-stage FID the future does not allow is free in it, as in the extensive form.
    """
    m.first_stage = Var(keys, domain=Binary)
    m.non_anticipativity = Constraint(
        [k for k in keys if k in m.fid], rule=lambda m, f, y: m.fid[f, y] == m.first_stage[f, y])
    # A FID this future does not allow binds nothing here; one row names its copy, so that
    # the solver reports a value for it (mpi-sppy refuses a nonant no row holds).
    m.first_stage_elsewhere = Constraint(
        [k for k in keys if k not in m.fid], rule=lambda m, f, y: m.first_stage[f, y] <= 1)


def rho(m: ConcreteModel, f: str, y: int, factor: float) -> float:
    """Return the cost-proportional rho of the FID (f, y) (module docstring)."""
    data = m.data
    c = data.facilities.get(f)
    if c is None or not c.candidate:
        return RHO_MIN
    years = [t for t in range(y, y + c.lead_years) if t <= data.end_year]
    npv = sum(data.discount(t) * c.public_share * c.capex_musd / c.lead_years for t in years)
    return max(RHO_MIN, factor * npv)


def scenario_creator(name: str, paths: dict[str, str], probabilities: dict[str, float],
                     keys: list[tuple[str, int]]) -> ConcreteModel:
    """Return the model of one future for mpi-sppy: first stage attached, probability set."""
    from mpisppy.utils import sputils

    m = build_model(load_inputs(paths[name]).data)
    non_anticipativity(m, keys)
    m.first_stage_cost = Expression(expr=0.0)
    sputils.attach_root_node(m, m.first_stage_cost, [m.first_stage])
    m._mpisppy_probability = probabilities[name]
    return m


def rho_setter(m: ConcreteModel, factor: float = RHO_FACTOR) -> list[tuple[int, float]]:
    """Return (id of the nonant, rho) for every first-stage FID of a future's model."""
    return [(id(v), rho(m, f, y, factor)) for (f, y), v in m.first_stage.items()]


@dataclass
class PHResult:
    """What progressive hedging found: the plan, its expected objective, bound and gap."""

    summary: dict[str, Any]
    futures: list[dict[str, Any]]


def consensus_plan(xbar: dict[tuple[str, int], float]) -> Plan:
    """Return the plan of the averages: per facility, the year of the largest one above 1/2."""
    plan: Plan = {}
    for (f, y), x in xbar.items():
        if x > 0.5 and (f not in plan or x > xbar[f, plan[f]]):
            plan[f] = y
    return plan


def progressive_hedging(paths: dict[str, str], probabilities: dict[str, float],
                        decide_by: int | None, rho_factor: float = RHO_FACTOR,
                        max_iterations: int = 50, convthresh: float = 1e-4,
                        overrides: dict[str, Any] | None = None) -> PHResult | None:
    """Run PH on every rank; return the result on rank 0 (None on the others)."""
    require_mpisppy()
    import mpisppy.opt.ph
    from mpi4py import MPI

    started = time.perf_counter()
    comm = MPI.COMM_WORLD
    loaded = {n: load_inputs(p) for n, p in paths.items()}
    keys = first_stage_keys([x.data for x in loaded.values()], decide_by)
    first = next(iter(loaded.values()))
    solve_options = options_for(first.data, **(overrides or {}))
    # The project's HiGHS options and settings.toml's [solver.highs], as the extensive form's;
    # one thread per rank (the ranks are the parallelism).
    highs = {"output_flag": False, **highs_settings(replace(solve_options, threads=1))}
    options = {
        "solver_name": SOLVER, "PHIterLimit": max_iterations, "defaultPHrho": RHO_MIN,
        "convthresh": convthresh, "verbose": False, "display_progress": False,
        "display_timing": False, "iter0_solver_options": highs,
        "iterk_solver_options": highs, "linearize_binary_proximal_terms": True,
        "rho_setter_kwargs": {"factor": rho_factor}, "smoothed": 0,
        "asynchronousPH": False,
    }
    ph = mpisppy.opt.ph.PH(options, list(paths), scenario_creator,
                           scenario_creator_kwargs={"paths": paths,
                                                    "probabilities": probabilities,
                                                    "keys": keys},
                           rho_setter=rho_setter)
    conv, _, trivial_bound = ph.ph_main()
    ph_seconds = time.perf_counter() - started
    model = next(iter(ph.local_scenarios.values()))
    xbars = model._mpisppy_model.xbars
    xbar = {k: float(xbars["ROOT", i].value) for i, k in enumerate(model.first_stage)}
    plan = consensus_plan(xbar)
    agree = sum(1 for x in xbar.values() if min(x, 1 - x) < 1e-6) / max(1, len(xbar))
    rows = []
    for name in ph.local_scenarios:
        s = solve_loaded(loaded[name], solve_options, plan=plan, up_to=decide_by).summary
        rows.append({"future": name, "probability": probabilities[name],
                     "status": s["status"], "objective_musd": s.get("objective_musd"),
                     "subsidy_npv_musd": s.get("subsidy_npv_musd"),
                     "penalty_npv_musd": s.get("penalty_npv_musd")})
    gathered = comm.gather(rows, root=0)
    iterations = int(ph._PHIter)
    if comm.Get_rank() != 0:
        return None
    futures = sorted((r for part in gathered or [] for r in part), key=lambda r: list(paths).index(
        r["future"]))
    solved = all(r["objective_musd"] is not None for r in futures)
    expected = sum(r["probability"] * r["objective_musd"] for r in futures) if solved else None
    gap = None if expected is None else (expected - trivial_bound) / max(1.0, abs(expected))
    summary = {
        "analysis": "stochastic", "engine": "progressive hedging (mpi-sppy)",
        "ranks": comm.Get_size(), "futures": probabilities, "decide_by": decide_by,
        "plan": [{"facility": f, "fid_year": y} for f, y in sorted(plan.items(),
                                                                   key=lambda k: (k[1], k[0]))],
        "objective_musd": expected, "trivial_bound_musd": float(trivial_bound),
        "gap_to_bound": gap, "iterations": iterations, "converged": float(conv) < convthresh,
        "convergence": float(conv), "consensus_share": agree, "rho_factor": rho_factor,
        "seconds": {"ph": round(ph_seconds, 3),
                    "total": round(time.perf_counter() - started, 3)},
        "n_first_stage": len(keys),
    }
    return PHResult(summary, futures)


def write(result: PHResult, out: Path, inputs: list[str | Path]) -> None:
    """Write PH's analysis folder (rank 0): plan, futures, summary, report."""
    import pandas as pd

    from optimize.results.safety import claim
    from optimize.uncertainty import output
    from optimize.uncertainty.output import ANALYSIS_KIND

    folder = output.target(out, inputs)
    tables = {"plan": pd.DataFrame(result.summary["plan"], columns=["facility", "fid_year"]),
              "objectives": pd.DataFrame(result.futures)}
    s = result.summary
    page = output.page("Stochastic program: progressive hedging", [
        f"<p>{s['ranks']} ranks, {s['iterations']} iterations, converged: {s['converged']} "
        f"(convergence {s['convergence']:.3g}). Expected objective of the plan "
        f"{output.text(s['objective_musd'])} MUSD; bound {s['trivial_bound_musd']:,.2f}; "
        f"gap {output.text(s['gap_to_bound'])}.</p>",
        output.table(tables["plan"]), output.table(tables["objectives"])])
    with claim(folder, (ANALYSIS_KIND,)):
        output.write_analysis(folder, tables, s, page)
