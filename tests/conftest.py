from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from invariants import check_run  # noqa: E402

from optimize.pipeline import RunResult, run  # noqa: E402


@pytest.fixture
def solve_checked(tmp_path):
    """Solve an Instance (or a folder), check every invariant (docs/formulation.md), return it."""
    counter = iter(range(10_000))

    def _solve(instance_or_folder, **overrides) -> RunResult:
        n = next(counter)
        if isinstance(instance_or_folder, Path):
            folder = instance_or_folder
        else:
            folder = instance_or_folder.write(tmp_path / f"in{n}")
        out = tmp_path / f"out{n}"
        result = run(folder, out=out, **overrides)
        if result.status.has_solution:
            violations = check_run(folder, out)
            assert violations == [], "\n".join(violations)
        return result

    return _solve
