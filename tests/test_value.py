"""Project value on the single chain (tests/instances.py; derivations in tests/test_stress.py).

At 1000 USD/kg the optimum funds the line in 2030 (10.6 MUSD); without it every t is short:
30 MUSD, so the line is worth 19.4. At 10 USD/kg the optimum funds nothing (0.3); the line
funded anyway by 2030 costs 0.7 (0.4 more); by 2032 (its first FID year 2030 + 3, the
horizon's end) its FID is in 2032, with all of its capex back as salvage: 0 more.
"""

from __future__ import annotations

import pandas as pd
import pytest
from instances import single_chain

from optimize.cli import main
from optimize.data.checks import load
from optimize.uncertainty.value import deposit_decisions, solve_case


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    root = tmp_path_factory.mktemp("value")
    folder = single_chain().write(root / "in")
    cheap = root / "cheap.toml"
    cheap.write_text('base = "in"\n[[change]]\ntable = "programs"\ncolumn = '
                     '"penalty_usd_per_kg"\nset = 10\n')
    return folder, cheap


def test_deposit_decisions_default_to_three_years_after_the_first_fid(chain):
    folder, _ = chain
    (d,) = deposit_decisions(load(folder), ["line"], None)
    assert (d.facility, d.kind, d.year) == ("line", "fund_by", 2032)
    assert deposit_decisions(load(folder), None, None) == []  # no candidate mine


def test_value_command(chain, tmp_path, monkeypatch, capsys):
    folder, cheap = chain
    monkeypatch.chdir(tmp_path)
    assert main(["value", str(folder), "--deposits", "line", "--name", "a",
                 "--workers", "1"]) == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "results" / "value-a" / "value.csv")
    assert table.case.tolist() == ["optimum", "without"]  # the funded line is not "anyway"
    assert table.objective_musd.tolist() == pytest.approx([10.6, 30.0])
    assert table.value_musd.tolist() == pytest.approx([0.0, 19.4])
    (row,) = solve_case(str(cheap), "anyway", deposit_decisions(load(cheap), ["line"], 2030)[0],
                        {})
    assert row["objective_musd"] == pytest.approx(0.7)
    assert row["funded"] == "line 2030"
    (row,) = solve_case(str(cheap), "anyway", deposit_decisions(load(cheap), ["line"], None)[0],
                        {})
    assert row["objective_musd"] == pytest.approx(0.3)
    assert row["funded"] == "line 2032"


def test_bad_deposits_are_exit_2(chain, tmp_path, monkeypatch, capsys):
    folder, _ = chain
    monkeypatch.chdir(tmp_path)
    assert main(["value", str(folder), "--deposits", "lin"]) == 2
    assert "--deposits: unknown facility 'lin'; did you mean 'line'?" in capsys.readouterr().err
    assert main(["value", str(folder), "--deposits", "mine"]) == 2
    assert "'mine' is not a candidate" in capsys.readouterr().err
    assert main(["value", str(folder), "--deposits", "line", "--fund-by", "2040"]) == 2
    assert "--fund-by: 2040 is outside the years in which 'line' may take its FID, 2030-2032" \
        in capsys.readouterr().err
