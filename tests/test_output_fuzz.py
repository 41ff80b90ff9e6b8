"""Arbitrary strings as --out and --name: never a traceback, never a write outside the folder
asked for, never a deletion of anything that is not a run folder.

The CLI runs in-process (``optimize.cli.main``) in a fresh working folder per example, with a
tree of sentinels: inputs, notes, a run folder, a folder of someone else's files. No solver
runs (``outputs.install_fake_solve``; sweeps write their run folders directly), so every
output check, the lock and the atomic write are the real ones.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from instances import copy_example
from outputs import fake_summary, install_fake_solve, make_run_folder, snapshot

from optimize import sweep
from optimize.cli import main
from optimize.results.safety import MARKER, plain_name_problem
from optimize.results.write import write_run

INTERESTING = ["", ".", "..", "./", "/", "//", "results", "results/", "results/old-run",
               "results/old-run/", "results/./old-run", "results/old-run/plan.csv",
               "results/old-run/sub", "results/..", "results/../inputs", "inputs",
               "inputs/example", "inputs/example/", "inputs/example/run", "notes.txt",
               "notes.txt/x", "mine", "mine/", "empty", "new", "a/b/c", "-", "--", "~",
               "results/.old-run.lock", "results/.old-run.tmp-abcdefgh", ".ree-plan-run",
               "../..", "../work", "\0", "a\0b", " ", "results/ ", "x" * 300]
PIECES = st.sampled_from(["results", "inputs", "example", "old-run", "mine", "empty", "..", ".",
                          "", "notes.txt", "new", "~", "x"])
PATHS = st.one_of(
    st.sampled_from(INTERESTING),
    st.lists(PIECES, min_size=1, max_size=5).map("/".join),
    st.text(max_size=30),
    st.text(alphabet="./-~ab\n\t \\", max_size=12),
)
NAMES = st.one_of(st.sampled_from(["", ".", "..", "../x", "/tmp", "a/b", ".h", "ok", "ok-2",
                                   "a b", " x", "x ", "\0", "x" * 250, "results", "-"]),
                  st.text(max_size=20))
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Yield a function that makes a fresh working folder; the fake solve is installed."""
    install_fake_solve(monkeypatch)
    monkeypatch.setattr(sweep, "execute", fake_execute)
    monkeypatch.setattr(sweep, "_write_report", lambda folder: None)
    inputs = copy_example(tmp_path / "example")
    counter = iter(range(10**6))

    @contextlib.contextmanager
    def fresh():
        base = Path(tempfile.mkdtemp(dir=tmp_path, prefix=f"case{next(counter)}-"))
        root = base / "a" / "b" / "work"
        shutil.copytree(inputs, root / "inputs" / "example")
        (root / "notes.txt").write_text("notes\n")
        (root / "mine").mkdir()
        (root / "mine" / "thesis.tex").write_text("years of work\n")
        (root / "empty").mkdir()
        make_run_folder(root / "results" / "old-run")
        cwd = os.getcwd()
        os.chdir(root)
        try:
            yield base, root
        finally:
            os.chdir(cwd)
            shutil.rmtree(base, ignore_errors=True)

    return fresh


def fake_execute(jobs, workers, scheduler, progress):
    """Write each job's run folders as a worker would, without solving."""
    outcomes = []
    for job in jobs:
        if job.fn is sweep.solve_scenario:
            path, out, _ = job.args
            targets = [(Path(out), {})]
        else:
            _, scales, runs, _ = job.args
            targets = [(Path(runs) / sweep.scale_key(s), {"budget_scale": s}) for s in scales]
        summaries = []
        for out, tag in targets:
            summary = {**fake_summary(out.name), "subsidy_npv_musd": 1.0,
                       "penalty_npv_musd": 0.0, **tag}
            write_run(out, summary, None)
            summaries.append(summary)
        outcomes.append(sweep.Outcome(job.key, summaries))
    return outcomes


def run_cli(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def resolved(root: Path, text: str) -> Path | None:
    if not text or "\0" in text:
        return None
    try:
        return Path(os.path.realpath(os.path.join(root, text)))
    except (OSError, ValueError):
        return None


def changes(before: dict[str, str], after: dict[str, str]) -> tuple[set[str], set[str]]:
    """Return (paths removed or changed, paths added)."""
    gone = {p for p, h in before.items() if after.get(p) != h}
    return gone, set(after) - set(before)


def inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


@SETTINGS
@given(out=PATHS)
def test_any_out_writes_only_the_folder_asked_for(sandbox, out):
    with sandbox() as (base, root):
        target = resolved(root, out)
        # Strings that lead outside the sandbox are only allowed when they must be refused.
        assume(target is None or inside(target, base) or root.is_relative_to(target))
        was_run = target is not None and (target / MARKER).is_file()
        was_empty = target is not None and target.is_dir() and not any(target.iterdir())
        before = snapshot(base)
        code, err = run_cli(["solve", "inputs/example", f"--out={out}", "--no-report"])
        assert code in (0, 1, 2), err
        assert "Traceback" not in err and "bug in ree-plan" not in err, err
        gone, added = changes(before, snapshot(base))
        for rel in gone:
            assert target is not None and (was_run or was_empty), (out, rel)
            assert inside(base / rel, target), (out, rel)
        for rel in added:
            path = base / rel
            assert target is not None and (inside(path, target) or target.is_relative_to(path)), \
                (out, rel)
        if code == 0:
            assert target is not None and (target / MARKER).is_file()
        for sentinel in ("notes.txt", "mine/thesis.tex", "inputs/example/settings.toml"):
            assert (root / sentinel).is_file(), (out, sentinel)


@SETTINGS
@given(name=NAMES, command=st.sampled_from(["compare", "frontier"]))
def test_any_name_writes_only_its_sweep_folder(sandbox, name, command):
    with sandbox() as (base, root):
        before = snapshot(base)
        extra = ["--budget-scale", "1:1:1"] if command == "frontier" else []
        code, err = run_cli([command, "inputs/example", f"--name={name}", *extra])
        assert "Traceback" not in err and "bug in ree-plan" not in err, err
        gone, added = changes(before, snapshot(base))
        if plain_name_problem(name) is not None:
            assert code == 2 and "--name" in err, err
            assert not gone and not added, (name, gone, added)
            return
        assert code == 0, err
        folder = root / "results" / f"{command}-{name}"
        assert (folder / MARKER).is_file()
        assert not gone, (name, gone)
        for rel in added:
            assert inside(base / rel, folder), (name, rel)
