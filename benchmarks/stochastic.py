"""Extensive form against progressive hedging: 10, 50 and 100 futures of the baseline.

    python benchmarks/stochastic.py [--sizes 10,50,100] [--engines ef,ph1,ph2] [--repeats 1]
                                    [--work DIR] [--no-write] [--raw FILE]
    python benchmarks/stochastic.py --from-raw FILE...   # report earlier measurements

The futures are sampled, not enumerated: ``inputs/futures/baseline-10.toml`` (seed 14) with
``sample`` set to 10, 50 or 100, written by the ``ree-plan futures`` code into ``--work``.
Numpy's generator with the same seed draws the same first futures, so the 10 are the first
10 of the 50, and the 50 the first 50 of the 100 (prices are uniform draws: no two merge).

Each measurement is a fresh process: ``ef`` the extensive form as ``ree-plan stochastic``
solves it (with WS and EEV, so EVPI and VSS); ``ph1`` and ``ph2`` progressive hedging under
``mpiexec -n 1`` and ``-n 2`` (the [mpi] extra's mpiexec, as tests/test_ph.py launches it).
Each reports wall time, CPU time (the process's, or each rank's: what the machine's other
load does not inflate), peak RSS (``ru_maxrss``; for PH the sum over ranks, an upper bound
on what they held at once), the objective, the first-stage plan, PH's iterations and gap to
its bound, and ``os.getloadavg()`` before and after. For PH each rank also times what it does
alone: reading every future's inputs and the first-stage keys (every rank does it for all
futures: serial work, whatever the ranks), and what it does for its own futures (building
them, PH's solves, the plan's final evaluation). A section with the table, medians and
ranges of repeats, and the Amdahl estimate goes into benchmarks/results.md, before
``benchmarks/run.py``'s (which that script rewrites). Benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SET_FILE = ROOT / "inputs" / "futures" / "baseline-10.toml"

EF_CHILD = r"""
import json, os, resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
from pathlib import Path
from optimize.uncertainty.futures import read_futures_folder
from optimize.uncertainty.stochastic import read_futures, solve_stochastic
scenarios, probabilities = read_futures_folder(Path(sys.argv[1]))
decide_by = int(sys.argv[2]) if sys.argv[2] != "-" else None
r = solve_stochastic(read_futures(scenarios, probabilities), decide_by)
s = r.summary
print(json.dumps({
    "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "status": s["status"], "objective": s.get("objective_musd"), "plan": s.get("plan"),
    "gap": s.get("mip_gap"), "ws": s.get("wait_and_see_musd"),
    "eev": s.get("reference_plan_musd"), "tried": s.get("first_stages_tried"),
    "distinct": s.get("first_stages_distinct"), "columns": s.get("n_variables"),
    "phases": s.get("seconds")}))
"""

PH_CHILD = r"""
import json, os, resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
from pathlib import Path
from mpi4py import MPI
import optimize.uncertainty.ph as ph
from optimize.uncertainty.futures import read_futures_folder
cpu = {"load_all": 0.0, "keys": 0.0, "create": 0.0, "final": 0.0}
creating = [False]
def timed(name, f, unless_creating=False):
    def g(*a, **k):
        c = time.process_time()
        try:
            return f(*a, **k)
        finally:
            key = "create" if (unless_creating and creating[0]) else name
            cpu[key] += time.process_time() - c
    return g
def creator(f):
    def g(*a, **k):
        creating[0] = True
        try:
            return timed("create", f)(*a, **k)
        finally:
            creating[0] = False
    return g
ph.load_inputs = timed("load_all", ph.load_inputs, unless_creating=True)
ph.first_stage_keys = timed("keys", ph.first_stage_keys)
ph.scenario_creator = creator(ph.scenario_creator)
ph.solve_loaded = timed("final", ph.solve_loaded)
scenarios, probabilities = read_futures_folder(Path(sys.argv[1]))
names = [p.stem for p in scenarios]
t_setup = time.perf_counter() - t0
r = ph.progressive_hedging(dict(zip(names, map(str, scenarios))),
                           dict(zip(names, probabilities)),
                           int(sys.argv[2]) if sys.argv[2] != "-" else None)
mine = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **cpu}
every = MPI.COMM_WORLD.gather(mine, root=0)
if r is not None:
    s = r.summary
    print(json.dumps({
        "wall": max(x["wall"] for x in every), "cpu": sum(x["cpu"] for x in every),
        "cpu_max_rank": max(x["cpu"] for x in every),
        "peak_mb": sum(x["peak_mb"] for x in every), "ranks": every,
        "status": "converged" if s["converged"] else "not converged",
        "objective": s["objective_musd"], "plan": s["plan"], "gap": s["gap_to_bound"],
        "bound": s["trivial_bound_musd"], "iterations": s["iterations"],
        "phases": s["seconds"]}))
"""


def make_futures(work: Path, n: int) -> Path:
    """Write the set file with ``sample = n`` (base made absolute) and draw its futures."""
    from optimize.uncertainty.futures import futures

    folder = work / f"futures-{n}"
    if (folder / "futures.csv").is_file():
        return folder
    text = SET_FILE.read_text()
    base = (SET_FILE.parent / re.search(r'^base = "(.*)"', text, re.M).group(1)).resolve()
    text = re.sub(r'^base = ".*"', f'base = "{base}"', text, flags=re.M)
    text = re.sub(r"^sample = \d+", f"sample = {n}", text, flags=re.M)
    set_file = work / f"baseline-{n}.toml"
    set_file.write_text(text)
    futures(set_file, folder)
    return folder


def mpiexec() -> str:
    found = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
        "mpiexec")
    if found is None:
        raise SystemExit("mpiexec not found: pip install -e '.[mpi]'")
    return found


def measure(engine: str, folder: Path, decide_by: int | None) -> dict[str, Any]:
    """Run one engine on one futures folder in a fresh process (mpiexec for PH)."""
    by = "-" if decide_by is None else str(decide_by)
    if engine == "ef":
        command = [sys.executable, "-c", EF_CHILD, str(folder), by]
    else:
        command = [mpiexec(), "-n", engine[2:], sys.executable, "-c", PH_CHILD, str(folder), by]
    load = os.getloadavg()
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{engine} on {folder} failed:\n{out.stderr[-3000:]}")
    row = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    row.update(engine=engine, outer_wall=wall, load_before=load, load_after=os.getloadavg(),
               warnings=sum("changeCoeff" in ln for ln in (out.stdout + out.stderr).splitlines()))
    return row


def plan_text(plan: list[dict[str, Any]] | None) -> str:
    return "; ".join(f"{p['facility']} {p['fid_year']}" for p in plan or []) or "nothing"


def spread(xs: list[float], fmt: str = "{:.1f}") -> str:
    """Median, and the range when repeated."""
    med = fmt.format(statistics.median(xs))
    return med if len(xs) < 2 else f"{med} ({fmt.format(min(xs))}-{fmt.format(max(xs))})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10,50,100")
    p.add_argument("--engines", default="ef,ph1,ph2")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--decide-by", type=int, metavar="YEAR",
                   help="FIDs up to YEAR are the first stage (default: all FIDs)")
    p.add_argument("--work", type=Path, default=Path("/tmp/ree-plan-stochastic-bench"))
    p.add_argument("--no-write", action="store_true", help="print, do not touch results.md")
    p.add_argument("--raw", type=Path, help="also append every measurement (JSON lines) here")
    p.add_argument("--from-raw", type=Path, nargs="+", metavar="FILE",
                   help="measure nothing: report the measurements of earlier --raw files")
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for raw in args.from_raw or []:
        for line in raw.read_text().splitlines():
            row = json.loads(line)
            row.setdefault("label", str(row["futures"]))
            runs.setdefault((row["label"], row["engine"]), []).append(row)
    if args.from_raw:
        args.sizes = ""
        runs = dict(sorted(runs.items(), key=lambda kv: (int(kv[0][0].split(",")[0]),
                                                         kv[0][0], kv[0][1])))
    for n in [int(x) for x in args.sizes.split(",") if x]:
        folder = make_futures(args.work, n)
        for _ in range(args.repeats):
            for engine in args.engines.split(","):
                row = measure(engine, folder, args.decide_by)
                row.update(futures=n, decide_by=args.decide_by, label=f"{n}" + (
                    f", by {args.decide_by}" if args.decide_by else ""))
                runs.setdefault((row["label"], engine), []).append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "ranks"}), flush=True)
                if args.raw:
                    with args.raw.open("a") as f:
                        f.write(json.dumps(row) + "\n")
    lines = report(runs)
    print("\n".join(lines))
    if not args.no_write:
        write_results(lines)
    return 0


def report(runs: dict[tuple[str, str], list[dict[str, Any]]]) -> list[str]:
    """Return the markdown table and the measured notes."""
    table = ["| futures | engine | runs | wall s | CPU s (all ranks) | CPU s, busiest rank | "
             "peak MB (sum of ranks) | load (1 min) before-after | status | iterations | "
             "gap to bound | objective MUSD | first-stage plan | agrees with EF |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (n, engine), rows in runs.items():
        ef = runs.get((n, "ef"), [None])[0]
        r = rows[0]
        agree = "-"
        if engine != "ef" and ef is not None:
            same_plan = plan_text(r["plan"]) == plan_text(ef["plan"])
            close = abs(r["objective"] - ef["objective"]) <= 1e-4 * max(1.0, abs(ef["objective"]))
            agree = "yes" if same_plan and close else (
                f"plan {'same' if same_plan else 'differs'}, objective "
                f"{r['objective'] - ef['objective']:+.4f}")
        loads = ", ".join(f"{x['load_before'][0]:.1f}-{x['load_after'][0]:.1f}" for x in rows)
        table.append(
            f"| {n} | {engine} | {len(rows)} | {spread([x['wall'] for x in rows])} | "
            f"{spread([x['cpu'] for x in rows])} | "
            f"{spread([x.get('cpu_max_rank', x['cpu']) for x in rows])} | "
            f"{spread([x['peak_mb'] for x in rows], '{:,.0f}')} | {loads} | {r['status']} | "
            f"{r.get('iterations', '-')} | "
            f"{'-' if r.get('gap') is None else format(r['gap'], '.2e')} | "
            f"{r['objective']:.4f} | {plan_text(r['plan'])} | {agree} |")
    notes = []
    for (n, engine), rows in runs.items():
        r = rows[0]
        if engine.startswith("ef"):
            notes.append(f"EF, {n} futures: {r['columns']:,} columns; phases (s, wall) "
                         f"{r['phases']}; first stages held {r['tried']} "
                         f"({r['distinct']} distinct own); WS {r['ws']:.4f}, EEV {r['eev']:.4f}")
        else:
            ranks = "; ".join(
                f"rank {i}: CPU {x['cpu']:.1f} (read all {x['load_all']:.1f}, keys "
                f"{x['keys']:.1f}, build own {x['create']:.1f}, final {x['final']:.1f}), "
                f"peak {x['peak_mb']:.0f} MB" for i, x in enumerate(r["ranks"]))
            notes.append(f"PH {engine[2:]} rank(s), {n} futures: {ranks}; changeCoeff "
                         f"warnings {r['warnings']}")
    for n in dict.fromkeys(n for n, _ in runs):
        one, two = runs.get((n, "ph1")), runs.get((n, "ph2"))
        if not one or not two:
            continue
        w1 = statistics.median(x["wall"] for x in one)
        w2 = statistics.median(x["wall"] for x in two)
        t1 = statistics.median(x["cpu_max_rank"] for x in one)
        t2 = statistics.median(x["cpu_max_rank"] for x in two)
        # Amdahl: T2 = T1 (s + (1 - s) / 2), on the busiest rank's CPU (the load-free measure).
        serial = max(0.0, 2 * t2 / t1 - 1)
        paper = (f"at most {1 / serial:.0f}x with any ranks, " if serial > 0.005 else
                 "no serial share measurable: ") + (
            f"{1 / (serial + (1 - serial) / 4):.1f}x on 4 ranks, "
            f"{1 / (serial + (1 - serial) / 8):.1f}x on 8 (on paper)")
        notes.append(f"PH {n} futures, 1 to 2 ranks: busiest rank's CPU {t1:.1f} s to {t2:.1f} s, "
                     f"speed-up {t1 / t2:.2f} (wall {w1:.0f} s to {w2:.0f} s, {w1 / w2:.2f}, "
                     f"under different loads); Amdahl's serial share s = 2 T2/T1 - 1 = "
                     f"{2 * t2 / t1 - 1:.2f}; {paper}")
    return table + [""] + [f"- {x}" for x in notes]


def write_results(lines: list[str]) -> None:
    """Put the section before benchmarks/run.py's (which that script replaces on each run)."""
    head = (f"## benchmarks/stochastic.py, {date.today()} ({platform.node()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()})\n\n")
    section = head + "\n".join(lines) + "\n\n"
    results = HERE / "results.md"
    old = results.read_text() if results.exists() else "# Benchmark results\n\n"
    marker = "## benchmarks/run.py"
    if marker in old:
        at = old.index(marker)
        results.write_text(old[:at] + section + old[at:])
    else:
        results.write_text(old.rstrip() + "\n\n" + section)


if __name__ == "__main__":
    raise SystemExit(main())
