"""The swap of old results for new is atomic: a run killed at any step leaves the old or the
new folder at the output path (or, where the swap takes two renames, the next run puts the
old one back), and the hidden folders killed runs leave are recovered or removed, ours only."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from outputs import fake_summary

from optimize.results import safety
from optimize.results import write as write_module
from optimize.results.safety import MARKER, read_marker, tidy_leftovers, tidy_temp_files
from optimize.results.write import write_run

# A child process writes version 1 of a run folder, then version 2, dying (os._exit, as
# SIGKILL would: no cleanup runs) at the step named on its command line.
CRASH = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    import optimize.results.write as w

    out, step = Path(sys.argv[1]), sys.argv[2]
    summary = {"scenario": "s", "status": "optimal", "objective_musd": 1.0,
               "inputs_sha256": "x"}
    w.write_run(out, {**summary, "version": 1}, None)

    def die(*args, **kwargs):
        os._exit(9)

    if step == "while-building":
        w.write_run(out, {**summary, "version": 2}, None, before_swap=die)
    elif step == "between-the-renames":  # where the exchange is unavailable
        w.exchange = lambda a, b: False
        rename = os.rename
        def rename_then_die(a, b):
            rename(a, b)
            if ".old-" in str(b):
                os._exit(9)
        os.rename = rename_then_die
        w.write_run(out, {**summary, "version": 2}, None)
    elif step == "after-the-exchange":
        w.shutil.rmtree = die
        w.write_run(out, {**summary, "version": 2}, None)
    os._exit(0)
""")


def crash_at(out: Path, step: str) -> None:
    done = subprocess.run([sys.executable, "-c", CRASH, str(out), step], capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 9, done.stderr


def version(folder: Path) -> int:
    return json.loads((folder / "summary.json").read_text())["version"]


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def complete(folder: Path) -> bool:
    marker = read_marker(folder)
    return bool(marker and marker["complete"]
                and all((folder / f).exists() for f in marker["files"])
                and json.loads((folder / "summary.json").read_text()).get("status"))


def test_the_swap_is_one_exchange_on_linux(tmp_path, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux's")

    def no_renames(new, out):
        raise AssertionError("the two-rename fallback ran")

    monkeypatch.setattr(write_module, "_swap_by_renames", no_renames)
    out = tmp_path / "run"
    write_run(out, {**fake_summary("a"), "version": 1}, None)
    write_run(out, {**fake_summary("a"), "version": 2}, None)
    assert version(out) == 2 and hidden(tmp_path) == []


def test_the_two_rename_fallback_swaps_and_puts_the_old_folder_back_on_failure(
        tmp_path, monkeypatch):
    monkeypatch.setattr(write_module, "exchange", lambda a, b: False)
    out = tmp_path / "run"
    write_run(out, {**fake_summary("a"), "version": 1}, None)
    write_run(out, {**fake_summary("a"), "version": 2}, None)
    assert version(out) == 2 and hidden(tmp_path) == []
    rename = os.rename

    def second_rename_fails(a, b):
        if ".tmp-" in str(a) and Path(b) == out:
            raise OSError(28, "No space left on device")
        rename(a, b)

    monkeypatch.setattr(os, "rename", second_rename_fails)
    with pytest.raises(OSError):
        write_run(out, {**fake_summary("a"), "version": 3}, None)
    assert version(out) == 2 and hidden(tmp_path) == []


def test_exchange_reports_when_it_cannot_swap(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    (a / "x").write_text("a")
    b.mkdir()
    if write_module.exchange(a, b):
        assert (b / "x").read_text() == "a" and not (a / "x").exists()
    with pytest.raises(OSError):
        write_module.exchange(tmp_path / "missing", b)


def test_killed_while_building_the_old_folder_stays(tmp_path):
    out = tmp_path / "run"
    crash_at(out, "while-building")
    assert version(out) == 1 and complete(out)
    [left] = hidden(tmp_path)
    assert left.startswith(".run.tmp-")
    assert read_marker(tmp_path / left)["complete"] is False  # recognisably ours
    assert tidy_leftovers(tmp_path, "run") == []
    assert version(out) == 1 and hidden(tmp_path) == []


def test_killed_between_the_two_renames_the_next_run_puts_the_old_folder_back(tmp_path,
                                                                           capsys):
    out = tmp_path / "run"
    crash_at(out, "between-the-renames")
    assert not out.exists()
    assert [n.split("-")[0] for n in hidden(tmp_path)] == [".run.old", ".run.tmp"]
    # The next run, once it holds the lock, recovers before it looks at the folder.
    with safety.claim(out):
        assert version(out) == 1 and complete(out)
    assert "put back from .run.old-" in capsys.readouterr().err
    assert hidden(tmp_path) == []


def test_killed_after_the_exchange_the_new_folder_is_in_place(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux's")
    out = tmp_path / "run"
    crash_at(out, "after-the-exchange")
    assert version(out) == 2 and complete(out)
    [left] = hidden(tmp_path)
    assert version(tmp_path / left) == 1  # the old folder, under the hidden name
    tidy_leftovers(tmp_path, "run")
    assert version(out) == 2 and hidden(tmp_path) == []


def test_a_missing_output_with_only_a_finished_temporary_folder_gets_it(tmp_path):
    out = tmp_path / "run"
    write_run(out, {**fake_summary("a"), "version": 7}, None)
    out.rename(tmp_path / ".run.tmp-abcd1234")
    assert tidy_leftovers(tmp_path, "run")
    assert version(out) == 7 and hidden(tmp_path) == []


def test_only_our_leftovers_are_touched(tmp_path):
    out = tmp_path / "run"
    write_run(out, fake_summary("a"), None)
    users = tmp_path / ".run.tmp-abcdefgh"  # named like ours, but no marker and not a run
    users.mkdir()
    (users / "precious.txt").write_text("keep")
    other = tmp_path / ".other.tmp-abcdefgh"  # ours, but another output's (not locked here)
    write_run(tmp_path / "other", fake_summary("o"), None)
    (tmp_path / "other").rename(other)
    lookalike = tmp_path / ".run.tmp-x.tmp-abcdefgh"  # output 'run.tmp-x', not 'run'
    write_run(tmp_path / "run.tmp-x", fake_summary("o"), None)
    (tmp_path / "run.tmp-x").rename(lookalike)
    empty = tmp_path / ".run.old-12345678"  # killed right after mkdtemp: empty, removed
    empty.mkdir()
    tidy_leftovers(tmp_path, "run")
    assert (users / "precious.txt").read_text() == "keep"
    assert (other / MARKER).is_file() and (lookalike / MARKER).is_file()
    assert not empty.exists()


CHURN = textwrap.dedent("""
    import sys
    from pathlib import Path
    import pandas as pd
    import optimize.results.write as w
    from optimize.results.tables import Tables

    out = Path(sys.argv[1])
    if sys.argv[2] == "renames":
        w.exchange = lambda a, b: False
    tables = Tables({"plan": pd.DataFrame({"facility": [f"f{i}" for i in range(200)],
                                           "capex_musd": range(200)})})
    version = 0
    while True:
        version += 1
        w.write_run(out, {"scenario": "s", "status": "optimal", "objective_musd": 1.0,
                          "inputs_sha256": "x", "version": version}, tables)
""")


@pytest.mark.parametrize("how", ["exchange", "renames"])
def test_sigkill_mid_write_leaves_a_whole_folder(tmp_path, how):
    if how == "exchange" and not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux's")
    rng = random.Random(7)
    out = tmp_path / "run"
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", CHURN, str(out), how],
                                 stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and not (out / "summary.json").exists() \
                and child.poll() is None:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL, child.stderr.read()
        if how == "exchange":
            assert complete(out), "the output path must hold a whole folder at every instant"
        tidy_leftovers(tmp_path, "run")
        assert complete(out) and version(out) >= 1
        assert hidden(tmp_path) == []


def test_temporary_files_of_killed_table_and_report_writes_are_removed(tmp_path):
    for name in (".comparison.csv.tmp-abcd1234", ".report-abcd1234",
                 ".report.html.tmp-abcd1234", "..ree-plan-run.tmp-abcd1234"):
        (tmp_path / name).write_text("half")
    (tmp_path / ".notes.txt.tmp-abcd1234").write_text("not one of ours")
    (tmp_path / "comparison.csv").write_text("metric,item\n")
    removed = tidy_temp_files(tmp_path, "compare")
    assert len(removed) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [".notes.txt.tmp-abcd1234",
                                                         "comparison.csv"]
