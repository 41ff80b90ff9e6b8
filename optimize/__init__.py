"""ree-plan: which allied rare-earth mine-to-magnet projects to fund, and when.

The public API follows the data flow: ``load`` (read and validate an inputs folder into
ModelData), ``build_model``, ``solve``, and ``run`` (all of it, writing a run folder).
"""

from optimize.data.checks import load
from optimize.errors import InputError, Problem, SolveError
from optimize.model import build_model
from optimize.pipeline import RunResult, run
from optimize.solve import SolveOptions, SolveResult, Status, solve

__all__ = [
    "InputError",
    "Problem",
    "RunResult",
    "SolveError",
    "SolveOptions",
    "SolveResult",
    "Status",
    "build_model",
    "load",
    "run",
    "solve",
]
