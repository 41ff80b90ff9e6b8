r"""Project value: what each funded project is worth, and what funding a left-out one costs.

With the optimum's objective :math:`z^*` and a decision ``d`` added to the inputs' own
(``optimize.data.decisions``: force or forbid a project),

.. math::

    value_f = z^*(\text{never } f) - z^* \qquad \forall f \text{ funded by the optimum}

    cost_d = z^*(\text{fund } d \text{ by } Y_d) - z^* \qquad \forall d \text{ in the deposits}

The first is the cost of doing without a funded project (what it saves; the rest of the plan
adapts); the second what funding a deposit the optimum leaves out would cost (``Y_d``:
``--fund-by``, else its first possible FID year plus ``FUND_BY_DELAY``). Decisions change
the model's rows, so each case is a model of its own, solved on the sweep's workers.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from optimize.data.checks import LoadedInputs, load_inputs
from optimize.data.modeldata import Decision, ModelData, possible_fid_years
from optimize.errors import InputError, Problem
from optimize.pipeline import options_for
from optimize.results.safety import claim
from optimize.sweep import Job, Progress, execute, failure_row
from optimize.uncertainty import FUND_BY_DELAY, output
from optimize.uncertainty.output import ANALYSIS_KIND
from optimize.uncertainty.plans import funded_text, solve_loaded, total_shortfall

COLUMNS = ("case", "facility", "decision", "status", "objective_musd", "value_musd",
           "subsidy_npv_musd", "penalty_npv_musd", "shortfall_t", "funded", "message")


def deposit_decisions(data: ModelData, deposits: list[str] | None,
                      fund_by: int | None) -> list[Decision]:
    """Return the ``fund_by`` decision of each deposit (default: every candidate mine).

    InputError naming ``--deposits`` or ``--fund-by`` for an unknown or existing facility
    or a year in which it may not take its FID.
    """
    fac = data.facilities
    names = deposits if deposits is not None else [
        f for f, c in fac.items() if c.candidate and c.stage == "mine"]
    problems, decided = [], {d.facility for d in data.decisions}
    out = []
    for name in names:
        c = fac.get(name)
        if c is None:
            close = difflib.get_close_matches(name, list(fac), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem("--deposits", None, None, f"unknown facility {name!r}{hint}"))
            continue
        if not c.candidate:
            problems.append(Problem("--deposits", None, None, f"{name!r} is not a candidate"))
            continue
        if name in decided:
            continue  # the inputs decide it already
        assert c.earliest_fid is not None
        years = possible_fid_years(c.earliest_fid, data.start_year, data.end_year)
        year = fund_by if fund_by is not None else min(years.start + FUND_BY_DELAY, years[-1])
        if year not in years:
            problems.append(Problem("--fund-by", None, None, f"{year} is outside the years in "
                                    f"which {name!r} may take its FID, {years.start}-{years[-1]}"))
            continue
        out.append(Decision(name, "fund_by", year))
    if problems:
        raise InputError(problems)
    return out


def with_decision(loaded: LoadedInputs, decision: Decision) -> LoadedInputs:
    """Return the inputs with one more decision."""
    data = replace(loaded.data, decisions=(*loaded.data.decisions, decision))
    return replace(loaded, data=data)


def solve_case(inputs: str, case: str, decision: Decision | None,
               overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """Solve the inputs with ``decision`` added; return the case's row (a worker job)."""
    row: dict[str, Any] = {"case": case, "facility": decision.facility if decision else "",
                           "decision": str(decision) if decision else ""}
    try:
        loaded = load_inputs(inputs)
        if decision is not None:
            loaded = with_decision(loaded, decision)
        s = solve_loaded(loaded, options_for(loaded.data, **overrides)).summary
    except Exception as exc:  # noqa: BLE001 - one case's failure is its row
        return [{**row, **failure_row("value", exc)}]
    return [{**row, "status": s["status"], "objective_musd": s.get("objective_musd"),
             "subsidy_npv_musd": s.get("subsidy_npv_musd"),
             "penalty_npv_musd": s.get("penalty_npv_musd"), "shortfall_t": total_shortfall(s),
             "funded": funded_text(s), "message": s.get("message") or "",
             "funded_list": s.get("funded") or []}]


@dataclass
class ValueResult:
    """A finished project valuation: its folder, table and failures."""

    folder: Path
    table: pd.DataFrame
    failures: dict[str, str]


def project_value(inputs: str | Path, out: Path, deposits: list[str] | None = None,
                  fund_by: int | None = None, workers: int = 2,
                  overrides: dict[str, Any] | None = None) -> ValueResult:
    """Value every funded project and price every deposit; write ``value.csv`` into ``out``."""
    loaded = load_inputs(inputs)
    anyway = deposit_decisions(loaded.data, deposits, fund_by)
    folder = output.target(out, [inputs])
    overrides = {"threads": 1, **(overrides or {})}
    with claim(folder, (ANALYSIS_KIND,)):
        (base,) = solve_case(str(inputs), "optimum", None, overrides)
        if base.get("objective_musd") is None:
            raise ValueError(f"{inputs}: the optimum has no plan ({base['status']}: "
                             f"{base.get('message')}); nothing to value")
        decided = {d.facility for d in loaded.data.decisions}
        funded = [f["facility"] for f in base["funded_list"] if f["facility"] not in decided]
        cases = [("without", Decision(f, "never")) for f in funded]
        cases += [("anyway", d) for d in anyway if d.facility not in funded]
        jobs = [Job(f"{case} {d.facility}", solve_case, (str(inputs), case, d, overrides))
                for case, d in cases]
        outcomes = {o.key: o for o in execute(jobs, workers, None, Progress(len(jobs), "value"))}
        rows = [base]
        for job in jobs:
            o = outcomes[job.key]
            rows.append(o.summaries[0] if o.summaries else
                        {"case": job.args[1], "facility": job.args[2].facility,
                         "decision": str(job.args[2]), "status": "error", "message": o.error})
        for r in rows:
            z = r.get("objective_musd")
            r["value_musd"] = None if z is None else z - base["objective_musd"]
        table = pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows], columns=COLUMNS)
        failures = {f"{r['case']} {r['facility']}": str(r.get("message") or r["status"])
                    for r in rows if r.get("status") in ("invalid", "error")}
        summary = {"analysis": "value", "inputs": str(inputs), "scenario": loaded.name,
                   "objective_musd": base["objective_musd"], "funded": funded,
                   "deposits": [d.as_given() for d in anyway], "failures": failures}
        output.write_analysis(folder, {"value": table}, summary, report(loaded.name, table))
    return ValueResult(out, table, failures)


def value_figure(table: pd.DataFrame) -> go.Figure:
    """Return horizontal bars: value of each funded project, cost of each deposit anyway."""
    rows = table[table.case != "optimum"].sort_values("value_musd")
    labels = [f"{c}: {f}" for c, f in zip(rows.case, rows.facility, strict=True)]
    fig = go.Figure(go.Bar(x=rows.value_musd, y=labels, orientation="h",
                           hovertext=rows.decision))
    fig.update_layout(xaxis_title="objective change against the optimum (MUSD NPV)",
                      title="Doing without each funded project; funding each deposit anyway",
                      height=200 + 25 * len(rows))
    return fig


def report(name: str, table: pd.DataFrame) -> str:
    """Return the valuation's report page."""
    return output.page(f"Project value: {name}", [
        "<p><b>without</b>: the project is forbidden and the plan adapts; its value is what "
        "that costs. <b>anyway</b>: a deposit the optimum leaves out is funded by a year; "
        "its value is the extra cost. MUSD NPV of subsidy plus shortfall penalty.</p>",
        output.figure(value_figure(table), "value"), output.table(table)])
