"""The package passes ruff and mypy (settings in pyproject.toml), so CI enforces them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def test_ruff():
    done = _run("ruff", "check", "optimize", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy():
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
