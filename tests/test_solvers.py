"""Other solvers than HiGHS (optimize.solvers): the same optimum and plan, typed outcomes.

SCIP and CBC come with the test extra; Gurobi and CPLEX run where their packages import and
skip where their size-limited licence refuses the example (Gurobi's allows 2,000 rows and
columns, CPLEX Community 1,000; the example has 1,842 columns). The hand-derived tiny chain
fits every licence, so each solver's option names are exercised somewhere.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace

import pytest
from instances import EXAMPLE, single_chain
from pyomo.opt import Solution, SolverResults, TerminationCondition

from optimize.cli import main
from optimize.data.checks import load
from optimize.data.modeldata import frozen
from optimize.errors import SolverUnavailable
from optimize.model import build_model
from optimize.pipeline import options_for, run
from optimize.solve import HighsModel, SolveOptions, Status
from optimize.solvers import (
    PyomoSolverModel,
    relative_gap,
    require,
    solver_model,
    status_of,
)

#: HiGHS's optimum of inputs/example (tests/test_shipped.py) and its funded plan.
EXAMPLE_OPTIMUM = 788.4680386019505
EXAMPLE_PLAN = {"heavy-hardrock-mine": 2027, "heavy-separation-new": 2028, "ndfeb-line": 2028}
MODES = ("min_subsidy", "max_coverage")
SOLVERS = ("scip", "cbc", "gurobi", "cplex")
PACKAGES = {"scip": "pyscipopt", "cbc": "pulp", "gurobi": "gurobipy", "cplex": "cplex"}


def funded(summary):
    return {f["facility"]: f["fid_year"] for f in summary["funded"]}


def example_naming(solver, tmp_path):
    """Return a copy of inputs/example whose settings.toml names ``solver``."""
    inputs = tmp_path / "in"
    shutil.copytree(EXAMPLE, inputs)
    settings = inputs / "settings.toml"
    text = settings.read_text()
    assert 'name = "highs"' in text
    settings.write_text(text.replace('name = "highs"', f'name = "{solver}"'))
    return inputs


@pytest.fixture(scope="module")
def highs_runs():
    """The example solved by HiGHS in each mode: what every other solver must match."""
    return {mode: run(EXAMPLE, mode=mode).summary for mode in MODES}


def test_highs_pins_hold(highs_runs):
    s = highs_runs["min_subsidy"]
    assert s["objective_musd"] == pytest.approx(EXAMPLE_OPTIMUM, rel=1e-6)
    assert funded(s) == EXAMPLE_PLAN


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_finds_the_highs_optimum_and_plan(solver, mode, highs_runs, solve_checked):
    pytest.importorskip(PACKAGES[solver], reason=f"{solver}: {PACKAGES[solver]} not installed")
    result = solve_checked(EXAMPLE, solver=solver, mode=mode)  # every invariant, on a plan
    s, expected = result.summary, highs_runs[mode]
    if result.status is Status.ERROR and "licence refuses" in s["message"]:
        pytest.skip(s["message"])
    assert result.status is Status.OPTIMAL, s["message"]
    if mode == "min_subsidy":
        assert s["objective_musd"] == pytest.approx(EXAMPLE_OPTIMUM, rel=1e-6)
        assert funded(s) == EXAMPLE_PLAN
    assert s["objective_musd"] == pytest.approx(expected["objective_musd"], rel=1e-6)
    assert s["penalty_npv_musd"] == pytest.approx(expected["penalty_npv_musd"], rel=1e-6)
    assert funded(s) == funded(expected)
    assert [st["stage"] for st in s["solve_stages"]] == \
        [st["stage"] for st in expected["solve_stages"]]
    # the same model: the counts are the model's own, whoever solves it
    for key in ("n_variables", "n_binaries", "n_constraints"):
        assert s[key] == expected[key], key
    # the same plan, so the same LP once its FIDs are fixed: the same marginal values
    for kind in ("annual_budget_musd_per_musd", "total_budget_musd_per_musd"):
        assert s["marginals"][kind] == pytest.approx(expected["marginals"][kind], abs=1e-6)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_solves_the_hand_derived_chain(solver, mode, solve_checked):
    # tests/test_tiny.py: optimum 10.6 MUSD with FID 2030; 43 columns, small enough for
    # every size-limited licence, so Gurobi's and CPLEX's option names are checked here.
    pytest.importorskip(PACKAGES[solver], reason=f"{solver}: {PACKAGES[solver]} not installed")
    result = solve_checked(single_chain(), solver=solver, mode=mode, mip_gap=0.0)
    assert result.status is Status.OPTIMAL, result.summary["message"]
    assert result.summary["objective_musd"] == pytest.approx(10.6, abs=1e-4)
    assert funded(result.summary) == {"line": 2030}


def test_summary_records_the_solver_and_what_it_was_passed(tmp_path):
    out = tmp_path / "run"
    assert main(["solve", str(EXAMPLE), "--out", str(out), "--solver", "scip", "--no-report",
                 "--mip-gap", "1e-5", "--threads", "1", "--mode", "max_coverage"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["solver"].startswith("SCIP ") and s["solver"].split()[1][0].isdigit()
    options = s["solver_options"]
    assert (options["solver"], options["mip_gap"], options["time_limit_s"]) == \
        ("scip", 1e-5, 120.0)
    assert options["passed"] == {"limits/time": 120.0, "limits/gap": 1e-5, "lp/threads": 1,
                                 "randomization/randomseedshift": 0}
    assert s["solve_seconds"] > 0


def test_highs_records_its_options_as_passed(highs_runs):
    options = highs_runs["min_subsidy"]["solver_options"]
    assert options["solver"] == "highs"
    assert options["passed"] == {"time_limit": 120.0, "mip_rel_gap": 1e-6, "threads": 1,
                                 "random_seed": 0}


@pytest.mark.parametrize("solver", ["scip", "cbc"])
def test_no_plan_at_the_time_limit_is_a_status_not_an_exception(solver):
    s = run(EXAMPLE, solver=solver, time_limit_s=1e-9).summary
    assert s["status"] == "time_limit", s["message"]
    assert s["objective_musd"] is None and "no plan" in s["message"]


def test_settings_choose_the_solver_and_flags_override_it(tmp_path):
    inputs = example_naming("cbc", tmp_path)
    data = load(inputs)
    assert (data.solver, options_for(data).solver) == ("cbc", "cbc")
    assert options_for(data, solver="highs").solver == "highs"
    assert run(inputs).summary["solver"].startswith("CBC ")


def test_an_updated_and_rescaled_model_solves_as_a_fresh_one():
    old = load(EXAMPLE)
    new = replace(old, prices=frozen({k: 1.5 * v for k, v in old.prices.items()}))
    options = SolveOptions(mode="max_coverage", solver="cbc", mip_gap=1e-6)
    model = solver_model(build_model(old), options)
    assert isinstance(model, PyomoSolverModel)
    model.update(new)
    model.scale_budgets(2.0)
    fresh = HighsModel(build_model(new), replace(options, solver="highs"))
    fresh.scale_budgets(2.0)
    a, b = model.solve(), fresh.solve()
    assert a.status is b.status is Status.OPTIMAL
    assert a.objective_musd == pytest.approx(b.objective_musd, rel=1e-6)
    assert a.solver_objective == pytest.approx(b.solver_objective, rel=1e-6)  # stage two's
    # the two stages leave the model as they found it, ready for the next solve
    assert model.m.component("stage_objective") is None
    assert model.m.component("penalty_cap") is None
    assert model.m.objective.active


def test_write_names_rows_and_columns(tmp_path):
    model = solver_model(build_model(load(EXAMPLE)), SolveOptions(solver="cbc"))
    model.write(tmp_path / "model.lp")
    text = (tmp_path / "model.lp").read_text()
    assert "fund_at_most_once" in text and "demand_met" in text


# -- Pyomo's outcomes mapped onto Status --------------------------------------------------

def results(condition, lower=None, upper=None, solution=False, message=None):
    r = SolverResults()
    r.solver.termination_condition = condition
    if lower is not None:
        r.problem.lower_bound, r.problem.upper_bound = lower, upper
    if solution:
        r.solution.insert(Solution())
    if message:
        r.solver.message = message
    return r


TC = TerminationCondition


@pytest.mark.parametrize(("outcome", "status", "said"), [
    (results(TC.optimal, 100.0, 100.0, solution=True), Status.OPTIMAL, ""),
    (results(TC.maxTimeLimit, 90.0, 100.0, solution=True), Status.FEASIBLE, "with a plan"),
    (results(TC.maxTimeLimit, 90.0, float("inf"), solution=True), Status.TIME_LIMIT, "no plan"),
    (results(TC.maxTimeLimit), Status.TIME_LIMIT, "no plan"),
    # CBC stopped in its root LP: a fractional point, objective 1e50, is no plan
    (results(TC.intermediateNonInteger, 601.2, 1e50, solution=True), Status.TIME_LIMIT,
     "no plan"),
    (results(TC.infeasible), Status.INFEASIBLE, "infeasible"),
    (results(TC.infeasibleOrUnbounded), Status.INFEASIBLE, "infeasible or unbounded"),
    (results(TC.optimal), Status.ERROR, "no plan"),
    (results(TC.solverFailure, message="out of cheese"), Status.ERROR, "out of cheese"),
    (results(TC.licensingProblems), Status.ERROR, "licensingProblems"),
])
def test_pyomo_outcomes_map_onto_status(outcome, status, said):
    got, message = status_of(outcome, "X")
    assert got is status
    assert said in message


def test_feasible_at_a_limit_reports_its_gap():
    outcome = results(TC.maxTimeLimit, 90.0, 100.0, solution=True)
    assert relative_gap(outcome, Status.FEASIBLE) == pytest.approx(0.1)
    assert relative_gap(results(TC.optimal), Status.OPTIMAL) == 0.0


# -- unknown or missing solvers: exit 2 with what to install ------------------------------

def test_an_unknown_solver_flag_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["solve", str(EXAMPLE), "--solver", "glpk"])
    assert exc.value.code == 2
    assert "invalid choice: 'glpk'" in capsys.readouterr().err


def test_an_unknown_solver_setting_names_file_and_column(tmp_path, capsys):
    inputs = example_naming("scipp", tmp_path)
    assert main(["solve", str(inputs), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "settings.toml, column solver.name: 'scipp' is not one of highs, scip" in err
    assert "did you mean 'scip'" in err and "Traceback" not in err


def test_an_unknown_solver_in_the_api_is_unavailable():
    with pytest.raises(SolverUnavailable, match="unknown solver 'glpk'"):
        require("glpk")


@pytest.mark.parametrize("command", ["solve", "frontier", "compare"])
def test_a_solver_not_installed_exits_2_saying_what_to_install(command, tmp_path, monkeypatch,
                                                               capsys):
    monkeypatch.setitem(sys.modules, "pyscipopt", None)  # as if not installed
    monkeypatch.chdir(tmp_path)
    args = [command, str(EXAMPLE), "--solver", "scip"]
    assert main(args + (["--out", "run"] if command == "solve" else [])) == 2
    err = capsys.readouterr().err
    assert "solver 'scip' needs the pyscipopt package: pip install 'ree-plan[scip]'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "results").exists() and not (tmp_path / "run").exists()


def test_cbc_not_installed_and_not_on_path_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pulp", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["solve", str(EXAMPLE), "--solver", "cbc", "--out", str(tmp_path / "r")]) == 2
    assert "solver 'cbc' needs the CBC program: pip install 'ree-plan[cbc]'" in \
        capsys.readouterr().err


def test_a_solver_named_in_settings_but_missing_exits_2(tmp_path, monkeypatch, capsys):
    inputs = example_naming("gurobi", tmp_path)
    monkeypatch.setitem(sys.modules, "gurobipy", None)
    assert main(["solve", str(inputs), "--out", str(tmp_path / "r")]) == 2
    assert "pip install 'ree-plan[gurobi]'" in capsys.readouterr().err


def test_a_licence_that_refuses_the_size_is_a_solver_failure(tmp_path, capsys):
    pytest.importorskip("cplex", reason="cplex not installed")
    out = tmp_path / "run"
    code = main(["solve", str(EXAMPLE), "--solver", "cplex", "--out", str(out), "--no-report"])
    s = json.loads((out / "summary.json").read_text())
    if s["status"] == "optimal":
        pytest.skip("this CPLEX licence is not size-limited")
    assert code == 1 and s["status"] == "error"
    assert "CPLEX's licence refuses a model of this size" in s["message"]
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "licence refuses" in captured.out
