"""No false "infeasible": a solver's infeasible is re-checked with presolve off before it is
reported, since the model without decisions always has a plan (fund nothing, take the
shortfall)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from instances import EXAMPLE

from optimize import solve as solve_module
from optimize.cli import main
from optimize.data.checks import load_inputs
from optimize.model import build_model
from optimize.pipeline import options_for, run
from optimize.solve import HighsModel, Status, option_value, recheck_seconds
from optimize.solvers import PyomoSolverModel

#: HiGHS's optimum of inputs/example (tests/test_shipped.py).
EXAMPLE_OPTIMUM = 788.4680386019505
PACKAGES = {"scip": "pyscipopt", "cbc": "pulp"}


def tiny_capacities(folder: Path) -> Path:
    """The example with every facility's capacity times 1e-7: HiGHS 1.16's and SCIP's
    presolve call it infeasible; without presolve both find the plan."""
    path = folder / "tiny-capacities.toml"
    path.write_text(f'base = "{EXAMPLE}"\n[[change]]\ntable = "facilities"\n'
                    'column = "capacity_t"\nmultiply = 1e-7\n')
    return path


def forced_without_money(folder: Path) -> Path:
    """The example with no annual budget and a candidate forced in: truly infeasible."""
    path = folder / "forced-broke.toml"
    path.write_text(f'base = "{EXAMPLE}"\n[[change]]\ntable = "funding"\n'
                    'column = "annual_musd"\nmultiply = 0\n'
                    '[[decision]]\nfacility = "ndfeb-line-phase2"\nfund_by = 2030\n')
    return path


@pytest.mark.parametrize("solver", ["highs", "scip", "cbc"])
def test_tiny_capacities_give_a_plan_not_infeasible(solver, tmp_path, capsys):
    if solver in PACKAGES:
        pytest.importorskip(PACKAGES[solver])
    scenario = tiny_capacities(tmp_path)
    out = tmp_path / "run"
    assert main(["solve", str(scenario), "--solver", solver, "--out", str(out),
                 "--no-report"]) == 0, capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal", summary["message"]
    without_presolve = run(scenario, own_options=(("presolve", "off"),)).summary
    assert without_presolve["status"] == "optimal"
    assert summary["objective_musd"] == pytest.approx(without_presolve["objective_musd"],
                                                      rel=1e-6)
    for stage in summary["solve_stages"]:
        if stage.get("recheck"):
            assert stage["recheck"] == "presolve off" and "infeasible" in stage["why"]
            assert "presolve" in summary["message"]


@pytest.mark.parametrize("solver", ["highs", "scip"])
def test_an_infeasible_the_recheck_confirms_is_reported_with_why(solver, tmp_path):
    if solver in PACKAGES:
        pytest.importorskip(PACKAGES[solver])
    summary = run(forced_without_money(tmp_path), solver=solver).summary
    assert summary["status"] == "infeasible"
    assert "also with presolve off" in summary["message"]
    assert "decisions cannot all be met" in summary["message"]
    assert [(s["status"], s.get("recheck")) for s in summary["solve_stages"]] == \
        [("infeasible", None), ("infeasible", "presolve off")]


def highs_model(**overrides):
    data = load_inputs(EXAMPLE).data
    return HighsModel(build_model(data), options_for(data, **overrides))


@pytest.fixture
def first_runs_infeasible(monkeypatch):
    """Make HiGHS's first ``n`` runs report infeasible; record the presolve option of each."""
    seen: list[tuple[str, float]] = []
    forced = {"n": 1}

    def run_then_maybe_say_infeasible(h, has_integers):
        seen.append((option_value(h, "presolve"), option_value(h, "time_limit")))
        status, message, seconds = real_run(h, has_integers)
        if len(seen) <= forced["n"]:
            return Status.INFEASIBLE, "stub: infeasible", seconds
        return status, message, seconds

    real_run = solve_module._run
    monkeypatch.setattr(solve_module, "_run", run_then_maybe_say_infeasible)
    return seen, forced


def test_a_false_infeasible_is_rechecked_without_presolve_and_the_plan_reported(
        first_runs_infeasible):
    seen, _ = first_runs_infeasible
    model = highs_model()
    result = model.solve()
    assert result.status is Status.OPTIMAL
    assert result.objective_musd == pytest.approx(EXAMPLE_OPTIMUM, rel=1e-6)
    assert [p for p, _ in seen] == ["choose", "off"]
    assert 1.0 <= seen[1][1] <= seen[0][1] == 120.0  # the re-check gets what is left
    assert [(s["stage"], s["status"], s.get("recheck")) for s in result.stages] == \
        [("min_subsidy", "infeasible", None), ("min_subsidy", "optimal", "presolve off")]
    assert result.stages[1]["why"] == "HiGHS with presolve said: stub: infeasible"
    assert "without presolve, which found this plan" in result.message
    # the options are given back: the next solve runs with presolve, in the full time limit
    assert (option_value(model.h, "presolve"), option_value(model.h, "time_limit")) == \
        ("choose", 120.0)
    again = model.solve()
    assert again.status is Status.OPTIMAL and again.message == ""
    assert seen[2] == ("choose", 120.0) and len(again.stages) == 1


def test_max_coverage_rechecks_each_stage(first_runs_infeasible):
    seen, _ = first_runs_infeasible
    result = highs_model(mode="max_coverage").solve()
    assert result.status is Status.OPTIMAL
    assert [(s["stage"], s["status"], s.get("recheck")) for s in result.stages] == \
        [("min_shortfall", "infeasible", None), ("min_shortfall", "optimal", "presolve off"),
         ("min_subsidy", "optimal", None)]
    expected = run(EXAMPLE, mode="max_coverage").summary
    assert result.objective_musd == pytest.approx(expected["objective_musd"], rel=1e-6)


def test_an_infeasible_both_runs_agree_on_says_the_model_should_be_feasible(
        first_runs_infeasible):
    seen, forced = first_runs_infeasible
    forced["n"] = 2
    model = highs_model()
    result = model.solve()
    assert result.status is Status.INFEASIBLE and result.objective_musd is None
    assert "should always be feasible" in result.message
    assert "a bug in ree-plan" in result.message
    assert [p for p, _ in seen] == ["choose", "off"]
    assert option_value(model.h, "presolve") == "choose"


def test_pyomo_solvers_recheck_a_false_infeasible_with_their_presolve_off(monkeypatch):
    pytest.importorskip("pyscipopt")
    calls: list[dict] = []
    real_call = PyomoSolverModel._call

    def first_says_infeasible(self, options):
        calls.append(dict(options))
        stage = real_call(self, options)
        if len(calls) == 1:
            stage.status, stage.message = Status.INFEASIBLE, "stub: infeasible"
        return stage

    monkeypatch.setattr(PyomoSolverModel, "_call", first_says_infeasible)
    data = load_inputs(EXAMPLE).data
    model = PyomoSolverModel(build_model(data), options_for(data, solver="scip"))
    passed = dict(model.solver_options)
    result = model.solve()
    assert result.status is Status.OPTIMAL
    assert result.objective_musd == pytest.approx(EXAMPLE_OPTIMUM, rel=1e-6)
    assert calls[0] == passed and "presolving/maxrounds" not in calls[0]
    assert calls[1]["presolving/maxrounds"] == 0
    assert 1.0 <= calls[1]["limits/time"] <= passed["limits/time"]
    assert [(s["status"], s.get("recheck")) for s in result.stages] == \
        [("infeasible", None), ("optimal", "presolve off")]
    assert model.solver_options == passed  # the next solve runs with presolve again


def test_the_recheck_gets_what_is_left_of_the_time_limit():
    assert recheck_seconds(120.0, 20.0) == 100.0
    assert recheck_seconds(120.0, 119.9) == 1.0  # at least a second ...
    assert recheck_seconds(0.5, 0.4) == 0.5  # ... but never more than the limit
