"""The ``ree-plan`` command: thin argument parsing over the pipeline, with exit codes.

Exit codes: 0 solved (optimal, or a plan within the limits), 1 infeasible or solver failure,
2 invalid input.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any

from optimize.errors import InputError

EXIT_SOLVED, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ree-plan",
        description="Which allied rare-earth mine-to-magnet projects to fund, and when.",
    )
    p.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="check an inputs folder and report every problem")
    v.add_argument("inputs", type=Path, help="inputs folder or scenario .toml file")
    s = sub.add_parser("solve", help="solve an inputs folder and write its results folder")
    s.add_argument("inputs", type=Path, help="inputs folder or scenario .toml file")
    s.add_argument("--out", type=Path, help="results folder (default: results/<inputs name>)")
    s.add_argument("--mode", choices=("min_subsidy", "max_coverage"),
                   help="objective (default: settings.toml)")
    s.add_argument("--time-limit", type=float, metavar="S", help="HiGHS time limit, seconds")
    s.add_argument("--mip-gap", type=float, metavar="G", help="relative MIP gap, e.g. 1e-4")
    s.add_argument("--threads", type=int, metavar="N", help="HiGHS threads")
    s.add_argument("--write-lp", type=Path, metavar="FILE",
                   help="also write the model (min_subsidy objective) as an LP file")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        return _solve(args)
    except InputError as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; no results were written", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback by default
        if args.debug:
            traceback.print_exc()
        print(f"error: {type(exc).__name__}: {exc}\n(this is a bug in ree-plan; run with "
              "--debug for details)", file=sys.stderr)
        return EXIT_FAILED


def _validate(args: argparse.Namespace) -> int:
    from optimize.data.checks import load

    data = load(args.inputs)
    print(f"{args.inputs}: valid ({len(data.facilities)} facilities, {len(data.programs)} "
          f"programs, {data.start_year}-{data.end_year})")
    return EXIT_SOLVED


def _solve(args: argparse.Namespace) -> int:
    from optimize.data.checks import scenario_name
    from optimize.pipeline import run

    out = args.out or Path("results") / scenario_name(args.inputs)
    result = run(args.inputs, out=out, write_lp=args.write_lp, mode=args.mode,
                 time_limit_s=args.time_limit, mip_gap=args.mip_gap, threads=args.threads)
    print(format_summary(result.summary, out))
    return EXIT_SOLVED if result.status.has_solution else EXIT_FAILED


def format_summary(s: dict[str, Any], out: Path) -> str:
    """Return the short printed summary of a run."""
    lines = [f"status: {s['status']}" + (f" ({s['message']})" if s.get("message") else "")]
    if s.get("objective_musd") is None:
        lines.append(f"no plan; summary written to {out / 'summary.json'}")
        return "\n".join(lines)
    gap = s.get("mip_gap") or 0.0
    lines.append(f"subsidy NPV: {s['subsidy_npv_musd']:,.1f} MUSD   shortfall penalty NPV: "
                 f"{s['penalty_npv_musd']:,.1f} MUSD   gap: {gap:.2%}")
    lines.append("funded:" if s["funded"] else "funded: nothing")
    for f in s["funded"]:
        lines.append(f"  {f['facility']:<32} FID {f['fid_year']}  first output "
                     f"{f['first_output_year']}")
    paid = s.get("paid_by_funding_program_musd") or {}
    if paid:
        lines.append("paid (undiscounted MUSD): " + ", ".join(f"{g} {v:,.1f}"
                                                            for g, v in paid.items()))
    lines.append("coverage (clean magnets delivered / demanded, from the China-free date):")
    for p, years in s["coverage"].items():
        shares = [v for v in years.values() if v is not None]
        mean = sum(shares) / len(shares) if shares else 0.0
        first = s["first_full_coverage_year"][p]
        lines.append(f"  {p:<32} {mean:6.1%} on average; shortfall {s['shortfall_t'][p]:,.1f} t;"
                     f" fully covered from {first if first else 'never'}")
    lines.append(f"results: {out}/ (build {s['build_seconds']:.1f} s, solve "
                 f"{s['solve_seconds']:.1f} s)")
    return "\n".join(lines)
