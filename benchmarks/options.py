"""Solver options compared by a protocol that survives a noisy machine (issue 16, item 2).

    python benchmarks/options.py [INPUTS ...] [--config NAME=opt:value,opt:value ...]
                                 [--seeds 3] [--repeats 3] [--time-limit 600]

Each INPUTS (an inputs folder or scenario file; default: the shipped inputs whose baseline
solve takes more than a second) is built and compiled once. Then, for each random seed and
each repeat, every configuration is solved once from scratch (a fresh HiGHS with the same
arrays), the configurations in a rotating order, so that A and B share the machine's drift.
Per configuration: the median HiGHS seconds over seeds x repeats, and the noise-free check
beside it, the median simplex iterations and branch-and-bound nodes (the same for every
repeat of a seed: HiGHS is deterministic for a seed and one thread). A speed-up under 1.3x
is reported as no change. Every configuration must reach the same optimum (to the gap).

Configurations: ``default`` (the settings' options) plus each ``--config``, e.g.
``--config lean=mip_allow_restart:false,mip_heuristic_effort:0``. Without ``--config`` the
candidates of issue 16 are compared. Benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimize.data.checks import load  # noqa: E402
from optimize.model import build_model  # noqa: E402
from optimize.pipeline import options_for  # noqa: E402
from optimize.solve import StandardForm, compile_model, highs_value, new_highs  # noqa: E402

#: The shipped inputs that take HiGHS more than a second (inputs/baseline solves in under one).
DEFAULT_INPUTS = ("inputs/baseline", "inputs/scenarios/china-dumping.toml",
                  "inputs/scenarios/myanmar-cutoff.toml", "inputs/scenarios/prices-2025.toml")
#: The candidates measured in issue 16 (with the settings' options as the baseline).
CANDIDATES = {
    "lean": {"mip_allow_restart": False, "mip_heuristic_effort": 0.0},
    "no-restart": {"mip_allow_restart": False},
    "no-heuristics": {"mip_heuristic_effort": 0.0},
}
NO_CHANGE = 1.3  # a speed-up under this is noise on this machine


@dataclass
class Runs:
    """What one configuration did on one instance."""

    seconds: list[float] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
    nodes: list[int] = field(default_factory=list)
    objectives: list[float] = field(default_factory=list)


def parse_config(text: str) -> tuple[str, dict[str, Any]]:
    """Return ``(name, options)`` of ``NAME=opt:value,opt:value``."""
    name, _, body = text.partition("=")
    options: dict[str, Any] = {}
    for item in filter(None, body.split(",")):
        key, _, raw = item.partition(":")
        value: Any = {"true": True, "false": False}.get(raw.lower(), raw)
        if isinstance(value, str):
            try:
                value = int(raw)
            except ValueError:
                try:
                    value = float(raw)
                except ValueError:
                    pass
        options[key] = highs_value(key, value)
    return name, options


def solve_once(form: StandardForm, base: dict[str, Any], extra: dict[str, Any],
               seed: int) -> tuple[float, int, int, float]:
    """Solve ``form`` in a fresh HiGHS; return (seconds, simplex iterations, nodes, objective)."""
    h = new_highs()
    for name, value in {**base, **extra, "random_seed": seed}.items():
        h.setOptionValue(name, value)
    form.pass_to(h)
    h.run()
    info = h.getInfo()
    return (h.getRunTime(), int(info.simplex_iteration_count), int(info.mip_node_count),
            float(info.objective_function_value))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="*", default=list(DEFAULT_INPUTS))
    p.add_argument("--config", action="append", default=[], metavar="NAME=opt:value,...")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--time-limit", type=float, default=600.0)
    args = p.parse_args()
    configs = {"default": {}, **(dict(parse_config(c) for c in args.config) if args.config
                                  else CANDIDATES)}
    names = list(configs)
    for inputs in args.inputs:
        data = load(ROOT / inputs)
        options = options_for(data, time_limit_s=args.time_limit)
        base = {"time_limit": options.time_limit_s, "mip_rel_gap": options.mip_gap,
                "threads": options.threads, **dict(options.own_options)}
        form = compile_model(build_model(data))
        runs = {name: Runs() for name in names}
        started = time.perf_counter()
        order = 0
        for seed in range(args.seeds):
            for _ in range(args.repeats):
                for k in range(len(names)):  # rotate who goes first
                    name = names[(order + k) % len(names)]
                    seconds, iterations, nodes, objective = solve_once(
                        form, base, configs[name], seed)
                    r = runs[name]
                    r.seconds.append(seconds)
                    r.iterations.append(iterations)
                    r.nodes.append(nodes)
                    r.objectives.append(objective)
                order += 1
        report(inputs, runs, time.perf_counter() - started, options.mip_gap)
    return 0


def report(inputs: str, runs: dict[str, Runs], wall: float, gap: float) -> None:
    """Print one instance's medians and each configuration's ratio against ``default``."""
    ref = runs["default"]
    ref_median = statistics.median(ref.seconds)
    best = min(min(r.objectives) for r in runs.values())
    print(f"\n{inputs} ({len(ref.seconds)} solves per configuration, {wall:.0f} s in all)")
    print(f"  {'configuration':<16} {'median s':>9} {'spread s':>13} {'iterations':>11} "
          f"{'nodes':>7} {'speed-up':>9}  verdict")
    for name, r in runs.items():
        median = statistics.median(r.seconds)
        ratio = ref_median / median
        verdict = "" if name == "default" else (
            f"{ratio:.2f}x faster" if ratio >= NO_CHANGE else
            f"{1 / ratio:.2f}x slower" if ratio <= 1 / NO_CHANGE else "no change")
        same = all(abs(o - best) <= gap * max(1.0, abs(best)) + 1e-6 for o in r.objectives)
        print(f"  {name:<16} {median:9.2f} {min(r.seconds):6.2f}-{max(r.seconds):6.2f} "
              f"{statistics.median(r.iterations):11.0f} {statistics.median(r.nodes):7.0f} "
              f"{ratio:8.2f}x  {verdict}{'' if same else '  (OTHER OPTIMUM)'}")


if __name__ == "__main__":
    raise SystemExit(main())
