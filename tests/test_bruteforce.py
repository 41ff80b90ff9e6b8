"""Brute force: fix every FID combination, solve each LP, and compare the best with the MIP.

Random tiny instances have at most 4 candidates with at most 3 FID years each, so at most
4^4 = 256 LPs. The LPs are solved by HiGHS on the same standard form with integrality
dropped and the fid columns fixed, which checks branch and bound and presolve, not the
compilation (the invariant checker covers that independently).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from strategies import instances

from optimize.data.checks import load
from optimize.model import build_model
from optimize.solve import SolveOptions, compile_model, new_highs, solve


def enumerate_optimum(folder) -> tuple[float, int]:
    data = load(folder)
    built = build_model(data)
    form = compile_model(built)
    column = {id(v): j for j, v in enumerate(form.columns)}
    fid_cols: dict[str, list[tuple[int, int]]] = {}
    for (f, y), v in built.fid.items():
        fid_cols.setdefault(f, []).append((y, column[id(v)]))
    choices = [[None, *cols] for cols in fid_cols.values()]
    relaxed = replace(form, integer=np.zeros(form.n_col, dtype=bool))  # FIDs fixed below
    best, feasible = math.inf, 0
    for combo in itertools.product(*choices):
        lower, upper = form.col_lower.copy(), form.col_upper.copy()
        for cols, pick in zip(fid_cols.values(), combo, strict=True):
            for _, j in cols:
                lower[j] = upper[j] = 0.0
            if pick is not None:
                lower[pick[1]] = upper[pick[1]] = 1.0
        h = new_highs()
        h.setOptionValue("threads", 1)
        relaxed.pass_to(h)
        h.changeColsBounds(len(lower), np.arange(len(lower)), lower, upper)
        h.run()
        if h.getModelStatus() == h.getModelStatus().kOptimal:
            feasible += 1
            best = min(best, h.getInfo().objective_function_value)
    return best, feasible


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(inst=instances())
def test_enumeration_matches_the_mip_optimum(tmp_path_factory, inst):
    folder = inst.write(tmp_path_factory.mktemp("bf") / "in")
    best, feasible = enumerate_optimum(folder)
    assert feasible >= 1  # funding nothing is always a plan
    result = solve(build_model(load(folder)), SolveOptions(mip_gap=0.0))
    assert result.status.has_solution
    # Both sides include the funding tie-break (solve.funding_priority), so compare those.
    assert result.solver_objective == pytest.approx(best, rel=1e-6, abs=1e-6)


def test_enumeration_sees_every_combination(tmp_path):
    from instances import single_chain

    inst = single_chain()  # one candidate, FID years 2030-2032: 4 combinations
    best, feasible = enumerate_optimum(inst.write(tmp_path / "in"))
    assert feasible == 4
    assert best == pytest.approx(10.6)
