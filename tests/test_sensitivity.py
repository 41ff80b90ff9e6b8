"""Sensitivity on the single chain (tests/instances.py; derivations in tests/test_stress.py).

Base: line funded 2030, subsidy 3 - 2.4 = 0.6, covered from 2031. Capex x0.5 / x2: subsidy
0.3 / 1.2. Demand x0.5 / x2 (within the line's 100 t): subsidy 0.6, covered from 2031.
Lead +1 (2 years): FID 2030, output 2032, capex 1.5 + 1.5 less salvage 3 x 9/10 = 0.3,
covered from 2032; lead -1 is 0 years, which the inputs refuse.
"""

from __future__ import annotations

import pandas as pd
import pytest
from instances import single_chain

from optimize.cli import main
from optimize.uncertainty.sensitivity import DEFAULT_RANGES, read_ranges

RANGES = """
[[group]]
name = "capex"
table = "facilities"
where = { status = "candidate" }
column = "capex_musd"
low = { multiply = 0.5 }
high = { multiply = 2 }

[[group]]
name = "demand"
table = "demand"
column = "units"
low = { multiply = 0.5 }
high = { multiply = 2 }

[[group]]
name = "lead times"
table = "facilities"
where = { status = "candidate" }
column = "lead_years"
low = { add = -1 }
high = { add = 1 }
"""


def test_the_shipped_ranges_read():
    names = [g.name for g in read_ranges(DEFAULT_RANGES)]
    assert names[:2] == ["NdPr price", "Dy price"]
    assert {"capex", "lead times", "demand", "budgets", "recoveries",
            "availability shares"} <= set(names)


def test_sensitivity_of_the_chain(tmp_path, monkeypatch, capsys):
    folder = single_chain().write(tmp_path / "in")
    ranges = tmp_path / "ranges.toml"
    ranges.write_text(RANGES)
    monkeypatch.chdir(tmp_path)
    assert main(["sensitivity", str(folder), "--ranges", str(ranges), "--name", "s",
                 "--workers", "1"]) == 1  # lead -1 fails; the others are solved
    err = capsys.readouterr().err
    assert "failed: lead times low: ranges.toml, group lead times, low:" in err
    t = pd.read_csv(tmp_path / "results" / "sensitivity-s" / "sensitivity.csv")
    t = t.set_index(["group", "level"])
    assert t.loc[("lead times", "low"), "status"] == "invalid"
    solved = t[t.status == "optimal"]
    assert solved.subsidy_npv_musd.to_dict() == pytest.approx({
        ("base", "base"): 0.6, ("capex", "low"): 0.3, ("capex", "high"): 1.2,
        ("demand", "low"): 0.6, ("demand", "high"): 0.6, ("lead times", "high"): 0.3})
    assert solved.first_full_coverage_year.to_dict() == {
        ("base", "base"): 2031, ("capex", "low"): 2031, ("capex", "high"): 2031,
        ("demand", "low"): 2031, ("demand", "high"): 2031, ("lead times", "high"): 2032}
    # Demand is a parameter: its cases update the kept model instead of rebuilding it.
    assert solved.loc[("demand", "high"), "model"] == "updated"
    assert "tornado-subsidy" in (tmp_path / "results" / "sensitivity-s" / "report.html"
                                 ).read_text()


def test_a_bad_ranges_file_is_exit_2(tmp_path, capsys):
    folder = single_chain().write(tmp_path / "in")
    ranges = tmp_path / "ranges.toml"
    ranges.write_text(RANGES.replace('"capex_musd"', '"capex"').replace("add = 1", "add = 'x'"))
    assert main(["sensitivity", str(folder), "--ranges", str(ranges)]) == 2
    err = capsys.readouterr().err
    assert "ranges.toml: group 1 (capex), column: unknown column 'capex' in facilities; " \
           "did you mean 'capex_musd'?" in err
    assert "ranges.toml: group 3 (lead times), high: add needs a finite number, got 'x'" in err
