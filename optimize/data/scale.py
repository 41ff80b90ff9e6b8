"""Warn about inputs whose magnitudes a MIP solver cannot handle well.

Valid inputs can still be badly scaled: a capacity multiplied by 1e-7 in a scenario, a price
typed in USD/t among prices in USD/kg. A solver works to absolute tolerances of about 1e-6
to 1e-9, so like quantities (tonnages, prices, money, shares) whose largest and smallest
nonzero values are more than RANGE_LIMIT apart, a nonzero tonnage below SMALLEST_T, or a
discount rate that shrinks the last year's money RANGE_LIMIT-fold, may give wrong or
unstable plans. These are warnings (``ReePlanWarning``), not errors: the inputs may be
meant, and the run goes on. Each names the file, row and column of the figure. They are
looked for only in inputs that passed validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimize.data.load import Inputs
from optimize.data.registry import SETTINGS
from optimize.errors import Problem

RANGE_LIMIT = 1e9
SMALLEST_T = 1e-6
MAX_TINY_WARNINGS = 10

#: Like quantities, by unit: the columns holding them, as (table, column).
QUANTITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "t": (("facilities", "capacity_t"), ("offers", "max_t")),
    "USD/kg": (("facilities", "variable_usd_per_kg"), ("prices", "usd_per_kg"),
               ("offers", "usd_per_kg"), ("programs", "penalty_usd_per_kg")),
    "MUSD": (("facilities", "capex_musd"), ("facilities", "fixed_om_musd"),
             ("funding", "annual_musd"), ("funding", "total_musd")),
    "kg/kg": (("elements", "metal_per_oxide"), ("assays", "share"),
              ("recoveries", "recovery"), ("grades", "kg_per_kg"), ("facilities", "yield"),
              ("facilities", "ramp"), ("facilities", "available_share"),
              ("facilities", "public_share"), ("facilities", "payability")),
}


@dataclass(frozen=True)
class Figure:
    """One nonzero figure of the inputs and where it is."""

    value: float
    file: str
    row: int
    column: str

    def problem(self, message: str) -> Problem:
        """Return a problem at this figure's file, row and column."""
        return Problem(self.file, self.row, self.column, message)


def scale_warnings(inputs: Inputs) -> list[Problem]:
    """Return a warning for each quantity whose range, or tonnage, is beyond the solver."""
    found: list[Problem] = []
    for unit in QUANTITIES:
        figures = nonzero_figures(inputs, unit)
        if unit == "t":
            found += tiny_tonnages(figures)
        found += range_warning(figures, unit)
    return found + discount_warning(inputs.settings)


def discount_warning(settings: dict[str, Any]) -> list[Problem]:
    """Return a warning when discounting shrinks the last year's money RANGE_LIMIT-fold."""
    rate: float = settings["discount_rate"]
    start: int = settings["start_year"]
    end: int = settings["end_year"]
    if end <= start:
        return []
    factor = (1 + rate) ** (start - end)
    if factor >= 1 / RANGE_LIMIT:
        return []
    return [Problem(SETTINGS.file, None, "discount_rate", (
        f"at {rate:g} over {end - start} years, a MUSD in {end} counts {factor:.1e} of one in "
        f"{start}: money more than {RANGE_LIMIT:g} apart is more than the solver handles well"))]


def nonzero_figures(inputs: Inputs, unit: str) -> list[Figure]:
    """Return the nonzero figures in ``unit``: its columns (and, for t, the demand in t)."""
    figures: list[Figure] = []
    for name, column in QUANTITIES[unit]:
        table = inputs[name]
        for line, row in table:
            value = row.get(column)
            values = value if isinstance(value, tuple) else (value,)
            figures += [Figure(abs(float(v)), table.table.file, line, column)
                        for v in values if isinstance(v, (int, float)) and v != 0]
    if unit == "t":
        figures += demand_tonnes(inputs)
    return figures


def demand_tonnes(inputs: Inputs) -> list[Figure]:
    """Return each demand row's tonnes of magnet (units times the program's kg per unit)."""
    kg_per_unit = {r["program"]: r["kg_per_unit"] for _, r in inputs["programs"]}
    demand = inputs["demand"]
    figures = []
    for line, r in demand:
        kg = kg_per_unit.get(r["program"])
        if kg and r["units"]:
            figures.append(Figure(r["units"] * kg / 1000, demand.table.file, line, "units"))
    return figures


def tiny_tonnages(figures: list[Figure]) -> list[Problem]:
    """Return a warning for each nonzero tonnage below SMALLEST_T (the first few, then a count)."""
    tiny = [f for f in figures if f.value < SMALLEST_T]
    found = [f.problem(f"{f.value:g} t is below {SMALLEST_T:g} t, more finely than the "
                       "solver can tell from 0 (check the units, or make it 0)")
             for f in tiny[:MAX_TINY_WARNINGS]]
    if len(tiny) > MAX_TINY_WARNINGS:
        f = tiny[MAX_TINY_WARNINGS]
        found.append(Problem(f.file, None, None, f"{len(tiny) - MAX_TINY_WARNINGS} more "
                                                 f"tonnages below {SMALLEST_T:g} t"))
    return found


def range_warning(figures: list[Figure], unit: str) -> list[Problem]:
    """Return a warning at the smallest figure when the largest is RANGE_LIMIT times more."""
    if not figures:
        return []
    small = min(figures, key=lambda f: f.value)
    large = max(figures, key=lambda f: f.value)
    ratio = large.value / small.value
    if ratio <= RANGE_LIMIT:
        return []
    return [small.problem(
        f"{small.value:g} {unit} is {ratio:.1e} times smaller than {large.value:g} {unit} "
        f"({large.file}, row {large.row}, column {large.column}); like quantities more than "
        f"{RANGE_LIMIT:g} apart are more than the solver handles well (check the units)")]
