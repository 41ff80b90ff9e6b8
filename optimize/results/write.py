"""Write a run folder atomically: build it beside the target, then swap it in.

The new folder is built as ``.<name>.tmp-XXXXXXXX`` beside the target, with the marker
``.ree-plan-run`` written first (so that a killed run's half-built folder is recognisably
ours) and rewritten last, listing the files, once the folder is complete. On Linux the swap
is one ``renameat2(RENAME_EXCHANGE)``: the output path holds the old folder or the new one at
every instant, and the old one, now under the hidden name, is removed. Where the exchange
is unavailable (another OS, or a filesystem without it) the old folder is renamed away to
``.<name>.old-XXXXXXXX`` and the new one renamed in, putting the old one back if that fails;
a kill between the two renames leaves the output missing, and the next run puts the old
folder back (``optimize.results.safety.tidy_leftovers``).

CSV text cells that a spreadsheet would run as a formula are written with a leading ``'``
(``spreadsheet_safe``).
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import ctypes.util
import errno
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from optimize.results.safety import MARKER, RUN, check_replaceable

if TYPE_CHECKING:  # tables imports Pyomo; writing a folder does not need it
    from optimize.results.tables import Tables

FLOAT_FORMAT = "%.10g"
AT_FDCWD = -100
RENAME_EXCHANGE = 2
#: errno values meaning "this system or filesystem cannot exchange": fall back to renames.
NO_EXCHANGE = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


def write_run(out: Path, summary: dict[str, Any], tables: Tables | None,
              before_swap: Callable[[Path], Any] | None = None) -> None:
    """Write ``summary.json`` and the tables into ``out``, replacing it whole.

    Everything is written into a temporary folder next to ``out`` first; only a complete
    folder is swapped into place, so a run that fails leaves the previous results intact.
    ``before_swap(folder)`` can add files built from the written tables (the report).
    ``out`` must be missing, empty or a run folder holding only what ree-plan wrote
    (OutputRefused otherwise; ``optimize.results.safety``).
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write_marker(tmp, RUN, out.name)
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it private; results are shared
        if tables is not None:
            for name, frame in tables.frames.items():
                (tmp / f"{name}.csv").write_text(csv_text(frame), encoding="utf-8")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n",
                                          encoding="utf-8")
        if before_swap is not None:
            before_swap(tmp)
        write_marker(tmp, RUN, out.name, files=sorted(p.name for p in tmp.iterdir()))
        check_replaceable(out, f"output folder {str(out)!r}")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_marker(folder: Path, kind: str, target: str, files: list[str] | None = None) -> None:
    """Write the marker that says ree-plan wrote ``folder`` (atomically, by rename).

    Without ``files`` the folder is still being written (``"complete": false``); with them,
    it is complete and they are what it holds.
    """
    marker: dict[str, Any] = {"written_by": "ree-plan", "kind": kind, "target": target,
                              "complete": files is not None}
    if files is not None:
        marker["files"] = sorted(set(files) | {MARKER})
    write_text_atomically(folder / MARKER, json.dumps(marker, indent=1) + "\n")


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``path`` through a hidden temporary file beside it and one rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_csv(frame: pd.DataFrame, path: Path, float_format: str | None = FLOAT_FORMAT) -> None:
    """Write a table spreadsheet-safe and atomically (a hidden temporary file, one rename)."""
    write_text_atomically(path, csv_text(frame, float_format))


def csv_text(frame: pd.DataFrame, float_format: str | None = FLOAT_FORMAT) -> str:
    """Return a table as CSV text, spreadsheet-safe (``spreadsheet_safe``).

    Lines end in a line feed. Python's csv quotes a field holding a line feed but not one
    holding a bare carriage return, which readers take for a line break: a table with such
    a cell is written with every text field quoted, so it reads back whole.
    """
    safe = spreadsheet_safe(frame)
    quoting = csv.QUOTE_NONNUMERIC if _holds_carriage_return(safe) else csv.QUOTE_MINIMAL
    return str(safe.to_csv(index=False, float_format=float_format, lineterminator="\n",
                           quoting=quoting))


def _holds_carriage_return(frame: pd.DataFrame) -> bool:
    if any("\r" in str(c) for c in frame.columns):
        return True
    return any(frame[c].map(lambda v: isinstance(v, str) and "\r" in v).any()
               for c in _text_columns(frame))


def current_umask() -> int:
    """Return the process umask (reading it means setting it; it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- spreadsheet safety ------------------------------------------------------------------

#: A cell starting with one of these is a formula to a spreadsheet (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_text(value: Any) -> Any:
    """Return a text value with ``'`` before it if a spreadsheet would run it as a formula.

    Anything but text is returned as it is, and so is text that is just a number (``-3.5``).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) \
            and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the table with every formula-like text cell and header quoted; numbers unchanged.

    Only text (object or string) columns are touched, cell by cell: numbers in them, and
    numeric columns, are written as they are.
    """
    safe = frame.copy(deep=False)
    for column in _text_columns(frame):
        safe[column] = frame[column].map(spreadsheet_text)
    return safe.rename(columns=spreadsheet_text)


def _text_columns(frame: pd.DataFrame) -> list[Any]:
    return [c for c in frame.columns
            if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]


# -- the swap ----------------------------------------------------------------------------

def _swap_in(new: Path, out: Path) -> None:
    """Put folder ``new`` at ``out``; the old ``out``, if any, is removed."""
    if not out.exists() and not out.is_symlink():
        os.rename(new, out)
        return
    if exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` is the old folder now
        return
    _swap_by_renames(new, out)


def _swap_by_renames(new: Path, out: Path) -> None:
    """Swap with two renames: the old folder away to ``.<name>.old-*``, the new one in."""
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``).

    Returns False, having changed nothing, where the system or filesystem cannot do it;
    other failures raise OSError.
    """
    rename = _renameat2()
    if rename is None:
        return False
    done = rename(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


_RENAMEAT2: list[Any] = []


def _renameat2() -> Any:
    """Return libc's ``renameat2`` through ctypes (None where there is none: not Linux)."""
    if not _RENAMEAT2:
        function = None
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
                function = libc.renameat2
                function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                     ctypes.c_char_p, ctypes.c_uint]
                function.restype = ctypes.c_int
            except (OSError, AttributeError):
                function = None
        _RENAMEAT2.append(function)
    return _RENAMEAT2[0]

