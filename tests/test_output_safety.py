"""Nothing a user types destroys their files: what solve, compare, frontier and report refuse
to write, the lock on an output folder, and --write-lp checked before solving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from instances import copy_example
from outputs import install_fake_solve, make_run_folder, snapshot

from optimize import sweep
from optimize.cli import main
from optimize.results import safety
from optimize.results.safety import MARKER, OutputRefused


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A working folder with inputs, notes, a run folder and a fake solve (no solver)."""
    root = tmp_path / "work"
    root.mkdir()
    monkeypatch.chdir(root)
    copy_example(root / "inputs" / "example")
    (root / "notes.txt").write_text("my notes\n")
    make_run_folder(root / "results" / "old-run")
    calls = install_fake_solve(monkeypatch)
    return root, calls


def refused(capsys, argv, *words):
    """Run the CLI, expect exit 2 with a one-line reason holding ``words``; return stderr."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


# -- solve --out ---------------------------------------------------------------------------

def test_a_new_folder_an_empty_one_and_an_own_run_folder_are_written(work, capsys):
    root, calls = work
    assert main(["solve", "inputs/example", "--out", "results/new"]) == 0
    assert json.loads((root / "results/new/summary.json").read_text())["scenario"] == "example"
    (root / "empty").mkdir()
    assert main(["solve", "inputs/example", "--out", "empty"]) == 0
    assert (root / "empty" / MARKER).is_file()
    assert main(["solve", "inputs/example", "--out", "results/old-run"]) == 0
    assert json.loads((root / "results/old-run/summary.json").read_text())["scenario"] == \
        "example"
    assert main(["solve", "inputs/example"]) == 0  # the default, results/<inputs name>
    assert (root / "results" / "example" / "plan.csv").is_file()
    assert not [p for p in (root / "results").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("out, words", [
    ("", ["empty"]),
    (".", ["current folder"]),
    ("..", ["ancestor of the current folder"]),
    ("/", ["ancestor of the current folder"]),
    ("results/..", ["current folder"]),
    ("notes.txt", ["is a file"]),
    ("results", ["holds other ree-plan results", "old-run"]),
    ("inputs/example", ["is the inputs"]),
    ("inputs", ["holds the inputs"]),
    ("inputs/example/run", ["lies inside the inputs"]),
    ("results/.old-run.tmp-abcdefgh", ["named like ree-plan's own"]),
])
def test_solve_refuses_outputs_that_are_not_its_own(work, capsys, out, words):
    root, calls = work
    before = snapshot(root)
    refused(capsys, ["solve", "inputs/example", "--out", out], *words)
    assert calls == [], "a refused output must be refused before solving"
    assert snapshot(root) == before


def test_the_current_folders_ancestors_are_refused_by_absolute_path(work, capsys):
    root, calls = work
    for out in (str(root), str(root.parent), str(root / "results" / "..")):
        refused(capsys, ["solve", "inputs/example", "--out", out], "current folder")
    assert calls == []


def test_a_folder_that_is_not_a_run_folder_is_kept(work, capsys):
    root, calls = work
    mine = root / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    refused(capsys, ["solve", "inputs/example", "--out", "mine"], "not a ree-plan run folder",
            "thesis.tex", "new or empty folder")
    assert (mine / "thesis.tex").read_text() == "years of work"
    # A summary.json that is not ree-plan's does not make a run folder either.
    (mine / "summary.json").write_text('{"accuracy": 0.9}')
    refused(capsys, ["solve", "inputs/example", "--out", "mine"], "not a ree-plan run folder")
    assert calls == []


def test_a_run_folder_holding_a_file_of_the_users_is_kept(work, capsys):
    root, calls = work
    run = root / "results" / "old-run"
    (run / "plan-annotated.xlsx").write_text("edited by hand")
    (run / "charts").mkdir()
    refused(capsys, ["solve", "inputs/example", "--out", "results/old-run"],
            "also holds what ree-plan did not write", "plan-annotated.xlsx", "charts/")
    assert (run / "plan-annotated.xlsx").read_text() == "edited by hand"
    (run / "plan-annotated.xlsx").unlink()
    (run / "charts").rmdir()
    (run / ".DS_Store").write_text("finder")  # what file managers leave is no reason to refuse
    assert main(["solve", "inputs/example", "--out", "results/old-run"]) == 0


def test_a_run_folder_from_before_the_marker_is_recognised_by_its_summary(work, capsys):
    root, _ = work
    legacy = root / "results" / "legacy"
    legacy.mkdir()
    (legacy / "summary.json").write_text(json.dumps(
        {"scenario": "x", "status": "optimal", "objective_musd": 1.0, "inputs_sha256": "y",
         "mode": "min_subsidy"}))
    (legacy / "plan.csv").write_text("facility\nmine\n")
    (legacy / "report.html").write_text("<!DOCTYPE html>")
    assert main(["solve", "inputs/example", "--out", "results/legacy"]) == 0
    assert (legacy / MARKER).is_file()


def test_inputs_kept_under_results_are_not_their_own_default_output(work, capsys):
    """``ree-plan solve results/NAME`` writes results/NAME by default: that is the inputs."""
    root, calls = work
    copy_example(root / "results" / "mine")
    before = snapshot(root)
    refused(capsys, ["solve", "results/mine"], "is the inputs")
    refused(capsys, ["solve", str(root / "results" / "mine")], "is the inputs")
    assert snapshot(root) == before and calls == []


def test_a_scenarios_file_and_base_folder_are_inputs_too(work, capsys):
    root, calls = work
    scenarios = root / "inputs" / "scenarios"
    scenarios.mkdir()
    (scenarios / "half.toml").write_text('base = "../example"\n')
    before = snapshot(root)
    refused(capsys, ["solve", "inputs/scenarios/half.toml", "--out", "inputs/example"],
            "is the inputs")
    refused(capsys, ["solve", "inputs/scenarios/half.toml", "--out", "inputs/scenarios"],
            "holds the inputs")
    refused(capsys, ["solve", "inputs/scenarios/half.toml", "--out", "inputs/example/x"],
            "lies inside the inputs")
    assert snapshot(root) == before and calls == []
    assert main(["solve", "inputs/scenarios/half.toml"]) == 0
    assert (root / "results" / "half" / "summary.json").is_file()


@pytest.mark.parametrize("stem", [".", ".."])
def test_a_scenario_whose_name_is_a_dot_has_no_default_output(work, capsys, stem):
    """``..toml`` is named '.', ``...toml`` '..': results/. and results/.. are not theirs."""
    root, calls = work
    (root / f"{stem}.toml").write_text('base = "inputs/example"\n')
    before = snapshot(root)
    refused(capsys, ["solve", f"{stem}.toml"], "give one with --out")
    assert snapshot(root) == before and calls == []


def test_a_symbolic_link_is_followed_only_to_a_run_folder(work, capsys):
    root, _ = work
    (root / "dangling").symlink_to(root / "nowhere")
    refused(capsys, ["solve", "inputs/example", "--out", "dangling"], "broken symbolic link")
    (root / "to-notes").symlink_to(root / "notes.txt")
    refused(capsys, ["solve", "inputs/example", "--out", "to-notes"], "is a file")
    (root / "to-run").symlink_to(root / "results" / "old-run")
    assert main(["solve", "inputs/example", "--out", "to-run"]) == 0
    assert (root / "to-run").is_symlink()
    assert (root / "notes.txt").read_text() == "my notes\n"


def test_the_python_api_checks_its_output_too(work):
    from optimize import api
    from optimize.pipeline import run

    root, _ = work
    with pytest.raises(OutputRefused, match="holds the inputs"):
        run("inputs/example", out=root / "inputs")
    (root / "mine").mkdir()
    (root / "mine" / "a.txt").write_text("a")
    with pytest.raises(OutputRefused, match="not a ree-plan run folder"):
        run("inputs/example", out=root / "mine")
    m = api.build("inputs/example")
    with pytest.raises(OutputRefused, match="is the inputs"):
        api.solve(m, out="inputs/example")
    assert (root / "notes.txt").read_text() == "my notes\n"


def test_write_run_itself_will_not_replace_a_folder_it_did_not_write(tmp_path):
    from outputs import fake_summary

    from optimize.results.write import write_run

    target = tmp_path / "photos"
    target.mkdir()
    (target / "holiday.jpg").write_bytes(b"jpeg")
    with pytest.raises(OutputRefused):
        write_run(target, fake_summary("x"), None)
    assert (target / "holiday.jpg").read_bytes() == b"jpeg"
    assert [p.name for p in tmp_path.iterdir()] == ["photos"]


# -- --write-lp ----------------------------------------------------------------------------

@pytest.mark.parametrize("path, words", [
    ("model", ["unknown model format", ".lp", ".mps"]),
    ("model.txt", ["unknown model format '.txt'"]),
    ("model.LP", ["unknown model format '.LP'"]),
    ("no-such-folder/model.lp", ["does not exist"]),
    ("results/model.lp", ["folder"]),  # results/model.lp made a folder below
    ("notes.txt/model.lp", ["does not exist"]),
    ("results/new/model.lp", ["inside the output folder"]),
    ("", ["--write-lp is empty"]),
])
def test_write_lp_is_checked_before_solving(work, capsys, path, words):
    root, calls = work
    (root / "results" / "model.lp").mkdir()
    refused(capsys, ["solve", "inputs/example", "--out", "results/new", "--write-lp", path],
            *words)
    assert calls == []
    assert not (root / "results" / "new").exists()


def test_write_lp_to_an_existing_folder_is_fine(work, capsys):
    root, calls = work
    assert main(["solve", "inputs/example", "--out", "results/new", "--write-lp",
                 "model.mps"]) == 0
    assert "build" in calls


# -- two runs at once ----------------------------------------------------------------------

def test_a_second_run_on_a_locked_output_fails_before_solving(work, capsys):
    root, calls = work
    target = root / "results" / "old-run"
    with safety.locked(target):
        assert (root / "results" / ".old-run.lock").read_text().strip() == str(os.getpid())
        code = main(["solve", "inputs/example", "--out", "results/old-run"])
        err = capsys.readouterr().err
    assert code == 1, err
    assert "another ree-plan run" in err and f"process {os.getpid()}" in err
    assert calls == []
    assert not (root / "results" / ".old-run.lock").exists(), "the lock file is removed"
    assert main(["solve", "inputs/example", "--out", "results/old-run"]) == 0


def test_a_run_in_another_process_holds_the_lock(work, capsys):
    root, calls = work
    code = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from optimize.results.safety import locked
        with locked(Path({str(root / 'results' / 'old-run')!r})):
            print("locked", flush=True)
            sys.stdin.readline()
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["solve", "inputs/example", "--out", "results/old-run"]) == 1
        assert f"process {holder.pid}" in capsys.readouterr().err
        assert calls == []
    finally:
        holder.communicate("done\n", timeout=30)
    assert main(["solve", "inputs/example", "--out", "results/old-run"]) == 0


def test_sweeps_and_reports_take_the_lock_too(work, capsys):
    root, _ = work
    with safety.locked(root / "results" / "compare-x"):
        assert main(["compare", "inputs/example", "--name", "x"]) == 1
        assert "another ree-plan run" in capsys.readouterr().err
    with safety.locked(root / "results" / "old-run"):
        assert main(["report", "results/old-run"]) == 1
        assert "another ree-plan run" in capsys.readouterr().err


# -- compare and frontier ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "/tmp/x", ".hidden", "a\\b",
                                  "tab\there", "new\nline", " padded", "x" * 201])
@pytest.mark.parametrize("command", ["compare", "frontier"])
def test_sweep_names_must_be_plain(work, capsys, command, name):
    root, calls = work
    before = snapshot(root)
    refused(capsys, [command, "inputs/example", f"--name={name}"], "--name", "plain name")
    assert snapshot(root) == before and calls == []


def test_a_scenario_named_dot_cannot_name_a_sweeps_run_folder(work, capsys):
    root, _ = work
    (root / "..toml").write_text('base = "inputs/example"\n')
    refused(capsys, ["compare", "inputs/example", "..toml", "--name", "n"],
            "cannot name a run folder")
    assert not (root / "results" / "compare-n").exists()


def test_sweep_folders_hold_only_what_ree_plan_wrote(work, capsys):
    root, _ = work
    mine = root / "results" / "compare-mine"
    mine.mkdir()
    (mine / "draft.md").write_text("draft")
    refused(capsys, ["compare", "inputs/example", "--name", "mine"], "not a ree-plan compare",
            "draft.md")
    # A sweep folder of ree-plan's whose runs/ holds something else is not removed either.
    legacy = root / "results" / "compare-legacy"
    (legacy / "runs" / "a").mkdir(parents=True)
    (legacy / "comparison.csv").write_text("metric,item,a\n")
    (legacy / "runs" / "a" / "summary.json").write_text(json.dumps(
        {"scenario": "a", "status": "optimal", "objective_musd": 1, "inputs_sha256": "z"}))
    (legacy / "runs" / "a" / "mine.txt").write_text("keep")
    refused(capsys, ["compare", "inputs/example", "--name", "legacy"], "runs/a/mine.txt")
    assert (legacy / "runs" / "a" / "mine.txt").read_text() == "keep"
    # Scenarios kept inside the sweep's folder would be deleted with its runs.
    inside = root / "results" / "compare-inside" / "runs"
    inside.mkdir(parents=True)
    (inside.parent / "comparison.csv").write_text("metric,item\n")
    copy_example(inside / "example")
    refused(capsys, ["compare", str(inside / "example"), "--name", "inside"], "holds the inputs")
    assert (inside / "example" / "settings.toml").is_file()
    # A frontier folder is not a compare folder.
    make_run_folder(root / "results" / "frontier-f" / "runs" / "scale-1.00")
    (root / "results" / "frontier-f" / "frontier.csv").write_text("budget_scale,status\n")
    with pytest.raises(OutputRefused, match="frontier folder, not a compare folder"):
        sweep.compare(["inputs/example"], root / "results" / "frontier-f")


# -- report --------------------------------------------------------------------------------

def test_report_writes_only_into_ree_plans_folders(work, capsys):
    root, _ = work
    refused(capsys, ["report", ""], "empty")
    refused(capsys, ["report", "inputs/example"], "not a ree-plan run, compare or frontier")
    run = root / "results" / "old-run"
    (run / "report.html").write_text("<h1>my own report</h1>")
    refused(capsys, ["report", "results/old-run"], "not written by ree-plan")
    assert (run / "report.html").read_text() == "<h1>my own report</h1>"
    (run / "report.html").unlink()
    (run / "report.html").mkdir()
    refused(capsys, ["report", "results/old-run"], "not a regular file")
    (run / "report.html").rmdir()


def test_replaceable_treats_an_interrupted_reports_temporary_file_as_its_own(tmp_path):
    run = make_run_folder(tmp_path / "run")
    (run / ".report-abcd1234").write_text("half a report")
    (run / ".report.html.tmp-abcd_234").write_text("half a report")
    safety.check_replaceable(run, "run")



def test_a_folder_that_cannot_be_read_is_not_taken_for_an_empty_one(tmp_path, monkeypatch):
    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "secret.txt").write_text("s")
    iterdir = Path.iterdir

    def denied(self):
        if self == unreadable:
            raise PermissionError(13, "Permission denied", str(self))
        return iterdir(self)

    monkeypatch.setattr(Path, "iterdir", denied)
    with pytest.raises(OutputRefused, match="cannot be read"):
        safety.check_replaceable(unreadable, "unreadable")
