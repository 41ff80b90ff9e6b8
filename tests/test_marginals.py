"""Marginal values: the duals of the plan's LP are what one more unit really saves or costs.

Checked against finite differences on the same LP (the plan's FIDs fixed, objective subsidy
+ penalty): raise one budget or one year's demand a little, re-solve, compare.
"""

from __future__ import annotations

import highspy
import numpy as np
import pandas as pd
import pytest
from instances import EXAMPLE

from optimize.data.checks import load
from optimize.model import build_model
from optimize.pipeline import run
from optimize.results.marginals import marginals_table
from optimize.solve import HighsModel, SolveOptions, compile_model, new_highs

STEP = 0.01


@pytest.fixture(scope="module")
def tight():
    """The example at 10% of its budgets (annual and total bind), solved, with marginals."""
    m = build_model(load(EXAMPLE))
    m.budget_scale.set_value(0.1)
    model = HighsModel(m, SolveOptions(mip_gap=0.0))
    assert model.solve().status == "optimal"
    return m, marginals_table(model.plan_duals())


def _lp_objective(m, row_name: str, delta: float) -> float:
    """Solve the plan's LP (FIDs fixed) with one row's bounds moved by ``delta``."""
    for v in m.fid.values():
        v.fix(round(v.value))
    try:
        form = compile_model(m)
    finally:
        for v in m.fid.values():
            v.unfix()
    h = new_highs()
    form.pass_to(h)
    h.changeColsCost(form.n_col, np.arange(form.n_col, dtype=np.int32),
                     form.cost_subsidy + form.cost_penalty)
    i = [c.name for c in form.rows].index(row_name)
    lower, upper = form.row_lower[i], form.row_upper[i]
    h.changeRowBounds(i, lower + delta if np.isfinite(lower) else lower, upper + delta)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value


def _check(m, row: pd.Series, name: str) -> None:
    before, after = _lp_objective(m, name, 0.0), _lp_objective(m, name, STEP)
    slope = (after - before) / STEP
    expected = -row.value if row.constraint.endswith("budget") else row.value
    assert slope == pytest.approx(expected, rel=1e-4, abs=1e-6), (name, slope, row.value)


def test_a_binding_annual_budget_saves_what_its_dual_says(tight):
    m, table = tight
    binding = table[(table.constraint == "annual_budget") & (table.value > 1e-6)]
    assert len(binding), "10% of the example's budgets should bind somewhere"
    row = binding.iloc[0]
    assert row.value > 0  # more budget never costs more
    _check(m, row, f"annual_budget[{row.program},{row.year}]")


def test_a_binding_total_budget_saves_what_its_dual_says(tight):
    m, table = tight
    row = table[(table.constraint == "total_budget") & (table.value > 1e-6)].iloc[0]
    _check(m, row, f"total_budget[{row.program}]")


def test_a_slack_budget_is_worth_nothing(tight):
    m, table = tight
    budgets = table[table.constraint == "annual_budget"]
    slack = budgets[budgets.value == 0]
    assert len(slack)
    row = slack.iloc[0]
    _check(m, row, f"annual_budget[{row.program},{row.year}]")


def test_one_more_tonne_of_demand_costs_what_its_dual_says(tight):
    m, table = tight
    demand = table[table.constraint == "demand_met"]
    assert (demand.value >= -1e-9).all()  # more demand never saves money
    for _, row in demand.sort_values("value").iloc[[0, -1]].iterrows():
        _check(m, row, f"demand_met[{row.program},{row.year}]")


def test_a_run_writes_its_marginals(tmp_path):
    result = run(EXAMPLE, out=tmp_path / "run")
    table = pd.read_csv(tmp_path / "run" / "marginals.csv")
    assert set(table.constraint) == {"annual_budget", "total_budget", "demand_met"}
    mv = result.summary["marginals"]
    assert set(mv["annual_budget_musd_per_musd"]) == set(table[table.constraint ==
                                                                "annual_budget"].program)
    assert set(mv["demand_musd_per_t"]) == set(table[table.constraint == "demand_met"].program)
