"""ree-plan: which allied rare-earth mine-to-magnet projects to fund, and when.

The public API follows the data flow: ``load`` (read and validate an inputs folder into
ModelData), ``build_model``, ``solve``, and ``run`` (all of it, writing a run folder).
Names are imported on first use, so that ``import optimize`` (and the CLI's start) stays
fast: pandas and HiGHS load only when a command needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "InputError": "optimize.errors",
    "Problem": "optimize.errors",
    "SolveError": "optimize.errors",
    "SolverUnavailable": "optimize.errors",
    "load": "optimize.data.checks",
    "build_model": "optimize.model",
    "RunResult": "optimize.pipeline",
    "run": "optimize.pipeline",
    "SolveOptions": "optimize.solve",
    "SolveResult": "optimize.solve",
    "Status": "optimize.solve",
    "solve": "optimize.solve",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _WHERE:
        raise AttributeError(f"module 'optimize' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
