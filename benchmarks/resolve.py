"""Re-solve without rebuilding: per-scenario overhead of a budget change, rebuilt vs updated.

    python benchmarks/resolve.py [INPUTS] [--scales 0.6,0.8,1.2,1.4]

For each budget scale, times (a) a full rebuild: load, validate, build, compile and hand to
HiGHS, then solve; (b) an update of the persistent HiGHS model (solve.HighsModel): new budget
row bounds, then solve. Overhead is wall time less HiGHS's own run time. Prints both and
the ratio (issue 6 target: updated overhead <= 10% of a rebuild's).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from optimize.data.checks import load_inputs
from optimize.model import build_model
from optimize.pipeline import options_for
from optimize.solve import HighsModel


def timed(label: str, scale: float, model_for: Callable[[], HighsModel]) -> float:
    """Time getting the model, scaling its budgets and solving; return the overhead (s)."""
    t = time.perf_counter()
    model = model_for()
    model.scale_budgets(scale)
    result = model.solve()
    wall = time.perf_counter() - t
    overhead = wall - result.solve_seconds
    print(f"{label:<8} scale {scale:4.2f}: wall {wall:6.2f} s, HiGHS {result.solve_seconds:6.2f} s,"
          f" overhead {overhead:5.2f} s, objective {result.objective_musd:.4f}")
    return overhead


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="?", default="inputs/baseline")
    p.add_argument("--scales", default="0.6,0.8,1.2,1.4")
    args = p.parse_args()
    scales = [float(s) for s in args.scales.split(",")]

    def rebuilt() -> HighsModel:
        loaded = load_inputs(args.inputs)
        return HighsModel(build_model(loaded.data), options_for(loaded.data, threads=1))

    loaded = load_inputs(args.inputs)
    persistent = HighsModel(build_model(loaded.data), options_for(loaded.data, threads=1))
    rebuild_overhead = [timed("rebuild", s, rebuilt) for s in scales]
    update_overhead = [timed("update", s, lambda: persistent) for s in scales]
    a = sum(rebuild_overhead) / len(rebuild_overhead)
    b = sum(update_overhead) / len(update_overhead)
    print(f"\nmean overhead per scenario: rebuild {a:.3f} s, update {b:.3f} s; "
          f"update/rebuild = {b / a:.1%} (target <= 10%)")
    return 0 if b / a <= 0.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
