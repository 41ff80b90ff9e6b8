"""Stress a plan: the single chain's plan (magnet line FID 2030) held in a future where the
penalty is so low that funding is not worth it.

Single chain (tests/instances.py): 10 t/yr of demand 2030-2032, discount 0, line capex 3,
lead 1, life 10, salvage 3 x 8/10 = 2.4. At 1000 USD/kg (1 MUSD/t) the optimum funds the line
in 2030: 10 (2030 short) + 3 - 2.4 = 10.6. At 10 USD/kg (0.01 MUSD/t): nothing funded costs
30 x 0.01 = 0.3; the line in 2030 costs 0.1 + 0.6 = 0.7; regret 0.4.
"""

from __future__ import annotations

import pandas as pd
import pytest
from instances import single_chain

from optimize.cli import main
from optimize.pipeline import run
from optimize.uncertainty.plans import read_plan
from optimize.uncertainty.stress import stress_future


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    root = tmp_path_factory.mktemp("stress")
    folder = single_chain().write(root / "in")
    run(folder, out=root / "run")
    cheap = root / "cheap.toml"
    cheap.write_text('base = "in"\n[[change]]\ntable = "programs"\ncolumn = '
                     '"penalty_usd_per_kg"\nset = 10\n')
    return root, folder, cheap


def test_the_plan_is_read_from_the_run_folder(chain):
    root, _, _ = chain
    assert read_plan(root / "run") == ("in", {"line": 2030})


def test_regret_of_the_plan_in_a_cheap_future(chain):
    root, folder, cheap = chain
    (same,) = stress_future(str(folder), {"line": 2030}, None, {})
    assert same["regret_musd"] == pytest.approx(0.0, abs=1e-9)
    assert same["held_objective_musd"] == pytest.approx(10.6)
    (row,) = stress_future(str(cheap), {"line": 2030}, None, {})
    assert row["objective_musd"] == pytest.approx(0.3)
    assert row["funded"] == ""
    assert row["held_objective_musd"] == pytest.approx(0.7)
    assert row["held_subsidy_npv_musd"] == pytest.approx(0.6)
    assert row["held_shortfall_t"] == pytest.approx(10.0)
    assert row["held_funded"] == "line 2030"
    assert row["regret_musd"] == pytest.approx(0.4)
    # The programs' rows: short 2030 with the line, never covered without it.
    (prog,) = row["programs"]
    assert prog["held_first_full_coverage_year"] == 2031
    assert prog["first_full_coverage_year"] is None


def test_holding_only_early_fids_leaves_later_ones_free(chain):
    root, _, cheap = chain
    # Up to 2029 holds nothing of a 2030 FID: the future's own optimum, no regret.
    (row,) = stress_future(str(cheap), {"line": 2030}, 2029, {})
    assert row["regret_musd"] == pytest.approx(0.0, abs=1e-9)
    # A plan FID the future does not allow (2029 is before the line's earliest FID) is lost.
    (row,) = stress_future(str(cheap), {"line": 2029}, None, {})
    assert row["unavailable_fids"] == "line 2029"
    assert row["held_objective_musd"] == pytest.approx(0.3)


def test_stress_command_writes_its_tables(chain, tmp_path, monkeypatch, capsys):
    root, folder, cheap = chain
    monkeypatch.chdir(tmp_path)
    code = main(["stress", str(root / "run"), str(folder), str(cheap), "--name", "t",
                 "--workers", "1"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "results" / "stress-t" / "stress.csv")
    assert table.regret_musd.tolist() == pytest.approx([0.0, 0.4])
    assert (tmp_path / "results" / "stress-t" / "report.html").read_text().startswith(
        "<!DOCTYPE html>")
    # Again: the folder is ree-plan's, so it is replaced; a note beside it makes it refuse.
    (tmp_path / "results" / "stress-t" / "notes.txt").write_text("mine")
    assert main(["stress", str(root / "run"), str(folder), "--name", "t"]) == 2
    assert "notes.txt" in capsys.readouterr().err


def test_a_folder_that_is_no_run_is_exit_2(tmp_path, capsys):
    assert main(["stress", str(tmp_path), str(tmp_path)]) == 2
    assert "is not a solved run folder" in capsys.readouterr().err
    assert main(["stress", str(tmp_path), str(tmp_path), "--up-to", "20x0"]) == 2
    assert "--up-to must be a whole year" in capsys.readouterr().err
