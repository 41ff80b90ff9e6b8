"""A solver's own options: settings.toml's ``[solver.<solver>]`` and scenario changes.

They reach the solver after the project's own settings (so they win), summary.json records
them as passed and as the solver holds them, and HiGHS's are checked when the inputs are read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from instances import expect, single_chain

from optimize.cli import main
from optimize.data.checks import load
from optimize.pipeline import options_for, run


def chain_with(tmp_path: Path, **tables: dict) -> Path:
    inst = single_chain()
    inst.settings["solver"].update(tables)
    return inst.write(tmp_path / "inputs")


def test_highs_options_are_passed_typed_and_recorded(tmp_path):
    inputs = chain_with(tmp_path, highs={"mip_heuristic_effort": 0, "mip_allow_restart": False,
                                         "mip_rel_gap": 0.5})
    data = load(inputs)
    assert dict(data.solver_options["highs"]) == {"mip_heuristic_effort": 0,
                                                  "mip_allow_restart": False, "mip_rel_gap": 0.5}
    s = run(inputs).summary
    assert s["status"] == "optimal"
    passed, used = s["solver_options"]["passed"], s["solver_options"]["used"]
    # TOML's 0 for a real option reaches HiGHS as 0.0; the own option wins over mip_gap's
    assert passed["mip_heuristic_effort"] == 0.0 and passed["mip_allow_restart"] is False
    assert passed["mip_rel_gap"] == used["mip_rel_gap"] == 0.5
    assert s["solver_options"]["mip_gap"] == 0.0  # the project's setting, as given
    assert used == passed


def test_the_chosen_solvers_table_is_the_one_passed(tmp_path):
    inputs = chain_with(tmp_path, highs={"mip_heuristic_effort": 0.1},
                        scip={"limits/nodes": 1000})
    data = load(inputs)
    assert options_for(data).own_options == (("mip_heuristic_effort", 0.1),)
    assert options_for(data, solver="scip").own_options == (("limits/nodes", 1000),)
    assert options_for(data, solver="cbc").own_options == ()


def test_scip_takes_its_own_options(tmp_path):
    pytest.importorskip("pyscipopt")
    inputs = chain_with(tmp_path, scip={"limits/nodes": 1000, "limits/gap": 0.5})
    s = run(inputs, solver="scip").summary
    assert s["status"] == "optimal", s["message"]
    assert s["solver_options"]["passed"]["limits/nodes"] == 1000
    assert s["solver_options"]["passed"]["limits/gap"] == 0.5  # over the settings' 0.0


def test_an_option_scip_refuses_is_an_error_status_naming_it(tmp_path):
    pytest.importorskip("pyscipopt")
    s = run(chain_with(tmp_path, scip={"limits/nodez": 10}), solver="scip").summary
    assert s["status"] == "error"
    assert "limits/nodez" in s["message"]


@pytest.mark.parametrize("highs, said", [
    ({"mip_heuristic_efort": 0.1}, "did you mean 'mip_heuristic_effort'?"),
    ({"mip_allow_restart": "no"}, "takes bool, got 'no'"),
    ({"threads": 1.5}, "takes int, got 1.5"),
    ({"presolve": "sometimes"}, "HiGHS does not take 'sometimes' for presolve"),
    ({"mip_rel_gap": -1.0}, "HiGHS does not take -1.0 for mip_rel_gap"),
])
def test_a_highs_option_it_does_not_take_names_file_and_key(tmp_path, highs, said):
    inputs = chain_with(tmp_path, highs=highs)
    (key,) = highs
    expect(inputs, "settings.toml", f"solver.highs.{key}", said)


def test_a_bad_option_exits_2_with_the_message(tmp_path, capsys):
    inputs = chain_with(tmp_path, highs={"mip_allow_restart": "no"})
    assert main(["solve", str(inputs), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "settings.toml, column solver.highs.mip_allow_restart" in err
    assert "Traceback" not in err


def test_an_unknown_solvers_table_is_an_unknown_setting(tmp_path):
    expect(chain_with(tmp_path, higs={"presolve": "off"}), "settings.toml",
           "solver.higs.presolve", "unknown setting")


def test_a_scenario_sets_a_solver_option(tmp_path):
    base = single_chain().write(tmp_path / "base")
    scenario = tmp_path / "tuned.toml"
    scenario.write_text(f'base = "{base}"\n[[change]]\ntable = "settings"\n'
                        'column = "solver.highs.mip_heuristic_effort"\nset = 0.0\n')
    assert options_for(load(scenario)).own_options == (("mip_heuristic_effort", 0.0),)
    out = tmp_path / "run"
    assert main(["solve", str(scenario), "--out", str(out), "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["solver_options"]["used"]["mip_heuristic_effort"] == 0.0


def test_a_scenario_may_only_set_a_solver_option(tmp_path):
    base = single_chain().write(tmp_path / "base")
    scenario = tmp_path / "tuned.toml"
    scenario.write_text(f'base = "{base}"\n[[change]]\ntable = "settings"\n'
                        'column = "solver.highs.mip_heuristic_effort"\nmultiply = 2\n')
    expect(scenario, "tuned.toml", "change 1", "takes set")
