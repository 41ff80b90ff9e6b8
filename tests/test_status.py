"""Optimal, feasible at a limit, no plan at a limit, and infeasible are typed results."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import highspy
import numpy as np
import pytest
from instances import EXAMPLE

from optimize.cli import main
from optimize.pipeline import run
from optimize.solve import Status, _status, new_highs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import SIZES, generate  # noqa: E402


@pytest.fixture(scope="module")
def synthetic_s(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("gen") / "S", SIZES["S"], seed=0)


def test_plan_found_before_the_gap_closes_is_feasible_with_its_gap(synthetic_s, tmp_path,
                                                                   solve_checked):
    # Stop at the first improving solution: deterministic, unlike a wall-clock limit.
    result = solve_checked(synthetic_s, mip_gap=0.0,
                           own_options=(("mip_max_improving_sols", 1),))
    assert result.status is Status.FEASIBLE
    assert result.summary["mip_gap"] > 0
    assert result.tables is not None


def test_no_plan_at_the_time_limit_is_reported_not_raised(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["solve", str(EXAMPLE), "--out", str(out), "--time-limit", "1e-9"]) == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "time_limit"
    assert summary["objective_musd"] is None
    assert sorted(p.name for p in out.iterdir()) == [".ree-plan-run", "report.html",
                                                     "summary.json"]
    assert "No plan was found" in (out / "report.html").read_text()
    assert "status: time_limit" in capsys.readouterr().out


def test_infeasible_is_a_status():
    h = new_highs()
    h.addVar(1.0, math.inf)
    h.changeColIntegrality(0, highspy.HighsVarType.kInteger)
    h.addRow(-math.inf, 0.5, 1, np.array([0]), np.array([1.0]))
    h.run()
    status, message = _status(h, True)
    assert status is Status.INFEASIBLE and "infeasible" in message


def test_optimal_run_records_solver_and_sizes(tmp_path):
    result = run(EXAMPLE, out=tmp_path / "r")
    s = result.summary
    assert s["status"] == "optimal" and s["mip_gap"] <= 1e-6
    assert s["solver"].startswith("HiGHS 1.16")
    assert s["n_variables"] > s["n_binaries"] > 0 and s["n_constraints"] > 0
    assert len(s["inputs_sha256"]) == 64
