"""Sweep workers never outlive their sweep: a killed `compare` leaves no process behind, Ctrl-C
stops the workers at once and keeps finished runs for --resume, and whatever goes wrong in a
worker becomes its scenario's (or budget scale's) row."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import IO

import pytest
from instances import EXAMPLE, children

from optimize import sweep
from optimize.results.safety import RUN
from optimize.results.write import write_marker
from optimize.workers import set_parent_death_signal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import SIZES, generate  # noqa: E402


@pytest.fixture(scope="module")
def synthetic_s(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("gen") / "S", SIZES["S"], seed=0)


@pytest.fixture(scope="module")
def synthetic_m(tmp_path_factory):
    """An instance a worker takes far longer than the test waits (M: about 5 s to build and
    compile, then tens of seconds of HiGHS)."""
    return generate(tmp_path_factory.mktemp("gen") / "M", SIZES["M"], seed=0)


# -- processes, through /proc (psutil need not be installed) ------------------------------

def running(pid: int) -> bool:
    """Return whether ``pid`` is a live process (a zombie nobody reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def is_worker(pid: int) -> bool:
    """Return whether ``pid`` is a multiprocessing worker (spawned)."""
    try:
        return "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="ignore")
    except OSError:
        return False


def threads(pid: int) -> int:
    """Return the number of threads of ``pid`` (0 if it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return int(next(line.split()[1] for line in status.splitlines()
                     if line.startswith("Threads:")))


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def gone_within(pids: list[int], timeout: float) -> list[int]:
    """Wait up to ``timeout`` seconds for every pid to end; return those still running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(running(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if running(p)]


def started_workers(parent: int, n: int) -> list[int]:
    """Wait until ``parent`` has ``n`` workers past their initializer; return their pids.

    A worker's initializer starts its parent-watching thread, so a started worker has more
    than one thread.
    """
    def ready() -> bool:
        workers = [p for p in children(parent) if is_worker(p)]
        return len(workers) >= n and all(threads(p) > 1 for p in workers)

    wait_for(ready, 120, f"{n} workers to start")
    return [p for p in children(parent) if is_worker(p)]


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


def copies(folder: Path, tmp_path: Path, names: list[str]) -> list[Path]:
    paths = [tmp_path / name for name in names]
    for path in paths:
        shutil.copytree(folder, path)
    return paths


def start_compare(paths: list[Path], cwd: Path, stderr: IO[str]) -> subprocess.Popen:
    """Start ``ree-plan compare`` of ``paths`` on two workers, into ``cwd/results``."""
    cmd = [sys.executable, "-m", "optimize", "compare", *map(str, paths), "--name", "w",
           "--workers", "2"]
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr,
                            preexec_fn=default_ctrl_c)


def default_ctrl_c() -> None:
    """Give the child Ctrl-C as a terminal does. An ignored SIGINT is inherited across exec
    and Python then keeps ignoring it: in a full test session something leaves SIGINT
    ignored in pytest's own process, and the interrupted compare ran to its end."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def finished_runs(runs: Path) -> dict[str, str]:
    return {p.parent.name: json.loads(p.read_text())["run_id"]
            for p in runs.glob("*/summary.json")}


# -- the parent goes: its workers go --------------------------------------------------------

def test_killing_compare_ends_its_workers_mid_solve(synthetic_s, tmp_path):
    paths = copies(synthetic_s, tmp_path, [f"s{i}" for i in range(4)])
    family: list[int] = []
    with open(tmp_path / "stderr.txt", "w") as stderr:
        proc = start_compare(paths, tmp_path, stderr)
    try:
        workers = started_workers(proc.pid, 2)
        family = children(proc.pid)
        time.sleep(2)  # into the solve: an S instance takes HiGHS about 10 s
        assert all(running(p) for p in workers)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert gone_within(family, 5) == [], "workers outlived a killed compare"
    finally:
        kill_all([proc.pid, *family])
        proc.wait()


def test_a_worker_whose_parent_dies_ends_without_the_death_signal(tmp_path):
    """The portable fallback alone: the watcher thread notices the parent is gone."""
    worker = textwrap.dedent("""
        import sys, time
        from optimize.workers import watch_parent
        watch_parent(int(sys.argv[1]), interval=0.1)
        print("watching", flush=True)
        time.sleep(60)
    """)
    parent = textwrap.dedent(f"""
        import os, subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", {worker!r}, str(os.getpid())],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "watching\\n"
        print(child.pid, flush=True)
        os._exit(0)
    """)
    out = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True,
                         timeout=60, check=True, cwd=Path(__file__).resolve().parents[1])
    orphan = int(out.stdout)
    try:
        assert gone_within([orphan], 5) == [], "an orphaned worker kept running"
    finally:
        kill_all([orphan])


def test_the_death_signal_is_set_on_linux():
    if not sys.platform.startswith("linux"):
        pytest.skip("prctl(PR_SET_PDEATHSIG) is Linux only")
    code = ("import signal; from optimize.workers import set_parent_death_signal as s; "
            "print(s(signal.SIGTERM))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "True"
    assert callable(set_parent_death_signal)


# -- Ctrl-C: workers stop now, finished runs stay, --resume finishes the rest -----------------

def test_ctrl_c_stops_compare_now_and_resume_finishes_the_rest(synthetic_m, tmp_path):
    fast = copies(EXAMPLE, tmp_path, ["e1", "e2"])
    # Slow enough that a compare which waited for them could not stop in time: S, which
    # HiGHS now solves in a few seconds, sometimes finished before the interrupt came.
    slow = copies(synthetic_m, tmp_path, ["s1", "s2"])
    runs = tmp_path / "results" / "compare-w" / "runs"
    family: list[int] = []
    with open(tmp_path / "stderr.txt", "w") as stderr:
        proc = start_compare([*fast, *slow], tmp_path, stderr)
    try:
        started_workers(proc.pid, 2)
        family = children(proc.pid)
        wait_for(lambda: {"e1", "e2"} <= set(finished_runs(runs)), 120, "the example runs")
        time.sleep(1)  # the workers take the slow ones
        interrupted = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        stopped_in = time.monotonic() - interrupted
        assert stopped_in < 5, f"compare took {stopped_in:.1f} s to stop"
        assert proc.returncode == 1  # cli: interrupted
        assert gone_within(family, 5) == [], "workers outlived an interrupted compare"
    finally:
        kill_all([proc.pid, *family])
        proc.wait()
    assert "interrupted: finished runs are kept" in (tmp_path / "stderr.txt").read_text()
    done_before = finished_runs(runs)
    assert {"e1", "e2"} <= set(done_before) and not {"s1", "s2"} <= set(done_before)
    assert not [p for p in runs.iterdir() if p.name.startswith(".")], "half-written run left"

    # The slow ones again, within a time limit to keep this short.
    resumed = subprocess.run(
        [sys.executable, "-m", "optimize", "compare", *map(str, [*fast, *slow]), "--name", "w",
         "--workers", "2", "--resume", "--time-limit", "2"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    done_after = finished_runs(runs)
    assert sorted(done_after) == ["e1", "e2", "s1", "s2"]
    for name, run_id in done_before.items():
        assert done_after[name] == run_id, f"{name} was solved again"


def test_leftovers_of_an_interrupted_write_are_discarded_finished_runs_kept(tmp_path):
    from optimize.results.safety import tidy_leftovers

    runs = tmp_path / "runs"
    (runs / "done").mkdir(parents=True)
    (runs / "done" / "summary.json").write_text("{}")
    for leftover, name in ((".s1.tmp-abc12345", "s1"), (".done.old-xyz12345", "done")):
        (runs / leftover).mkdir()
        write_marker(runs / leftover, RUN, name)
    (runs / ".s1.tmp-abc12345" / "plan.csv").write_text("half")
    tidy_leftovers(runs)
    assert sorted(p.name for p in runs.iterdir()) == ["done"]


# -- every failure in a worker is a row ----------------------------------------------------

class Unpicklable(Exception):
    """An exception that cannot be pickled: it could not travel back from a worker."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.lock = threading.Lock()


def test_any_failure_of_a_scenario_is_its_row(monkeypatch, tmp_path):
    with pytest.raises(TypeError):
        pickle.dumps(Unpicklable("x"))

    def breaks(*args, **kwargs):
        raise Unpicklable("the build fell over")

    cache = sweep.worker_cache()
    cache.model = object()  # a kept model, maybe half-updated by the failure
    monkeypatch.setattr(sweep, "run", breaks)
    [row] = sweep.solve_scenario(str(EXAMPLE), str(tmp_path / "out"), {"threads": 1})
    assert row == {"scenario": "example", "status": "error",
                   "message": "solve failed: Unpicklable: the build fell over"}
    assert pickle.loads(pickle.dumps(row)) == row
    assert cache.model is None  # the next scenario builds afresh
    assert not (tmp_path / "out").exists()


def test_a_failed_write_is_a_row_too(monkeypatch, tmp_path):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sweep, "write_run", disk_full)
    [row] = sweep.solve_scenario(str(EXAMPLE), str(tmp_path / "out"), {"threads": 1})
    assert row["status"] == "error" and "No space left on device" in row["message"]


def test_a_failed_budget_scale_is_its_row_and_the_others_go_on(monkeypatch, tmp_path):
    real = sweep.solve_model

    def fails_at_half(loaded, model, *args, tag=None, **kwargs):
        if tag["budget_scale"] == 0.5:
            raise RuntimeError("HiGHS fell over")
        return real(loaded, model, *args, tag=tag, **kwargs)

    monkeypatch.setattr(sweep, "solve_model", fails_at_half)
    rows = sweep.solve_frontier(str(EXAMPLE), [0.25, 0.5, 1.0], str(tmp_path), {"threads": 1})
    assert [(r["budget_scale"], r["status"]) for r in rows] == \
        [(0.25, "optimal"), (0.5, "error"), (1.0, "optimal")]
    assert rows[1]["message"] == "solve failed: RuntimeError: HiGHS fell over"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scale-0.25", "scale-1.00"]
    outcome = sweep.Outcome("chunk-0", rows)
    assert sweep._failures([outcome]) == {"scale-0.50": rows[1]["message"]}


def test_frontier_inputs_that_do_not_load_fail_each_scale(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text(f'base = "{EXAMPLE}"\n[[change]]\ntable = "facilities"\n'
                   'where = { facility = "nope" }\ncolumn = "capacity_t"\nset = 1\n')
    rows = sweep.solve_frontier(str(bad), [0.5, 1.0], str(tmp_path), {"threads": 1})
    assert [(r["budget_scale"], r["status"]) for r in rows] == [(0.5, "invalid"),
                                                                (1.0, "invalid")]
    assert "matches no row" in rows[0]["message"]
