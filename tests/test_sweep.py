"""Sweeps: compare equals separate solves, the frontier never falls, dask equals the local
pool, and a sweep whose worker is killed resumes with each scenario solved exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from instances import EXAMPLE, children

from optimize import sweep
from optimize.data.checks import load_inputs
from optimize.pipeline import run


def budget_scenario(folder: Path, name: str, factor: float) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'base = "{EXAMPLE}"\n[[change]]\ntable = "funding"\ncolumn = "annual_musd"\n'
                    f'multiply = {factor}\n')
    return path


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenarios")
    paths = [EXAMPLE, budget_scenario(folder, "half-budget", 0.5),
             budget_scenario(folder, "tight-budget", 0.2)]
    bad = folder / "broken.toml"
    bad.write_text(f'base = "{EXAMPLE}"\n[[change]]\ntable = "facilities"\n'
                   'where = { facility = "nope" }\ncolumn = "capacity_t"\nset = 1\n')
    return paths, bad


def test_compare_equals_separate_solves_and_reports_failures(scenarios, tmp_path):
    paths, bad = scenarios
    result = sweep.compare([*paths, bad], tmp_path / "cmp", workers=2)
    assert set(result.failures) == {"broken"}
    assert "matches no row" in result.failures["broken"]
    table = result.table.set_index(["metric", "item"])
    assert table.loc[("status", ""), "broken"] == "failed"
    assert "matches no row" in table.loc[("message", ""), "broken"]
    for path in paths:
        name = path.stem if path.suffix == ".toml" else path.name
        alone = run(path, out=tmp_path / f"alone-{name}", threads=1).summary
        assert table.loc[("subsidy_npv_musd", ""), name] == alone["subsidy_npv_musd"]
        assert table.loc[("penalty_npv_musd", ""), name] == alone["penalty_npv_musd"]
        for program, short in alone["shortfall_t"].items():
            assert table.loc[("shortfall_t", program), name] == short
        for f in alone["funded"]:
            assert table.loc[("fid_year", f["facility"]), name] == f["fid_year"]
    written = (tmp_path / "cmp" / "comparison.csv").read_text()
    assert written.startswith("metric,item,example,half-budget,tight-budget,broken")
    # Three scenarios of one structure on two workers: a worker takes the third in place.
    built = [json.loads((tmp_path / "cmp" / "runs" / n / "summary.json").read_text())["model"]
             for n in ("example", "half-budget", "tight-budget")]
    assert sorted(built) == ["built", "built", "updated"]


def test_compare_puts_scenarios_of_one_structure_next_to_each_other(scenarios, tmp_path):
    paths, bad = scenarios
    slower = tmp_path / "slower.toml"
    slower.write_text(f'base = "{EXAMPLE}"\n[[change]]\ntable = "facilities"\n'
                      'where = { status = "candidate" }\ncolumn = "lead_years"\nadd = 1\n')
    assert load_inputs(slower).name == "slower"  # valid, so it is grouped on its structure
    named = [("example", paths[0]), ("slower", slower), ("broken", bad), ("half", paths[1])]
    order = [n for n, _ in sweep.same_structure_together(named)]
    assert order == ["example", "half", "slower", "broken"]


def decision_scenario(folder: Path) -> Path:
    """The example with its NdFeB line's phase 2 (which the optimum leaves out) forced in."""
    path = folder / "phase2.toml"
    path.write_text(f'base = "{EXAMPLE}"\n[[decision]]\nfacility = "ndfeb-line-phase2"\n'
                    'fund_by = 2030\n')
    return path


def test_compare_reports_what_decisions_cost_as_two_separate_solves_do(tmp_path):
    from optimize.report.html import write_report

    forced = decision_scenario(tmp_path)
    result = sweep.compare([EXAMPLE, forced], tmp_path / "cmp", workers=2)
    assert result.failures == {}
    table = result.table.set_index(["metric", "item"])
    with_decisions = run(forced, threads=1).summary
    without = run(EXAMPLE, threads=1).summary
    cost = table.loc[("decisions_cost_musd", ""), "phase2"]
    assert cost >= 0
    assert cost == pytest.approx(with_decisions["objective_musd"] - without["objective_musd"],
                                 rel=1e-9, abs=1e-9)
    assert table.loc[("unforced_objective_musd", ""), "phase2"] == \
        pytest.approx(without["objective_musd"], rel=1e-9)
    assert table.loc[("decisions", ""), "phase2"] == "ndfeb-line-phase2 funded by 2030"
    assert table.loc[("decisions_cost_musd", ""), "example"] is None  # no decisions, no row
    summary = json.loads((tmp_path / "cmp" / "runs" / "phase2" / "summary.json").read_text())
    assert summary["decisions"] == [{"facility": "ndfeb-line-phase2", "fund_by": 2030}]
    assert summary["decisions_cost_musd"] == pytest.approx(
        summary["objective_musd"] - summary["unforced_objective_musd"], rel=1e-12)
    assert summary["unforced_status"] == "optimal"
    assert "ndfeb-line-phase2" not in {f["facility"] for f in summary["unforced_funded"]}
    assert "what the decisions cost (MUSD)" in write_report(tmp_path / "cmp").read_text()
    assert "what the decisions cost" in write_report(tmp_path / "cmp" / "runs" / "phase2") \
        .read_text()


def test_a_failed_solve_without_the_decisions_is_a_cell_not_a_crash(tmp_path, monkeypatch):
    forced = decision_scenario(tmp_path)
    real_run = sweep.run

    def unforced_fails(inputs, *args, ignore_decisions=False, **kwargs):
        if ignore_decisions:
            raise RuntimeError("HiGHS fell over")
        return real_run(inputs, *args, **kwargs)

    monkeypatch.setattr(sweep, "run", unforced_fails)
    [summary] = sweep.solve_scenario(str(forced), str(tmp_path / "out"), {"threads": 1})
    assert summary["status"] == "optimal"
    assert (summary["unforced_status"], summary["decisions_cost_musd"]) == ("error", None)
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["unforced_status"] == \
        "error"
    no_plan = {**summary, "unforced_status": "time_limit", "unforced_message": ""}
    table = sweep.comparison_table(["a", "b"], {"a": summary, "b": no_plan}, {})
    cells = table.set_index(["metric", "item"]).loc[("decisions_cost_musd", "")]
    assert cells["a"] == "unforced solve error: RuntimeError: HiGHS fell over"
    assert cells["b"] == "unforced solve time_limit"


def test_frontier_never_falls_and_matches_a_rebuilt_solve(tmp_path):
    scales = sweep.parse_scales("0:1:0.25")
    assert scales == [0.0, 0.25, 0.5, 0.75, 1.0]
    result = sweep.frontier(EXAMPLE, scales, tmp_path / "fr", workers=2)
    table = result.table
    assert list(table.status) == ["optimal"] * 5
    coverage = table.coverage.tolist()
    assert coverage[0] == pytest.approx(0.0, abs=1e-9)
    assert all(b >= a - 1e-6 for a, b in zip(coverage, coverage[1:], strict=False))
    assert coverage[-1] > coverage[1] > 0
    # The re-solved model at scale 1 equals a fresh build in max_coverage mode.
    fresh = run(EXAMPLE, mode="max_coverage", threads=1).summary
    at_one = json.loads((tmp_path / "fr" / "runs" / "scale-1.00" / "summary.json").read_text())
    assert at_one["penalty_npv_musd"] == pytest.approx(fresh["penalty_npv_musd"], rel=1e-6)
    assert at_one["subsidy_npv_musd"] == pytest.approx(fresh["subsidy_npv_musd"], rel=1e-6)
    order = (tmp_path / "fr" / "entry_order.csv").read_text().splitlines()
    assert order[0] == "facility,first_budget_scale,fid_year" and len(order) > 1


def test_dask_cluster_gives_the_same_numbers_as_the_local_pool(scenarios, tmp_path):
    from distributed import LocalCluster

    paths, _ = scenarios
    local = sweep.compare(paths, tmp_path / "local", workers=2).table
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        remote = sweep.compare(paths, tmp_path / "dask", scheduler=cluster.scheduler_address).table
        frontier = sweep.frontier(EXAMPLE, [0.5, 1.0], tmp_path / "dfr",
                                  scheduler=cluster.scheduler_address).table
    assert local.equals(remote)
    assert frontier.status.tolist() == ["optimal", "optimal"]


def test_resume_after_a_killed_worker_solves_each_scenario_once(tmp_path):
    folder = tmp_path / "sc"
    folder.mkdir()
    paths = [budget_scenario(folder, f"s{i}", 0.3 + 0.1 * i) for i in range(8)]
    cwd = tmp_path / "work"
    cwd.mkdir()
    cmd = [sys.executable, "-m", "optimize", "compare", *map(str, paths), "--name", "k",
           "--workers", "2"]
    runs = cwd / "results" / "compare-k" / "runs"
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not list(runs.glob("*/summary.json")):
        time.sleep(0.05)
    workers = [p for p in children(proc.pid)
               if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text(errors="ignore")]
    assert workers, "no worker process found to kill"
    os.kill(workers[0], signal.SIGKILL)
    proc.wait(timeout=120)
    done_before = {p.parent.name: json.loads(p.read_text())["run_id"]
                   for p in runs.glob("*/summary.json")}
    assert 1 <= len(done_before) < 8, "the kill should interrupt the sweep"
    assert proc.returncode == 1
    resumed = subprocess.run([*cmd, "--resume"], cwd=cwd, capture_output=True, text=True,
                             check=False)
    assert resumed.returncode == 0, resumed.stderr
    done_after = {p.parent.name: json.loads(p.read_text())["run_id"]
                  for p in runs.glob("*/summary.json")}
    assert sorted(done_after) == [f"s{i}" for i in range(8)]
    for name, run_id in done_before.items():
        assert done_after[name] == run_id, f"{name} was solved again"
    assert not [p for p in runs.iterdir() if p.name.startswith(".")], "half-written run left"
