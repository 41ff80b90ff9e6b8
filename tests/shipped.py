"""Solve one shipped inputs folder or scenario in a worker process (see test_shipped.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {
    "example": ROOT / "inputs" / "example",
    "baseline": ROOT / "inputs" / "baseline",
    **{p.stem: p for p in sorted((ROOT / "inputs" / "scenarios").glob("*.toml"))},
}


def solve_to(name: str, out: str) -> dict[str, Any]:
    """Solve a shipped input into ``out`` and return its summary (picklable, unlike a run)."""
    from optimize.pipeline import run

    return run(SHIPPED[name], out=out).summary
