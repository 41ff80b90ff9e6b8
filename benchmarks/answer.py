"""Time to answer: what an analyst waits for, and how much of it is the solver (issue 16).

    python benchmarks/answer.py [--repeats 3] [--skip-sweeps]

Runs the commands a user runs, as a user runs them (``ree-plan`` in a fresh process, the
inputs' own settings), and times them from start to exit:

- ``ree-plan solve`` of the baseline and of each shipped scenario (``inputs/scenarios``);
- ``ree-plan compare`` of the ten shipped scenarios (two workers, the default);
- ``ree-plan frontier`` of the baseline at nine budget scales (0 to 2 by 0.25).

For each: the median wall seconds over ``--repeats`` (the spread beside it) and the solver's
own share: the HiGHS seconds that summary.json records (``solve_seconds``, summed over a
sweep's runs) against the wall time. A sweep's share can exceed 100%: its runs overlap on
two workers. Benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REE_PLAN = [sys.executable, "-m", "optimize"]


def timed(args: list[str]) -> float:
    """Run ``ree-plan ARGS``; return its wall seconds (it must exit 0)."""
    started = time.perf_counter()
    out = subprocess.run([*REE_PLAN, *args], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"ree-plan {' '.join(args)} failed ({out.returncode}):\n"
                         f"{out.stderr[-2000:]}")
    return seconds


def solver_seconds(folder: Path) -> float:
    """Return the HiGHS seconds recorded under ``folder`` (every summary.json in it)."""
    return sum(json.loads(p.read_text()).get("solve_seconds") or 0.0
               for p in folder.rglob("summary.json"))


def measure(name: str, args: list[str], repeats: int) -> tuple[float, float, float, float]:
    """Return (median wall s, min, max, solver share) of ``ree-plan ARGS --out/--name``."""
    walls, shares = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            wall = timed([*args, *(("--out", str(out)) if args[0] == "solve" else
                                   ("--name", name))])
            folder = out if args[0] == "solve" else ROOT / "results" / f"{args[0]}-{name}"
            shares.append(solver_seconds(folder) / wall)
            walls.append(wall)
            if args[0] != "solve":
                _remove(folder)
    return statistics.median(walls), min(walls), max(walls), statistics.median(shares)


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--skip-sweeps", action="store_true")
    args = p.parse_args()
    scenarios = sorted((ROOT / "inputs" / "scenarios").glob("*.toml"))
    cases: list[tuple[str, list[str]]] = [("baseline", ["solve", "inputs/baseline",
                                                        "--no-report"])]
    cases += [(s.stem, ["solve", str(s.relative_to(ROOT)), "--no-report"]) for s in scenarios]
    if not args.skip_sweeps:
        cases.append((f"compare of {len(scenarios)}",
                      ["compare", *(str(s.relative_to(ROOT)) for s in scenarios)]))
        cases.append(("frontier of 9", ["frontier", "inputs/baseline",
                                        "--budget-scale", "0:2:0.25"]))
    print(f"{'what':<28} {'median s':>9} {'spread s':>15} {'solver share':>13}")
    for name, command in cases:
        label = name.replace(" ", "-")
        median, lo, hi, share = measure(f"bench-{label}", command, args.repeats)
        print(f"{name:<28} {median:9.1f} {lo:7.1f}-{hi:7.1f} {share:12.0%}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
