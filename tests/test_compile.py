"""What HiGHS is handed: the compiled model's costs carry no round-off."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimize.data.checks import load
from optimize.model import build_model
from optimize.solve import ROUND_OFF, compile_model, without_round_off

ROOT = Path(__file__).resolve().parents[1]


def test_round_off_is_zeroed_and_nothing_else():
    cost = np.array([466.04, -1.7763568394002505e-15, 7.1e-15, 0.15, -3.0, 0.0, 1e-7])
    cleaned = without_round_off(cost)
    assert cleaned.tolist() == [466.04, 0.0, 0.0, 0.15, -3.0, 0.0, 1e-7]
    assert without_round_off(np.zeros(0)).size == 0


@pytest.mark.parametrize("inputs", ["inputs/baseline", "inputs/example"])
def test_no_cost_coefficient_is_round_off(inputs):
    """The baseline's FIDs in 2045 of Bear Lodge and Makuutu compile to 7e-15 and -2e-15
    (discounted capex and salvage cancel); HiGHS gets 0 for them."""
    form = compile_model(build_model(load(ROOT / inputs)))
    for cost in (form.cost_subsidy, form.cost_penalty, form.cost_tiebreak):
        nonzero = np.abs(cost[cost != 0])
        assert nonzero.min() > 1e3 * ROUND_OFF * nonzero.max()
