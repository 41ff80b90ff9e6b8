"""Two formulations of the same inputs compared by the options protocol (issue 16, item 4).

    python benchmarks/formulations.py [INPUTS ...] [--variant NAME=module:function]
                                      [--seeds 3] [--repeats 3] [--time-limit 120]

A sibling of ``benchmarks/options.py`` for reformulations rather than option sets. For each
INPUTS (an inputs folder or scenario file), ``A`` is today's model (``build_model``) and each
``--variant`` is today's model with ``function(m)`` applied after the build (it adds its own
Vars and Constraints, as any extension of the model does). Every variant is compiled once;
then, for each random seed and each repeat, every variant is solved once from scratch (a
fresh HiGHS with the same arrays, the settings' options, at most ``--time-limit`` s), in a
rotating order so that A and B share the machine's drift.

Per variant: median HiGHS seconds (with the spread) and median CPU seconds of the solving
process, median simplex iterations and branch-and-bound nodes (the same for every repeat of a
seed: HiGHS is deterministic for a seed and one thread), the LP relaxation's objective (HiGHS
``solve_relaxation``) and the MIP's dual bound at the end of the root (the largest bound
reported while no node has been searched, restarts included), each as a gap to the best
objective found: ``(optimum - bound) / |optimum|``. A speed-up under 1.3x is reported as no
change. Every variant must reach the same optimum (to the gap); one that does not is flagged.
The load average is printed before and after each instance. Benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimize.data.checks import load  # noqa: E402
from optimize.model import build_model  # noqa: E402
from optimize.pipeline import options_for  # noqa: E402
from optimize.solve import StandardForm, compile_model, new_highs  # noqa: E402

NO_CHANGE = 1.3  # a speed-up under this is noise on this machine


@dataclass
class Runs:
    """What one variant did on one instance."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)
    objectives: list[float] = field(default_factory=list)
    root_bounds: list[float] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)
    lp_bound: float = float("nan")
    size: tuple[int, int, int] = (0, 0, 0)


def variant(text: str) -> tuple[str, Callable[[Any], None]]:
    """Return ``(name, function)`` of ``NAME=module:function``."""
    name, _, target = text.partition("=")
    module, _, function = target.partition(":")
    return name, getattr(importlib.import_module(module), function)


def solve_once(form: StandardForm, base: dict[str, Any],
               seed: int) -> tuple[float, float, int, int, float, float, str]:
    """Solve ``form`` in a fresh HiGHS.

    Return (HiGHS seconds, CPU seconds, simplex iterations, nodes, objective, root dual bound,
    model status).
    """
    h = new_highs()
    for name, value in {**base, "random_seed": seed}.items():
        h.setOptionValue(name, value)
    form.pass_to(h)
    root = [float("-inf")]

    def watch(event: Any) -> None:
        out = event.data_out
        if out.mip_node_count == 0:
            root[0] = max(root[0], out.mip_dual_bound)

    h.cbMipInterrupt.subscribe(watch)
    cpu = time.process_time()
    h.run()
    cpu = time.process_time() - cpu
    info = h.getInfo()
    return (h.getRunTime(), cpu, int(info.simplex_iteration_count), int(info.mip_node_count),
            float(info.objective_function_value), root[0],
            h.modelStatusToString(h.getModelStatus()))


def lp_bound(form: StandardForm, base: dict[str, Any]) -> float:
    """Return the objective of the LP relaxation (every binary relaxed to [0, 1])."""
    h = new_highs()
    for name, value in {**base, "solve_relaxation": True}.items():
        h.setOptionValue(name, value)
    form.pass_to(h)
    h.run()
    return float(h.getInfo().objective_function_value)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="+")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=module:function")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--time-limit", type=float, default=120.0)
    args = p.parse_args()
    variants: dict[str, Callable[[Any], None] | None] = {"A": None}
    variants.update(variant(v) for v in args.variant)
    names = list(variants)
    for inputs in args.inputs:
        data = load(Path(inputs))
        options = options_for(data, time_limit_s=args.time_limit)
        base = {"time_limit": options.time_limit_s, "mip_rel_gap": options.mip_gap,
                "threads": options.threads, **dict(options.own_options)}
        forms = {}
        runs = {name: Runs() for name in names}
        for name, extend in variants.items():
            m = build_model(data)
            if extend is not None:
                extend(m)
            forms[name] = compile_model(m)
            f = forms[name]
            runs[name].size = (f.n_col, f.n_row, f.n_nonzeros)
            runs[name].lp_bound = lp_bound(f, base)
        load_before = os.getloadavg()
        started = time.perf_counter()
        order = 0
        for seed in range(args.seeds):
            for _ in range(args.repeats):
                for k in range(len(names)):  # rotate who goes first
                    name = names[(order + k) % len(names)]
                    seconds, cpu, iterations, nodes, objective, root, status = solve_once(
                        forms[name], base, seed)
                    r = runs[name]
                    r.seconds.append(seconds)
                    r.cpu.append(cpu)
                    r.iterations.append(iterations)
                    r.nodes.append(nodes)
                    r.objectives.append(objective)
                    r.root_bounds.append(root)
                    r.statuses.add(status)
                    print(f"  [{inputs} seed {seed} {name}] {seconds:.2f} s, {iterations} it, "
                          f"{nodes} nodes, {objective:.4f}, root {root:.4f}, {status}",
                          file=sys.stderr, flush=True)
                order += 1
        report(inputs, runs, time.perf_counter() - started, options.mip_gap,
               (load_before, os.getloadavg()))
    return 0


def _gap(optimum: float, bound: float) -> str:
    """Return the gap of ``bound`` to ``optimum`` in % (in MUSD when the optimum is about 0)."""
    if bound == float("-inf"):
        return "n/a"
    if abs(optimum) < 1e-3:
        return f"{optimum - bound:.3f}M"
    return f"{100 * (optimum - bound) / abs(optimum):.2f}%"


def report(inputs: str, runs: dict[str, Runs], wall: float, gap: float,
           loads: tuple[tuple[float, ...], tuple[float, ...]]) -> None:
    """Print one instance's medians and each variant's ratio against ``A``."""
    ref = runs["A"]
    ref_median = statistics.median(ref.seconds)
    best = min(min(r.objectives) for r in runs.values())
    print(f"\n{inputs} ({len(ref.seconds)} solves per variant, {wall:.0f} s in all; "
          f"load average {loads[0][0]:.1f} before, {loads[1][0]:.1f} after; "
          f"best objective {best:.4f})")
    print(f"  {'variant':<8} {'cols x rows (nnz)':>24} {'median s':>9} {'spread s':>15} "
          f"{'cpu s':>7} {'iterations':>11} {'nodes':>7} {'LP gap':>7} {'root gap':>9} "
          f"{'speed-up':>9}  verdict")
    for name, r in runs.items():
        median = statistics.median(r.seconds)
        ratio = ref_median / median
        verdict = "" if name == "A" else (
            f"{ratio:.2f}x faster" if ratio >= NO_CHANGE else
            f"{1 / ratio:.2f}x slower" if ratio <= 1 / NO_CHANGE else "no change")
        same = all(abs(o - best) <= gap * max(1.0, abs(best)) + 1e-6 for o in r.objectives)
        size = f"{r.size[0]:,} x {r.size[1]:,} ({r.size[2]:,})"
        print(f"  {name:<8} {size:>24} {median:9.2f} {min(r.seconds):7.2f}-{max(r.seconds):7.2f} "
              f"{statistics.median(r.cpu):7.2f} {statistics.median(r.iterations):11.0f} "
              f"{statistics.median(r.nodes):7.0f} {_gap(best, r.lp_bound):>7} "
              f"{_gap(best, statistics.median(r.root_bounds)):>9} {ratio:8.2f}x  {verdict}"
              f"{'' if same else '  (OTHER OPTIMUM)'}"
              f"{'' if r.statuses == {'Optimal'} else '  ' + '/'.join(sorted(r.statuses))}")


if __name__ == "__main__":
    raise SystemExit(main())
