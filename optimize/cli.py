"""The ``ree-plan`` command: thin argument parsing over the pipeline, with exit codes.

Exit codes: 0 solved (optimal, or a plan within the limits), 1 infeasible or solver failure,
2 invalid input, including an output ree-plan will not write (``optimize.results.safety``).
Another run writing the same output folder is exit 1: the command is valid and can be run
again once that run is done.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optimize.data.load import check_value, parse_cell
from optimize.data.registry import SETTINGS, SOLVERS, Column, year_column
from optimize.errors import InputError, ReePlanWarning, SolverUnavailable
from optimize.results.safety import OutputBusy, OutputRefused

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
    s.add_argument("--out", help="results folder (default: results/<inputs name>); only a new "
                                 "or empty folder or a run folder ree-plan wrote is replaced")
    s.add_argument("--mode", choices=("min_subsidy", "max_coverage"),
                   help="objective (default: settings.toml)")
    _solver_argument(s)
    s.add_argument("--time-limit", type=setting_flag("solver.time_limit_s"), metavar="S",
                   help="solver time limit, seconds")
    s.add_argument("--mip-gap", type=setting_flag("solver.mip_gap"), metavar="G",
                   help="relative MIP gap, e.g. 1e-4")
    s.add_argument("--threads", type=setting_flag("solver.threads"), metavar="N",
                   help="solver threads")
    s.add_argument("--write-lp", metavar="FILE",
                   help="also write the model (min_subsidy objective) as an LP file")
    s.add_argument("--no-report", action="store_true", help="do not write report.html")
    s.add_argument("--verbose", action="store_true",
                   help="show the solver's progress as it solves (HiGHS's log)")
    r = sub.add_parser("report", help="write report.html for a run, compare or frontier folder")
    r.add_argument("folder", help="e.g. results/baseline")
    r.add_argument("--year", type=bounded_flag(year_column("year", "")),
                   help="year of the material-flow diagram (default: last)")
    c = sub.add_parser("compare", help="solve scenarios in parallel and compare them side by side")
    c.add_argument("scenarios", type=Path, nargs="+", help="inputs folders or scenario files")
    c.add_argument("--mode", choices=("min_subsidy", "max_coverage"))
    _sweep_arguments(c)
    f = sub.add_parser("frontier", help="coverage against budget: max_coverage at scaled budgets")
    f.add_argument("inputs", type=Path, help="inputs folder or scenario file")
    f.add_argument("--budget-scale", default="0:2:0.1", metavar="START:STOP:STEP",
                   help="scales applied to every budget (default 0:2:0.1)")
    _sweep_arguments(f)
    from optimize.uncertainty import commands  # stress, value, stochastic, sensitivity, ...

    commands.add_commands(sub, _sweep_arguments, _solver_argument)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    warnings.formatwarning = format_warning
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command in ("compare", "frontier"):
            return _sweep(args)
        if args.command == "report":
            return _report(args)
        from optimize.uncertainty import commands

        if args.command in commands.COMMANDS:
            return commands.run(args)
        return _solve(args)
    except InputError as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_INVALID
    except (SolverUnavailable, OutputRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except OutputBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are kept; run again with --resume to finish",
              file=sys.stderr)
        return EXIT_FAILED
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback by default
        if args.debug:
            traceback.print_exc()
        print(f"error: {type(exc).__name__}: {exc}\n(this is a bug in ree-plan; run with "
              "--debug for details)", file=sys.stderr)
        return EXIT_FAILED


_FORMAT_WARNING = warnings.formatwarning


def format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                   line: str | None = None) -> str:
    """Return ``warning: <message>`` for ree-plan's own warnings, Python's format otherwise."""
    if issubclass(category, ReePlanWarning):
        return f"warning: {message}\n"
    return _FORMAT_WARNING(message, category, filename, lineno, line)


def _validate(args: argparse.Namespace) -> int:
    from optimize.data.checks import load

    data = load(args.inputs)
    print(f"{args.inputs}: valid ({len(data.facilities)} facilities, {len(data.programs)} "
          f"programs, {data.start_year}-{data.end_year})")
    return EXIT_SOLVED


def _solve(args: argparse.Namespace) -> int:
    from optimize.pipeline import run

    out = args.out if args.out is not None else default_out(args.inputs)
    verbose: dict[str, Any] = {"solver_log": True} if args.verbose else {}
    if args.verbose and args.solver not in (None, "highs"):
        print(f"note: --verbose shows HiGHS's log; {args.solver} solves quietly",
              file=sys.stderr)
    result = run(args.inputs, out=out, write_lp=args.write_lp, report=not args.no_report,
                 mode=args.mode, solver=args.solver,
                 time_limit_s=args.time_limit, mip_gap=args.mip_gap, threads=args.threads,
                 **verbose)
    emit(format_summary(result.summary, Path(out)))
    return EXIT_SOLVED if result.status.has_solution else EXIT_FAILED


def default_out(inputs: Path) -> Path:
    """Return ``results/<inputs name>``, refusing a name that is no folder name ('.', '..')."""
    from optimize.data.checks import scenario_name

    name = scenario_name(inputs)
    if name in ("", ".", ".."):
        raise OutputRefused(f"cannot name a results folder after {str(inputs)!r}; give one "
                            "with --out")
    return Path("results") / name


def _report(args: argparse.Namespace) -> int:
    from optimize.report.html import report_target, write_report
    from optimize.results.safety import locked

    folder = report_target(args.folder)
    with locked(folder, f"folder {args.folder!r}"):
        path = write_report(folder, args.year)
    print(f"report: {Path(args.folder) / path.name}")
    return EXIT_SOLVED


def _sweep(args: argparse.Namespace) -> int:
    from optimize import sweep
    from optimize.data.checks import scenario_name

    overrides = {"time_limit_s": args.time_limit, "mip_gap": args.mip_gap,
                 "solver": args.solver}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    common = dict(workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                  overrides=overrides, report=True)
    if args.command == "compare":
        if args.mode:
            overrides["mode"] = args.mode
        names = [scenario_name(s) for s in args.scenarios]
        derived = "-vs-".join(names) if len(names) <= 3 else f"{len(names)}-scenarios"
        name = sweep_name(args.name, derived)
        result = sweep.compare(args.scenarios, Path("results") / f"compare-{name}", **common)
        table = result.table.set_index(["metric", "item"])
        print(table.to_string(float_format=lambda v: f"{v:,.2f}", na_rep="-"))
        written = result.folder / "comparison.csv"
    else:
        scales = sweep.parse_scales(args.budget_scale)
        name = sweep_name(args.name, scenario_name(args.inputs))
        result = sweep.frontier(args.inputs, scales, Path("results") / f"frontier-{name}",
                                **common)
        cols = [c for c in ("budget_scale", "status", "subsidy_npv_musd", "coverage")
                if c in result.table]
        print(result.table[cols].to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
        written = result.folder / "frontier.csv"
    print(f"report: {result.folder / 'report.html'}")
    for key, why in sorted(result.failures.items()):
        detail = " ".join(line.strip() for line in why.splitlines())
        print(f"failed: {key}: {detail[:400]}", file=sys.stderr)
    if result.failures:
        print("finished runs are kept; fix what failed and run again with --resume",
              file=sys.stderr)
    print(f"results: {written}")
    return EXIT_FAILED if result.failures else EXIT_SOLVED


def sweep_name(given: str | None, derived: str) -> str:
    """Return the sweep's name: ``--name`` if given, else ``derived``; a plain name or exit 2."""
    from optimize.results.safety import plain_name_problem, require_plain_name

    if given is not None:
        return require_plain_name(given, "--name")
    problem = plain_name_problem(derived)
    if problem is not None:
        raise OutputRefused(f"the sweep's name taken from its inputs, {derived!r}, is not a "
                            f"plain name ({problem}); give one with --name")
    return derived


def emit(text: str) -> None:
    """Print to stdout; a reader that closed the pipe early (``| head``) is not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def format_summary(s: dict[str, Any], out: Path) -> str:
    """Return the short printed summary of a run."""
    lines = [f"status: {s['status']}" + (f" ({s['message']})" if s.get("message") else "")]
    if s.get("decisions"):
        from optimize.data.modeldata import Decision

        lines.append("decisions: " + "; ".join(str(Decision.from_given(d))
                                               for d in s["decisions"]))
    if s.get("objective_musd") is None:
        lines.append(f"no plan; summary written to {out / 'summary.json'}")
        return "\n".join(lines)
    gap = s.get("mip_gap")
    gap_text = f"{gap:.2%}" if gap is not None else "unknown"
    lines.append(f"subsidy NPV: {s['subsidy_npv_musd']:,.1f} MUSD   shortfall penalty NPV: "
                 f"{s['penalty_npv_musd']:,.1f} MUSD   gap: {gap_text}")
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
        buyer = (s.get("assumptions") or {}).get("buyer", {}).get(p, "us-defense")
        tag = "" if buyer == "us-defense" else f" [{buyer}]"
        lines.append(f"  {p + tag:<32} {mean:6.1%} on average; shortfall "
                     f"{s['shortfall_t'][p]:,.1f} t; fully covered from {first or 'never'}")
    lines.append(f"results: {out}/ (build {s['build_seconds']:.1f} s, solve "
                 f"{s['solve_seconds']:.1f} s)")
    return "\n".join(lines)


def _sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="sweep name, a plain name (no '/', no leading dot): "
                                  "results/<kind>-<name>/")
    p.add_argument("--workers", type=bounded_flag(WORKERS), default=2,
                   help="local worker processes (default 2)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing dask.distributed scheduler instead")
    p.add_argument("--resume", action="store_true",
                   help="keep finished runs of an interrupted sweep; solve only what is missing")
    _solver_argument(p)
    p.add_argument("--time-limit", type=setting_flag("solver.time_limit_s"), metavar="S",
                   help="solver time limit per solve")
    p.add_argument("--mip-gap", type=setting_flag("solver.mip_gap"), metavar="G",
                   help="relative MIP gap")


#: ``--workers``: local worker processes, one solve each at a time.
WORKERS = Column("workers", "int", lower=1, upper=256)


def setting_flag(name: str) -> Callable[[str], Any]:
    """Return an argparse type reading a flag as settings.toml's ``name``, within its bounds."""
    return bounded_flag(SETTINGS.column(name))


def bounded_flag(column: Column) -> Callable[[str], Any]:
    """Return an argparse type reading a flag as a cell of ``column``: type, bounds, finite."""

    def parse(text: str) -> Any:
        value, why = parse_cell(text.strip(), column)
        why = why or check_value(value, column)
        if why is not None:
            raise argparse.ArgumentTypeError(why)
        return value

    return parse


def _solver_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solver", choices=SOLVERS, metavar="NAME",
                   help=f"MIP solver: {', '.join(SOLVERS)} (default: settings.toml; all but "
                        "highs need their extra, e.g. pip install 'ree-plan[scip]')")
