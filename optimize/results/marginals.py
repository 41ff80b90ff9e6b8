"""Marginal values of the plan: what one more unit of a budget or of demand is worth.

After the MIP, the plan's binaries (FIDs) are fixed and the LP that remains is solved again;
its duals are the marginal values *given that plan* (a larger change may fund another
project, which no dual sees). The objective is subsidy + penalty NPV (MUSD):

- ``annual_budget`` (program, year): NPV saved per extra MUSD of the funding program's budget
  in that year (0 where the budget does not bind); summed over years in summary.json, the
  value of one more MUSD in every year of its annual budget;
- ``total_budget`` (program): NPV saved per extra MUSD of its total budget;
- ``demand_met`` (program, year): NPV added by one more t of the defense program's clean
  demand in that year (the cost of a tonne more: delivered, or its shortfall penalty).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

COLUMNS = ["constraint", "program", "year", "value", "unit"]

#: For each constraint family: its sign (HiGHS's row dual is d objective / d bound) and unit.
FAMILIES = {
    "annual_budget": (-1.0, "MUSD NPV saved per MUSD of budget"),
    "total_budget": (-1.0, "MUSD NPV saved per MUSD of budget"),
    "demand_met": (1.0, "MUSD NPV per t of demand"),
}

#: Duals smaller than this are solver noise.
NOISE = 1e-9


def marginals_table(duals: dict[Any, float] | None) -> pd.DataFrame:
    """Return the marginal values of budgets and demand from the rows' duals (tidy)."""
    rows = []
    for con, dual in (duals or {}).items():
        family = con.parent_component().local_name
        if family not in FAMILIES:
            continue
        sign, unit = FAMILIES[family]
        key = con.index()
        program, year = (key, None) if family == "total_budget" else key
        value = sign * dual
        rows.append((family, program, year, 0.0 if abs(value) < NOISE else value, unit))
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["year"] = df["year"].astype("Int64")
    return df


def marginals_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Return the summary.json fields: per funding program, and per program and year."""
    def of(family: str) -> pd.DataFrame:
        return table[table.constraint == family]

    return {
        "annual_budget_musd_per_musd": of("annual_budget").groupby("program").value.sum()
        .to_dict(),
        "total_budget_musd_per_musd": dict(zip(of("total_budget").program,
                                               of("total_budget").value, strict=True)),
        "demand_musd_per_t": {p: {str(r.year): r.value for r in d.itertuples()}
                              for p, d in of("demand_met").groupby("program")},
    }

