"""The command-line side of the analyses under uncertainty: their subcommands of ``ree-plan``.

``optimize.cli`` adds these subcommands (``add_commands``) and hands them their arguments
(``run``); its exit codes and error handling apply (bad input: a message, exit 2).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from optimize.uncertainty import FUND_BY_DELAY

EXIT_SOLVED, EXIT_FAILED = 0, 1
COMMANDS = ("stress", "value", "stochastic", "sensitivity", "futures")


def add_commands(sub: Any, sweep_arguments: Any, solver_argument: Any) -> None:
    """Add the subcommands to ``ree-plan``'s subparsers."""
    s = sub.add_parser("stress", help="hold a solved run's FIDs in other futures: shortfall, "
                                      "subsidy and regret in each")
    s.add_argument("run", type=Path, help="a solved run folder, e.g. results/baseline")
    s.add_argument("scenarios", type=Path, nargs="+", help="inputs folders or scenario files")
    s.add_argument("--up-to", metavar="YEAR",
                   help="hold only the FIDs up to YEAR; later FIDs are free in each future")
    _common(s, solver_argument)
    v = sub.add_parser("value", help="the cost of doing without each funded project, and of "
                                     "funding each deposit anyway")
    v.add_argument("inputs", type=Path, help="inputs folder or scenario file")
    v.add_argument("--deposits", metavar="A,B,...",
                   help="candidates to fund anyway (default: every candidate mine)")
    v.add_argument("--fund-by", metavar="YEAR",
                   help=f"their latest FID year (default: each one's first possible FID year "
                        f"plus {FUND_BY_DELAY})")
    _common(v, solver_argument)
    t = sub.add_parser("stochastic", help="one plan for many futures: FIDs up to a year shared "
                                          "by all (extensive form), with EVPI and VSS")
    t.add_argument("scenarios", type=Path, nargs="*", help="inputs folders or scenario files")
    t.add_argument("--futures", type=Path, metavar="FOLDER",
                   help="a folder written by ree-plan futures: its scenarios and probabilities")
    t.add_argument("--probabilities", metavar="P1,P2,...",
                   help="one per scenario, summing to 1 (default: equal)")
    t.add_argument("--decide-by", metavar="YEAR",
                   help="FIDs up to YEAR are decided now, for every future (default: all)")
    t.add_argument("--cvar-weight", default="0", metavar="W",
                   help="weight of the CVaR of the shortfall penalty NPV (default 0: none)")
    t.add_argument("--cvar-alpha", default="0.9", metavar="A",
                   help="CVaR level: the mean of the worst 1-A of futures (default 0.9)")
    t.add_argument("--engine", choices=("ef", "ph"), default="ef",
                   help="ef: the extensive form by HiGHS (default); ph: progressive hedging "
                        "with mpi-sppy, run under mpiexec -n N (needs the [mpi] extra)")
    t.add_argument("--rho-factor", default=None, metavar="R",
                   help="ph: rho as this share of each FID's public capex NPV (default 0.1)")
    t.add_argument("--max-iterations", default="50", metavar="N",
                   help="ph: at most N iterations (default 50)")
    t.add_argument("--reference", metavar="RUN", type=Path,
                   help="solved run whose plan VSS compares with (default: the first "
                        "scenario's own optimum)")
    _common(t, solver_argument, workers=False)
    n = sub.add_parser("sensitivity", help="one input group at a time at its low and high "
                                           "value: tornado of subsidy NPV and covered years")
    n.add_argument("inputs", type=Path, help="inputs folder or scenario file")
    n.add_argument("--ranges", type=Path, metavar="FILE",
                   help="ranges file (default: the shipped optimize/uncertainty/ranges.toml)")
    _common(n, solver_argument)
    u = sub.add_parser("futures", help="draw or enumerate futures from a scenario-set file of "
                                       "distributions")
    u.add_argument("set_file", type=Path, metavar="SETFILE", help="scenario-set file (.toml)")
    u.add_argument("--name", help="analysis name, a plain name: results/futures-<name>/")


def _common(p: argparse.ArgumentParser, solver_argument: Any, workers: bool = True) -> None:
    from optimize.cli import WORKERS, bounded_flag, setting_flag

    p.add_argument("--name", help="analysis name, a plain name: results/<command>-<name>/")
    if workers:
        p.add_argument("--workers", type=bounded_flag(WORKERS), default=2,
                       help="local worker processes (default 2)")
        solver_argument(p)
    p.add_argument("--time-limit", type=setting_flag("solver.time_limit_s"), metavar="S",
                   help="solver time limit per solve")
    p.add_argument("--mip-gap", type=setting_flag("solver.mip_gap"), metavar="G",
                   help="relative MIP gap")


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Return the solve options given on the command line."""
    given = {"time_limit_s": args.time_limit, "mip_gap": args.mip_gap,
             "solver": getattr(args, "solver", None)}
    return {k: v for k, v in given.items() if v is not None}


def run(args: argparse.Namespace) -> int:
    """Run one of the subcommands; return its exit code."""
    return {"stress": _stress, "value": _value, "stochastic": _stochastic,
            "sensitivity": _sensitivity, "futures": _futures}[args.command](args)


def _name(given: str | None, derived: str) -> str:
    from optimize.cli import sweep_name

    return sweep_name(given, derived)


def _stress(args: argparse.Namespace) -> int:
    from optimize.data.checks import scenario_name
    from optimize.uncertainty import output, stress
    from optimize.uncertainty.plans import parse_year

    up_to = parse_year(args.up_to, "--up-to")
    name = _name(args.name, scenario_name(args.run) + (f"-to-{up_to}" if up_to else ""))
    result = stress.stress(args.run, args.scenarios, output.default_folder("stress", name),
                           up_to=up_to, workers=args.workers, overrides=overrides(args))
    cols = ["scenario", "held_status", "held_objective_musd", "objective_musd", "regret_musd",
            "held_shortfall_t", "held_first_full_coverage_year"]
    print(result.table[cols].to_string(index=False, float_format=lambda v: f"{v:,.1f}",
                                       na_rep="-"))
    return _finish(result.folder, "stress.csv", result.failures)


def _value(args: argparse.Namespace) -> int:
    from optimize.data.checks import scenario_name
    from optimize.uncertainty import output, value
    from optimize.uncertainty.plans import parse_year

    deposits = None if args.deposits is None else [
        d.strip() for d in args.deposits.split(",") if d.strip()]
    result = value.project_value(
        args.inputs, output.default_folder("value", _name(args.name, scenario_name(args.inputs))),
        deposits=deposits, fund_by=parse_year(args.fund_by, "--fund-by"), workers=args.workers,
        overrides=overrides(args))
    cols = ["case", "facility", "decision", "status", "value_musd", "funded"]
    print(result.table[cols].to_string(index=False, float_format=lambda v: f"{v:,.1f}",
                                       na_rep="-"))
    return _finish(result.folder, "value.csv", result.failures)


def number(text: str, flag: str, lower: float, upper: float, upper_open: bool = False) -> float:
    """Return a numeric flag within its bounds; InputError naming the flag otherwise."""
    from optimize.errors import InputError, Problem

    try:
        x = float(text)
    except ValueError:
        x = math.nan
    inside = lower <= x < upper if upper_open else lower <= x <= upper
    if not inside:
        below = "below" if upper_open else "at most"
        raise InputError([Problem(flag, None, None, f"must be at least {lower:g} and {below} "
                                  f"{upper:g}, got {text!r}")])
    return x


def _stochastic(args: argparse.Namespace) -> int:
    from optimize.uncertainty import output, stochastic
    from optimize.uncertainty.plans import parse_year

    risk = stochastic.Risk(number(args.cvar_weight, "--cvar-weight", 0.0, 1e6),
                           number(args.cvar_alpha, "--cvar-alpha", 0.0, 1.0, upper_open=True))
    decide_by = parse_year(args.decide_by, "--decide-by")
    scenarios = list(args.scenarios)
    probabilities = stochastic.parse_probabilities(args.probabilities)
    if args.futures is not None:
        from optimize.uncertainty.futures import read_futures_folder

        if scenarios or probabilities:
            raise ValueError("give either --futures FOLDER or scenarios (with --probabilities)")
        scenarios, probabilities = read_futures_folder(args.futures)  # type: ignore[assignment]
    if not scenarios:
        raise ValueError("give the scenarios of the futures, or --futures FOLDER")
    derived = f"{len(scenarios)}-futures" + (f"-by-{decide_by}" if decide_by else "")
    if args.engine == "ph":
        return _progressive_hedging(args, scenarios, probabilities, decide_by, derived)
    result = stochastic.stochastic(
        scenarios, output.default_folder("stochastic", _name(args.name, derived)),
        probabilities=probabilities, decide_by=decide_by,
        risk=risk, reference_run=args.reference, overrides=overrides(args))
    s = result.summary
    print(f"status: {s['status']}" + (f" ({s['message']})" if s.get("message") else ""))
    if not result.tables:
        return EXIT_FAILED
    plan = ", ".join(f"{p['facility']} {p['fid_year']}" for p in s["plan"]) or "nothing"
    print(f"first-stage plan (FIDs {'in every year' if decide_by is None else f'up to {decide_by}'}"
          f"): {plan}")
    print(result.tables["measures"].to_string(index=False, float_format=lambda v: f"{v:,.2f}",
                                              na_rep="-"))
    assert result.folder is not None
    return _finish(result.folder, "measures.csv", {})


def _sensitivity(args: argparse.Namespace) -> int:
    from optimize.data.checks import scenario_name
    from optimize.uncertainty import output, sensitivity

    result = sensitivity.sensitivity(
        args.inputs, output.default_folder("sensitivity",
                                           _name(args.name, scenario_name(args.inputs))),
        ranges=args.ranges, workers=args.workers, overrides=overrides(args))
    cols = ["group", "level", "status", "subsidy_npv_musd", "first_full_coverage_year"]
    print(result.table[cols].to_string(index=False, float_format=lambda v: f"{v:,.1f}",
                                       na_rep="-"))
    return _finish(result.folder, "sensitivity.csv", result.failures)


def _progressive_hedging(args: argparse.Namespace, scenarios: list[str | Path],
                         probabilities: list[float] | None, decide_by: int | None,
                         derived: str) -> int:
    from optimize.uncertainty import output, ph, stochastic

    ph.require_mpisppy()
    futures = stochastic.read_futures(scenarios, probabilities)  # checks them, on every rank
    # "-ph" after a given --name too: the extensive form's run of the same name keeps its folder.
    out = output.default_folder("stochastic", _name(args.name, derived) + "-ph")
    output.target(out, scenarios)  # refuse a folder before PH runs, on every rank
    factor = ph.RHO_FACTOR if args.rho_factor is None else number(
        args.rho_factor, "--rho-factor", 1e-9, 1e9)
    iterations = int(number(args.max_iterations, "--max-iterations", 0, 100000))
    result = ph.progressive_hedging(
        {f.name: str(s) for f, s in zip(futures, scenarios, strict=True)},
        {f.name: f.probability for f in futures}, decide_by, rho_factor=factor,
        max_iterations=iterations, overrides=overrides(args))
    if result is None:  # not rank 0
        return EXIT_SOLVED
    ph.write(result, out, scenarios)
    s = result.summary
    plan = ", ".join(f"{p['facility']} {p['fid_year']}" for p in s["plan"]) or "nothing"
    print(f"progressive hedging on {s['ranks']} rank(s): {s['iterations']} iterations, "
          f"converged {s['converged']} (convergence {s['convergence']:.3g})")
    print(f"first-stage plan: {plan}")
    print(f"expected objective {s['objective_musd']} MUSD; bound {s['trivial_bound_musd']:.2f}; "
          f"gap {s['gap_to_bound']}")
    return _finish(out, "objectives.csv", {})


def _futures(args: argparse.Namespace) -> int:
    from optimize.uncertainty import futures, output

    table = futures.futures(args.set_file, output.default_folder(
        "futures", _name(args.name, args.set_file.stem)))
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    folder = output.default_folder("futures", _name(args.name, args.set_file.stem))
    print(f"results: {folder / 'futures.csv'} (ree-plan stochastic --futures {folder})")
    return EXIT_SOLVED


def _finish(folder: Path, table: str, failures: dict[str, str]) -> int:
    for key, why in sorted(failures.items()):
        detail = " ".join(str(why).split())
        print(f"failed: {key}: {detail[:400]}", file=sys.stderr)
    print(f"report: {folder / 'report.html'}")
    print(f"results: {folder / table}")
    return EXIT_FAILED if failures else EXIT_SOLVED
