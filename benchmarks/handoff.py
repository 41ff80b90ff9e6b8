"""Measure the Pyomo -> HiGHS hand-off paths on our own model (issue 2's choice of path).

    python benchmarks/handoff.py INPUTS [INPUTS ...]

For each inputs folder: build the Pyomo model once per path, then time only the hand-off
(model built -> HiGHS holds the model, ready to run): Pyomo's LinearStandardFormCompiler +
highspy passModel (what optimize/solve.py uses), an LP file + readModel, appsi's persistent
Highs (set_instance), and pyomo.contrib.solver's Highs (set_instance).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from optimize.data.checks import load
from optimize.model import build_model
from optimize.solve import compile_model, new_highs


def standard_form(b) -> None:
    form = compile_model(b)
    h = new_highs()
    h.passModel(form.lp)


def lp_file(b) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "model.lp")
        b.m.write(path, io_options={"symbolic_solver_labels": False})
        h = new_highs()
        h.readModel(path)


def appsi(b) -> None:
    from pyomo.contrib.appsi.solvers import Highs

    Highs().set_instance(b.m)


def contrib_solver(b) -> None:
    from pyomo.contrib.solver.solvers.highs import Highs

    Highs().set_instance(b.m)


PATHS = {"standard form + passModel": standard_form, "LP file + readModel": lp_file,
         "appsi set_instance": appsi, "contrib.solver set_instance": contrib_solver}


def main(folders: list[str]) -> int:
    for folder in folders:
        data = load(folder)
        print(f"\n{folder}")
        for name, path in PATHS.items():
            b = build_model(data)
            t = time.perf_counter()
            path(b)
            print(f"  {name:<30} {time.perf_counter() - t:7.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
