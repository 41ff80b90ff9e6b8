"""Scenario decisions: force or forbid a project. Bad decisions name the scenario file, the
decision's facility and the key; a forced plan keeps its decisions and never costs less
than the unforced optimum."""

from __future__ import annotations

import json

import pytest
from instances import EXAMPLE

from optimize.cli import main
from optimize.data.checks import load, load_inputs
from optimize.data.modeldata import Decision
from optimize.errors import InputError
from optimize.model import build_model
from optimize.model.parameters import same_structure
from optimize.pipeline import run

# The example: horizon 2026-2040; candidates heavy-hardrock-mine (earliest FID 2027),
# heavy-separation-new (2027), ndfeb-line (2026) and ndfeb-line-phase2 (2026, requires
# ndfeb-line). Its optimum funds the mine in 2027, the plant and the line in 2028.


def scenario(tmp_path, body: str, name: str = "s.toml"):
    path = tmp_path / name
    path.write_text(f'base = "{EXAMPLE}"\ndescription = "test"\n' + body)
    return path


def decision(facility: str, **keys) -> str:
    lines = [f'[[decision]]\nfacility = "{facility}"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def problems(path) -> list[str]:
    with pytest.raises(InputError) as info:
        load(path)
    return [str(p) for p in info.value.problems]


@pytest.fixture(scope="module")
def unforced():
    return run(EXAMPLE).summary


# -- validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("body, facility, key, parts", [
    (decision("heavy-hardrock-mien", fund_by=2030), "heavy-hardrock-mien", "facility",
     ["unknown facility", "did you mean 'heavy-hardrock-mine'"]),
    (decision("metal-plant", never=True), "metal-plant", "facility",
     ["'metal-plant' is existing, not a candidate"]),
    (decision("heavy-hardrock-mine", fund_by=2026), "heavy-hardrock-mine", "fund_by",
     ["2026 is outside", "2027-2040", "earliest_fid 2027"]),
    (decision("heavy-hardrock-mine", fid_year=2041), "heavy-hardrock-mine", "fid_year",
     ["2041 is outside", "2027-2040", "horizon 2026-2040"]),
    (decision("ndfeb-line", fund_by=2030) + decision("ndfeb-line", never=True), "ndfeb-line",
     "facility", ["decision 2", "a second decision", "decision 1 (ndfeb-line) is the first"]),
    (decision("ndfeb-line-phase2", fund_by=2030) + decision("ndfeb-line", never=True),
     "ndfeb-line-phase2", "fund_by",
     ["requires 'ndfeb-line'", "decision 2 (ndfeb-line) forbids"]),
    (decision("ndfeb-line-phase2", fid_year=2029) + decision("ndfeb-line", fid_year=2031),
     "ndfeb-line-phase2", "fid_year", ["requires 'ndfeb-line'", "only in 2031, after 2029"]),
    (decision("ndfeb-line", fund_by=2030.5), "ndfeb-line", "fund_by",
     ["must be a whole year", "2030.5"]),
    (decision("ndfeb-line", fid_year="2030"), "ndfeb-line", "fid_year",
     ["must be a whole year", "'2030'"]),
    (decision("ndfeb-line", fund_before=2030), "ndfeb-line", "fund_before",
     ["unknown key", "did you mean 'fund_by'"]),
    (decision("ndfeb-line", fund_by=2030, never=True), "ndfeb-line", "fund_by / never",
     ["needs exactly one of fund_by, never, fid_year, got fund_by, never"]),
    (decision("ndfeb-line"), "ndfeb-line", "fund_by / never / fid_year", ["got none"]),
    (decision("ndfeb-line", never=False), "ndfeb-line", "never", ["must be true"]),
])
def test_bad_decision_names_the_file_the_facility_and_the_key(tmp_path, body, facility, key,
                                                              parts):
    found = problems(scenario(tmp_path, body))
    named = [f for f in found if f.startswith("s.toml: decision ") and f"({facility})" in f
             and f", {key}" in f]
    assert any(all(p in f for p in parts) for f in named), found


def test_a_decision_on_a_facility_a_change_adds_or_drops_follows_the_changes(tmp_path):
    """Decisions are checked against the resolved tables, after the changes."""
    later = scenario(tmp_path, """
[[change]]
table = "facilities"
where = { facility = "heavy-hardrock-mine" }
column = "earliest_fid"
set = 2031
""" + decision("heavy-hardrock-mine", fund_by=2030))
    assert any("2030 is outside" in f and "2031-2040" in f for f in problems(later))


def test_decisions_and_table_problems_are_reported_together(tmp_path):
    found = problems(scenario(tmp_path, """
[[change]]
table = "facilities"
where = { facility = "metal-plant" }
column = "capacity_t"
multiply = -1
""" + decision("nobody", never=True)))
    assert any("capacity_t: must not be negative" in f for f in found), found
    assert any("decision 1 (nobody), facility: unknown facility" in f for f in found), found


def test_cli_exits_2_on_a_bad_decision_with_no_traceback(tmp_path, capsys):
    path = scenario(tmp_path, decision("ndfeb-line", fid_year=2050))
    for command in (["validate", str(path)], ["solve", str(path), "--out",
                                              str(tmp_path / "out")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "s.toml: decision 1 (ndfeb-line), fid_year: 2050 is outside" in err
        assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_decisions_live_in_model_data_and_are_structural(tmp_path):
    plain = load(EXAMPLE)
    assert plain.decisions == ()
    path = scenario(tmp_path, decision("ndfeb-line", fund_by=2030)
                    + decision("heavy-separation-new", never=True)
                    + decision("heavy-hardrock-mine", fid_year=2029))
    forced = load_inputs(path)
    assert forced.data.decisions == (Decision("ndfeb-line", "fund_by", 2030),
                                     Decision("heavy-separation-new", "never"),
                                     Decision("heavy-hardrock-mine", "fid_year", 2029))
    assert not same_structure(plain, forced.data)
    assert same_structure(plain, forced.without_decisions().data)
    assert forced.sha256 != forced.tables_sha256 == load_inputs(EXAMPLE).sha256
    assert forced.without_decisions().sha256 == forced.tables_sha256
    assert len(build_model(forced.data).project_decisions) == 3
    assert len(build_model(plain).project_decisions) == 0
    assert [Decision.from_given(d.as_given()) for d in forced.data.decisions] == \
        list(forced.data.decisions)


# -- solving ------------------------------------------------------------------------------

def funded(summary) -> dict[str, int]:
    return {f["facility"]: f["fid_year"] for f in summary["funded"]}


def test_fund_by_is_kept_and_costs_no_less(solve_checked, tmp_path, unforced):
    assert "ndfeb-line-phase2" not in funded(unforced)
    forced = solve_checked(scenario(tmp_path, decision("ndfeb-line-phase2", fund_by=2030)))
    assert forced.status == "optimal"
    plan = funded(forced.summary)
    assert plan["ndfeb-line-phase2"] <= 2030
    assert plan["ndfeb-line"] <= plan["ndfeb-line-phase2"]  # phase order still holds
    assert forced.summary["objective_musd"] >= unforced["objective_musd"] - 1e-6
    assert forced.summary["decisions"] == [{"facility": "ndfeb-line-phase2", "fund_by": 2030}]


def test_never_removes_a_project_the_optimum_funds(solve_checked, tmp_path, unforced):
    assert "heavy-separation-new" in funded(unforced)
    forced = solve_checked(scenario(tmp_path, decision("heavy-separation-new", never=True)))
    assert forced.status == "optimal"
    assert "heavy-separation-new" not in funded(forced.summary)
    assert forced.summary["objective_musd"] >= unforced["objective_musd"] - 1e-6


def test_fid_year_is_kept_and_costs_no_less(solve_checked, tmp_path, unforced):
    assert funded(unforced)["heavy-hardrock-mine"] != 2030
    forced = solve_checked(scenario(tmp_path, decision("heavy-hardrock-mine", fid_year=2030)))
    assert forced.status == "optimal"
    assert funded(forced.summary)["heavy-hardrock-mine"] == 2030
    assert forced.summary["objective_musd"] >= unforced["objective_musd"] - 1e-6


@pytest.mark.parametrize("facility", ["heavy-hardrock-mine", "heavy-separation-new",
                                      "ndfeb-line"])
def test_fid_year_at_the_unforced_year_is_the_unforced_optimum(solve_checked, tmp_path,
                                                               unforced, facility):
    """Forcing a project to where the optimum puts it anyway leaves the optimum alone."""
    year = funded(unforced)[facility]
    forced = solve_checked(scenario(tmp_path, decision(facility, fid_year=year)))
    assert forced.status == "optimal"
    assert funded(forced.summary)[facility] == year
    assert forced.summary["objective_musd"] == pytest.approx(unforced["objective_musd"],
                                                             rel=1e-6)


def test_solve_records_the_decisions_and_solves_once(tmp_path, capsys):
    path = scenario(tmp_path, decision("ndfeb-line-phase2", fund_by=2030), "phase2.toml")
    out = tmp_path / "run"
    assert main(["solve", str(path), "--out", str(out), "--no-report"]) == 0
    assert "decisions: ndfeb-line-phase2 funded by 2030" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["decisions"] == [{"facility": "ndfeb-line-phase2", "fund_by": 2030}]
    assert "unforced_objective_musd" not in summary and "decisions_cost_musd" not in summary
    assert summary["inputs_sha256"] == load_inputs(path).sha256
