"""Use ree-plan from Python: build the model, extend it, solve it, get the same run folder.

::

    from pyomo.environ import Constraint
    from optimize import api

    m = api.build("inputs/baseline")          # an inputs folder or a scenario .toml
    # What if Strange Lake must take its FID by 2030?
    m.strange_lake_by_2030 = Constraint(
        expr=sum(m.fid[f, y] for f, y in m.fid_years if f == "strange-lake" and y <= 2030) == 1)
    run = api.solve(m, out="results/strange-lake-2030")
    run.summary["subsidy_npv_musd"], run.tables["plan"]

``build`` returns the Pyomo ``ConcreteModel`` of docs/formulation.md: its Sets, Params,
Vars, Expressions and Constraints are named as there (``m.fid``, ``m.conc``, ``m.cap``,
``m.revenue``, ``m.annual_budget``, ...), and ``m.data`` holds the validated inputs. Add
Constraints or Vars as to any Pyomo model, or change a mutable Param
(``m.price["oxide", "Dy", 2030] = 900``). ``solve`` hands the model to the solver of the
inputs' settings (or ``solver=...``), loads the plan back onto the variables, and writes
the run folder and its report exactly as ``ree-plan solve`` does; summary.json lists the
components you added (``extensions``). The objective stays ``m.objective`` (subsidy +
penalty + the funding tie-break); ``max_coverage`` mode minimises ``m.penalty`` first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pyomo.environ import ConcreteModel

from optimize.data.checks import load_inputs
from optimize.model import build_model
from optimize.pipeline import RunResult, options_for, solve_model
from optimize.results.safety import claim, output_path
from optimize.solvers import solver_model


def build(inputs: str | Path) -> ConcreteModel:
    """Return the model of an inputs folder or scenario file (InputError if invalid)."""
    loaded = load_inputs(inputs)
    started = time.perf_counter()
    m = build_model(loaded.data)
    m.inputs = loaded
    m.inputs_path = Path(inputs)
    m.build_seconds = time.perf_counter() - started
    return m


def solve(m: ConcreteModel, out: str | Path | None = None, report: bool = True,
          **overrides: Any) -> RunResult:
    """Solve a model from ``build`` (extended or not) and, with ``out``, write its run folder.

    ``overrides`` are solve options (mode, time_limit_s, mip_gap, threads, solver).
    The result carries the summary, the tables and the solved model (``model``). ``out``
    is checked as ``ree-plan solve --out`` checks it (``optimize.results.safety``): a new or
    empty folder, or a run folder ree-plan wrote, away from the inputs.
    """
    options = options_for(m.data, **overrides)
    if out is None:
        return solve_model(m.inputs, solver_model(m, options), m.build_seconds,
                           report=False)
    inputs = [m.inputs_path] if getattr(m, "inputs_path", None) is not None else []
    with claim(output_path(out, inputs)):
        return solve_model(m.inputs, solver_model(m, options), m.build_seconds, out=out,
                           report=report)
