"""The Python API: build the Pyomo model, extend it, solve it, get the usual run folder."""

from __future__ import annotations

import pytest
from instances import EXAMPLE
from invariants import check_run
from pyomo.environ import Constraint

from optimize import api
from optimize.errors import InputError
from optimize.pipeline import run


def test_an_extended_model_solves_into_a_checked_run_folder(tmp_path):
    plain = run(EXAMPLE)
    funded = {f["facility"] for f in plain.summary["funded"]}
    assert "ndfeb-line" in funded
    m = api.build(EXAMPLE)
    m.no_ndfeb_line = Constraint(expr=sum(m.fid[f, y] for f, y in m.fid_years
                                          if f == "ndfeb-line") == 0)
    result = api.solve(m, out=tmp_path / "run")
    assert result.status == "optimal"
    assert result.summary["extensions"] == ["no_ndfeb_line"]
    assert "ndfeb-line" not in {f["facility"] for f in result.summary["funded"]}
    assert result.summary["objective_musd"] >= plain.summary["objective_musd"] - 1e-6
    assert (tmp_path / "run" / "report.html").exists()
    assert check_run(EXAMPLE, tmp_path / "run") == []
    assert result.model is m and m.fid["ndfeb-line", 2028].value == 0


def test_an_unchanged_model_gives_the_cli_s_answer():
    m = api.build(EXAMPLE)
    result = api.solve(m)
    assert result.summary["extensions"] == []
    assert result.summary["objective_musd"] == pytest.approx(run(EXAMPLE).summary[
        "objective_musd"], rel=1e-9)


def test_a_param_changed_by_hand_is_what_gets_solved():
    m = api.build(EXAMPLE)
    for k in m.penalty_usd_per_kg:
        m.penalty_usd_per_kg[k] = 0.0
    result = api.solve(m)
    assert result.summary["penalty_npv_musd"] == 0.0
    assert result.summary["objective_musd"] < run(EXAMPLE).summary["objective_musd"]


def test_bad_inputs_raise_an_input_error(tmp_path):
    with pytest.raises(InputError):
        api.build(tmp_path / "missing")


@pytest.mark.parametrize("mode", ["min_subsidy", "max_coverage"])
def test_fixing_the_optimal_plan_by_hand_keeps_its_objective(mode):
    """Fixed variables leave the columns; their costs must stay in the objective.

    With every FID fixed where the optimum has it, the compiler moves the FIDs' capex and
    salvage into the objective's constant; the objective reported must be the optimum's.
    """
    plain = api.solve(api.build(EXAMPLE), mode=mode)
    m = api.build(EXAMPLE)
    planned = {(f["facility"], f["fid_year"]) for f in plain.summary["funded"]}
    assert planned, "the example funds something: a plan to fix"
    for k, v in m.fid.items():
        v.fix(1.0 if k in planned else 0.0)
    held = api.solve(m, mode=mode)
    for key in ("objective_musd", "subsidy_npv_musd", "penalty_npv_musd"):
        assert held.summary[key] == pytest.approx(plain.summary[key], rel=1e-7, abs=1e-6)
