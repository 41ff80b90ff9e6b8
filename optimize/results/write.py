"""Write a run folder atomically: build it beside the target, then swap it in."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optimize.results.tables import Tables

FLOAT_FORMAT = "%.10g"


def write_run(out: Path, summary: dict[str, Any], tables: Tables | None,
              before_swap: Callable[[Path], Any] | None = None) -> None:
    """Write ``summary.json`` and the tables into ``out``, replacing it whole.

    Everything is written into a temporary folder next to ``out`` first; only a complete
    folder is renamed into place, so a run that fails leaves the previous results intact.
    ``before_swap(folder)`` can add files built from the written tables (the report).
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it private; results are shared
    try:
        if tables is not None:
            for name, frame in tables.frames.items():
                frame.to_csv(tmp / f"{name}.csv", index=False, float_format=FLOAT_FORMAT,
                             lineterminator="\n")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n",
                                          encoding="utf-8")
        if before_swap is not None:
            before_swap(tmp)
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def current_umask() -> int:
    """Return the process umask (reading it means setting it; it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap_in(new: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rmdir(old)
        os.rename(out, old)
    try:
        os.rename(new, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
