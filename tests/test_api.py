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
