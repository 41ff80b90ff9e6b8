"""The benchmark generator makes valid inputs (run once at size S; benchmarks are not tests)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from generate import SIZES, generate  # noqa: E402

from optimize.data.checks import load  # noqa: E402


def test_generator_size_s_is_valid_and_deterministic(tmp_path):
    a = generate(tmp_path / "a", SIZES["S"], seed=7, offtake=0.5)
    b = generate(tmp_path / "b", SIZES["S"], seed=7, offtake=0.5)
    data = load(a)
    assert len(data.facilities) == 40
    assert len(data.links) == 7 and all(data.facilities[m].stage == "mine" for m in data.links)
    for f in a.iterdir():
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name
