"""Helpers for the output-safety tests: a solve that runs no solver, and a tree of sentinels."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pandas as pd

from optimize import pipeline
from optimize.results.tables import Tables
from optimize.results.write import write_run


def fake_summary(name: str) -> dict[str, Any]:
    """A summary.json with ree-plan's keys and no plan (the CLI prints it briefly)."""
    return {"scenario": name, "mode": "min_subsidy", "status": "optimal", "message": "",
            "objective_musd": None, "subsidy_npv_musd": None, "penalty_npv_musd": None,
            "mip_gap": 0.0, "inputs_sha256": "fake"}


def fake_tables() -> Tables:
    return Tables({"plan": pd.DataFrame({"facility": ["mine", "-mine"], "fid_year": [2030, None],
                                         "capex_musd": [-1.5, 2.0]})})


def install_fake_solve(monkeypatch) -> list[Any]:
    """Replace model building and solving by a write of a small run folder; return the calls.

    Everything before (the output checks, loading the inputs, the lock) runs as in a real
    solve; ``calls`` records each build and each write, so a test can tell that a refused
    command solved nothing.
    """
    calls: list[Any] = []

    def model_for(self, data, options):
        calls.append("build")
        return None, 0.0, False

    def solve_model(loaded, model, build_seconds, out=None, write_lp=None, report=False,
                    tag=None):
        calls.append(("write", out))
        summary = fake_summary(loaded.name)
        if out is not None:
            write_run(Path(out), summary, fake_tables())
        return pipeline.RunResult(summary, None, Path(out) if out is not None else None,
                                  loaded.data)

    monkeypatch.setattr(pipeline.ModelCache, "model_for", model_for)
    monkeypatch.setattr(pipeline, "solve_model", solve_model)
    return calls


def snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` (relative) with its content hash ('dir' for folders)."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            found[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in filenames:
            path = os.path.join(dirpath, f)
            with open(path, "rb") as fh:
                found[os.path.relpath(path, root)] = hashlib.sha256(fh.read()).hexdigest()
    return found


def make_run_folder(folder: Path, name: str = "old") -> Path:
    """Write a run folder as ree-plan does (marker, summary.json, plan.csv)."""
    write_run(folder, fake_summary(name), fake_tables())
    return folder
