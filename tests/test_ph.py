"""Progressive hedging on 2 MPI ranks reaches the extensive form's plan (tests/test_stochastic.py
derives it: line 2030, expected 5.65 MUSD; each future alone, the bound, 5.45).

Runs where mpi-sppy, mpi4py and mpiexec are installed (the [mpi] extra); skipped otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from instances import single_chain

pytest.importorskip("mpi4py")
pytest.importorskip("mpisppy")
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
    "mpiexec")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="mpiexec is not installed")


def test_ph_on_two_ranks_reaches_the_extensive_form(tmp_path):
    single_chain().write(tmp_path / "a")
    (tmp_path / "b.toml").write_text('base = "a"\n[[change]]\ntable = "programs"\ncolumn = '
                                     '"penalty_usd_per_kg"\nset = 10\n')
    done = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, "-m", "optimize", "stochastic", "a", "b.toml",
         "--engine", "ph", "--name", "t"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    folder = tmp_path / "results" / "stochastic-t-ph"  # -ph: beside the EF's
    s = json.loads((folder / "summary.json").read_text())
    assert s["ranks"] == 2 and s["converged"]
    assert s["plan"] == [{"facility": "line", "fid_year": 2030}]
    assert s["objective_musd"] == pytest.approx(5.65)
    assert s["trivial_bound_musd"] == pytest.approx(5.45)
    assert s["gap_to_bound"] == pytest.approx(0.2 / 5.65)
    futures = pd.read_csv(folder / "objectives.csv")
    assert futures.objective_musd.tolist() == pytest.approx([10.6, 0.7])
