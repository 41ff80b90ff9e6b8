"""What ree-plan may overwrite, and the lock that keeps two runs off one output folder.

ree-plan replaces an output folder whole (``optimize.results.write``), so it first makes
sure that the folder is one it wrote:

* A **run folder** holds the marker file ``.ree-plan-run`` (JSON, ``"kind": "run"``, with the
  list of files written), or, for run folders written before the marker existed, a
  ``summary.json`` whose keys are ree-plan's (``LEGACY_SUMMARY_KEYS``) next to nothing but
  ree-plan's tables and ``report.html``. A compare or frontier folder carries the same
  marker with ``"kind": "compare"`` or ``"frontier"`` (before it: ``comparison.csv`` or
  ``frontier.csv`` with ree-plan's header, and ``runs/`` of run folders).
* Such a folder is replaced only when everything in it is ree-plan's: a file someone added
  (notes, a spreadsheet saved beside the CSVs) makes ree-plan refuse rather than delete it.
* A missing or empty folder is fine to write. Anything else is refused, as is an output path
  that is empty, the current folder or one of its ancestors, a file, the inputs (folder,
  scenario file, or a scenario's base folder), a folder holding them or inside them, and a
  folder holding other runs (``results`` itself).

Refusals raise OutputRefused (exit 2); another process writing the same folder raises
OutputBusy (exit 1: nothing is wrong with the command, it can be run again once the other
run is done). The lock is ``fcntl.flock`` on ``.<name>.lock`` beside the folder, taken
before solving and held until the folder is swapped in; the file is removed on release.

Killed runs leave hidden folders beside the output, ``.<name>.tmp-XXXXXXXX`` (a folder being
built, or the old results after the swap) and ``.<name>.old-XXXXXXXX`` (the old results
while they were renamed away, where the atomic exchange is unavailable). ``tidy_leftovers``
puts the old results back when the output folder is missing, and removes those of ours:
named so, and holding the marker (or empty).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import sys
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

MARKER = ".ree-plan-run"
RUN, COMPARE, FRONTIER = "run", "compare", "frontier"
#: A folder of one analysis under uncertainty (stress, value, stochastic, sensitivity,
#: futures; ``optimize.uncertainty``): its tables, summary.json and report.html, as its
#: marker lists them.
ANALYSIS = "analysis"
KINDS = (RUN, COMPARE, FRONTIER, ANALYSIS)
SWEEP_KINDS = (COMPARE, FRONTIER)

#: Keys every summary.json of ree-plan has had; a folder written before the marker is a run
#: folder when its summary.json has them.
LEGACY_SUMMARY_KEYS = frozenset({"scenario", "status", "objective_musd", "inputs_sha256"})
#: The tables a run folder may hold (``optimize.results.tables``, ``marginals``).
RUN_TABLES = frozenset({"plan", "capacity", "flows", "deliveries", "finance", "funding",
                        "elements", "budgets", "marginals", "locations"})
RUN_FILES = frozenset({MARKER, "summary.json", "report.html"} | {f"{t}.csv" for t in RUN_TABLES})
SWEEP_FILES = frozenset({MARKER, "comparison.csv", "frontier.csv", "entry_order.csv",
                         "report.html"})
#: What file managers leave in folders; never a reason to refuse, never worth keeping.
OS_DROPPINGS = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})

#: Hidden folders of killed runs: ``.<name>.tmp-XXXXXXXX`` and ``.<name>.old-XXXXXXXX``
#: (tempfile's 8 random characters).
RANDOM = "[a-z0-9_]{8}"
LEFTOVER = re.compile(rf"\.(?P<name>.+)\.(?P<stage>tmp|old)-{RANDOM}", re.DOTALL)
#: Hidden files of an atomic file write in place (``report.html``, CSVs, the marker).
TEMP_FILE = re.compile(rf"\.(report-|.+\.tmp-){RANDOM}", re.DOTALL)
LOCK_SUFFIX = ".lock"
#: Longest folder name that still leaves room for ``.<name>.tmp-XXXXXXXX``.
MAX_NAME_BYTES = 255 - len(".") - len(".tmp-") - 8
MAX_PLAIN_BYTES = 200


class OutputRefused(Exception):
    """ree-plan will not write this output; the message says why and what to do instead."""


class OutputBusy(Exception):
    """Another ree-plan process is writing this output folder right now."""


# -- names -------------------------------------------------------------------------------

def plain_name_problem(name: str) -> str | None:
    """Return why ``name`` is not a plain folder name (None when it is one).

    Plain: not empty, at most 200 bytes, no ``/`` or backslash, no control characters, no
    leading dot (hidden, ``.`` and ``..``), no surrounding spaces.
    """
    if not name:
        return "it is empty"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_PLAIN_BYTES:
        return f"it is longer than {MAX_PLAIN_BYTES} bytes"
    if "/" in name or "\\" in name:
        return "it holds a path separator ('/' or '\\'); give a name, not a path"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "it holds a control character"
    if name.startswith("."):
        return "it starts with a dot (hidden, '.' or '..')"
    if name != name.strip():
        return "it starts or ends with a space"
    return None


def require_plain_name(name: str, what: str) -> str:
    """Return ``name`` if it is a plain folder name; raise OutputRefused naming ``what``."""
    problem = plain_name_problem(name)
    if problem is not None:
        raise OutputRefused(f"{what} {name!r} is not a plain name: {problem}. Use letters, "
                            "digits, '-' or '_', e.g. 'portfolios'.")
    return name


# -- what a folder is --------------------------------------------------------------------

def read_marker(folder: Path) -> dict[str, Any] | None:
    """Return the marker of a folder ree-plan wrote, or None when it has none (or a bad one)."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("written_by") != "ree-plan" \
            or marker.get("kind") not in KINDS:
        return None
    return marker


def folder_kind(folder: Path) -> str | None:
    """Return ``run``, ``compare`` or ``frontier`` for a folder ree-plan wrote, else None."""
    if folder.is_symlink() or not folder.is_dir():
        return None
    marker = read_marker(folder)
    if marker is not None:
        return str(marker["kind"])
    if _legacy_summary(folder / "summary.json"):
        return RUN
    if _header_starts(folder / "comparison.csv", "metric,item"):
        return COMPARE
    if _header_starts(folder / "frontier.csv", "budget_scale"):
        return FRONTIER
    names = {e.name for e in _entries(folder)} - OS_DROPPINGS
    if names == {"runs"} and (folder / "runs").is_dir():  # a sweep killed before its table
        for kind in SWEEP_KINDS:
            if folder.name.startswith(f"{kind}-"):
                return kind
    return None


def _legacy_summary(path: Path) -> bool:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and LEGACY_SUMMARY_KEYS <= set(summary)


def _header_starts(path: Path, start: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().startswith(start)
    except (OSError, ValueError):
        return False


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _is_file_or_link(path: Path) -> bool:
    return path.is_symlink() or path.is_file()


def foreign_entries(folder: Path, kind: str) -> list[str]:
    """Return what a ree-plan folder of ``kind`` holds that ree-plan did not write.

    A run folder may hold the files its marker lists, ree-plan's tables, ``summary.json``
    and ``report.html``; a sweep folder its tables, ``report.html`` and ``runs/`` of run
    folders. Temporary files of an interrupted atomic write are ree-plan's too.
    """
    marker = read_marker(folder) or {}
    listed = marker["files"] if isinstance(marker.get("files"), list) else []
    allowed = (RUN_FILES if kind == RUN else SWEEP_FILES) | {str(f) for f in listed}
    foreign = []
    for entry in _entries(folder):
        name = entry.name
        if name in OS_DROPPINGS or (TEMP_FILE.fullmatch(name) and _is_file_or_link(entry)):
            continue
        if name in allowed and "/" not in name and _is_file_or_link(entry):
            continue
        if kind in SWEEP_KINDS and name == "runs" and entry.is_dir() and not entry.is_symlink():
            foreign += [f"runs/{n}" for n in foreign_runs(entry)]
            continue
        foreign.append(name + ("/" if entry.is_dir() and not entry.is_symlink() else ""))
    return foreign


def foreign_runs(runs: Path) -> list[str]:
    """Return what a sweep's ``runs/`` holds besides run folders and our temporary folders."""
    foreign = []
    for entry in _entries(runs):
        if entry.name in OS_DROPPINGS:
            continue
        if LEFTOVER.fullmatch(entry.name) and _ours(entry):
            continue
        if folder_kind(entry) == RUN:
            foreign += [f"{entry.name}/{n}" for n in foreign_entries(entry, RUN)]
            continue
        foreign.append(entry.name + ("/" if entry.is_dir() and not entry.is_symlink() else ""))
    return foreign


def _listing(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# -- where an output may go --------------------------------------------------------------

def protected_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Return the resolved paths of the inputs: folders, scenario files and their bases."""
    paths = []
    for given in inputs:
        path = Path(given)
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            resolved = path.resolve()
            paths.append(resolved)
            if path.suffix == ".toml" and resolved.is_file():
                base = _scenario_base(resolved)
                if base is not None:
                    paths.append(base)
    return paths


def _scenario_base(scenario: Path) -> Path | None:
    """Return a scenario file's base folder, resolved (None when it cannot be read)."""
    try:
        doc = tomllib.loads(scenario.read_text(encoding="utf-8"))
        return (scenario.parent / str(doc["base"])).resolve()
    except (OSError, ValueError, KeyError, RuntimeError, tomllib.TOMLDecodeError):
        return None


def output_path(out: str | Path, inputs: Iterable[str | Path] = (),
                kinds: Sequence[str] = (RUN,), what: str = "output folder") -> Path:
    """Return the resolved output folder, or raise OutputRefused; nothing is written.

    Checks the path alone (it is not empty, not the current folder or an ancestor of it,
    not a file, not the inputs nor around them, not named like ree-plan's hidden files) and
    what is there now (``check_replaceable``); ``claim`` checks that again under the lock.
    """
    text = os.fspath(out)
    shown = f"{what} {text!r}"
    if text == "":
        raise OutputRefused(f"{what} is empty (an unset shell variable?); give the folder to "
                            "write into, e.g. --out results/NAME")
    if "\0" in text:
        raise OutputRefused(f"{shown} holds a NUL character; give a folder path")
    try:
        os.fsencode(text)
    except UnicodeError as exc:
        raise OutputRefused(f"{shown} cannot be a file name here ({exc})") from exc
    try:
        target = Path(text).resolve()
    except (OSError, RuntimeError) as exc:
        raise OutputRefused(f"{shown} cannot be resolved ({exc}); give another folder") from exc
    if Path(text).is_symlink() and not target.exists():
        raise OutputRefused(f"{shown} is a broken symbolic link; remove it or give another "
                            "folder")
    _refuse_around_cwd(target, shown)
    _refuse_reserved_name(target, shown)
    _refuse_inputs(target, shown, protected_paths(inputs))
    check_replaceable(target, shown, kinds)
    return target


def _refuse_around_cwd(target: Path, shown: str) -> None:
    cwd = Path.cwd().resolve()
    if target == cwd or cwd.is_relative_to(target):
        where = "the current folder" if target == cwd else "an ancestor of the current folder"
        raise OutputRefused(f"{shown} is {where}: replacing it would delete the folder you are "
                            "working in. Give a folder of its own, e.g. --out results/NAME")


def _refuse_reserved_name(target: Path, shown: str) -> None:
    name = target.name
    if LEFTOVER.fullmatch(name) or (name.startswith(".") and name.endswith(LOCK_SUFFIX)) \
            or name == MARKER:
        raise OutputRefused(f"{shown} is named like ree-plan's own hidden files; give another "
                            "name")
    if len(os.fsencode(name)) > MAX_NAME_BYTES:
        raise OutputRefused(f"{shown}: the folder name is longer than {MAX_NAME_BYTES} bytes; "
                            "give a shorter one")


def _refuse_inputs(target: Path, shown: str, protected: list[Path]) -> None:
    for path in protected:
        if target == path:
            how = "is"
        elif path.is_relative_to(target):
            how = "holds"
        elif target.is_relative_to(path):
            how = "lies inside"
        else:
            continue
        raise OutputRefused(f"{shown} {how} the inputs ({path}): writing there would replace "
                            "or mix with them. Give a folder outside the inputs, e.g. --out "
                            "results/NAME")


def check_replaceable(target: Path, shown: str, kinds: Sequence[str] = (RUN,)) -> None:
    """Raise OutputRefused unless ``target`` is missing, empty, or ree-plan's to replace.

    Replaceable: a folder of one of ``kinds`` that holds nothing ree-plan did not write.
    """
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() and not target.exists():
        raise OutputRefused(f"{shown} is a broken symbolic link; remove it or give another "
                            "folder")
    if not target.is_dir():
        raise OutputRefused(f"{shown} is a file, not a folder: ree-plan writes a folder of "
                            "results and will not replace a file. Give another path.")
    try:
        entries = [e for e in sorted(target.iterdir()) if e.name not in OS_DROPPINGS]
    except OSError as exc:  # an unreadable folder is not an empty one
        raise OutputRefused(f"{shown} cannot be read ({exc.strerror or exc}), so ree-plan "
                            "cannot tell what it holds; give another folder") from exc
    if not entries:
        return
    kind = folder_kind(target)
    wanted = " or ".join(kinds)
    if kind is not None and kind in kinds:
        foreign = foreign_entries(target, kind)
        if foreign:
            raise OutputRefused(
                f"{shown} is a ree-plan {kind} folder, but it also holds what ree-plan did not "
                f"write ({_listing(foreign)}); replacing it would delete that. Move those "
                "elsewhere, or give another folder.")
        return
    runs = [e.name for e in entries if folder_kind(e) is not None]
    if runs:
        raise OutputRefused(
            f"{shown} holds other ree-plan results ({_listing(runs)}): ree-plan replaces one "
            "results folder at a time, never a folder of them. Give the run's own folder, "
            "e.g. --out results/NAME")
    if kind is not None:
        raise OutputRefused(f"{shown} is a ree-plan {kind} folder, not a {wanted} folder; "
                            "give another folder")
    names = [e.name + ("/" if e.is_dir() else "") for e in entries]
    raise OutputRefused(
        f"{shown} exists and is not a ree-plan {wanted} folder (it holds {_listing(names)}); "
        "ree-plan replaces only folders it wrote. Give a new or empty folder.")


# -- the lock ----------------------------------------------------------------------------

def lock_path(target: Path) -> Path:
    """Return the lock file of an output folder: ``.<name>.lock`` beside it."""
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def locked(target: Path, shown: str | None = None) -> Iterator[Path]:
    """Hold the lock of output folder ``target``; raise OutputBusy when another process has it.

    The lock file is created (with its parent folders) and removed on release; a process
    that took it checks, once locked, that the file is still the one at the path, so a
    release racing with a new run never lets two runs in.
    """
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, shown or str(target))
    try:
        yield target
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


def _acquire(path: Path, shown: str) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _read_pid(fd)
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            by = f" (process {holder})" if holder else ""
            raise OutputBusy(f"another ree-plan run{by} is writing {shown} now; wait for it "
                             f"to finish, or write elsewhere (lock: {path})") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)  # the holder released and removed it in between: lock the new file


def _read_pid(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""


@contextlib.contextmanager
def claim(target: Path, kinds: Sequence[str] = (RUN,), shown: str | None = None
          ) -> Iterator[Path]:
    """Lock ``target``, recover or remove what killed runs left beside it, check it again.

    Use on a path from ``output_path``, around the solve and the write.
    """
    label = shown or f"output folder {str(target)!r}"
    with locked(target, label):
        for note in tidy_leftovers(target.parent, target.name):
            print(f"note: {note}", file=sys.stderr)
        check_replaceable(target, label, kinds)
        yield target


# -- what killed runs leave behind -------------------------------------------------------

def _ours(folder: Path, name: str | None = None) -> bool:
    """Return whether a hidden ``.<name>.tmp-``/``.old-`` folder is ree-plan's leftover."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    marker = read_marker(folder)
    if marker is not None:
        return name is None or marker.get("target") in (None, name)
    try:
        empty = not any(folder.iterdir())
    except OSError:
        return False
    return empty or folder_kind(folder) == RUN


def _complete(folder: Path) -> bool:
    """Return whether a leftover folder holds a whole run (marker complete, or legacy)."""
    marker = read_marker(folder)
    if marker is not None:
        return bool(marker.get("complete")) and (folder / "summary.json").is_file()
    return folder_kind(folder) == RUN


def tidy_leftovers(parent: Path, name: str | None = None) -> list[str]:
    """Recover and remove the hidden folders that killed runs left in ``parent``.

    Only those of output ``name`` (all, with None: a sweep's ``runs/``, under its lock).
    When the output folder is missing, the newest complete ``.<name>.old-*`` (the results
    it held) is renamed back, else a complete ``.<name>.tmp-*`` (results a killed run had
    finished); then every leftover of ours is removed. Returns what was done, for the user.
    """
    groups: dict[str, list[tuple[str, Path]]] = {}
    for entry in _entries(parent):
        match = LEFTOVER.fullmatch(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        if _ours(entry, match["name"]):
            groups.setdefault(match["name"], []).append((match["stage"], entry))
    notes = []
    for target_name, leftovers in sorted(groups.items()):
        target = parent / target_name
        if not target.exists() and not target.is_symlink():
            restored = _restore(target, leftovers)
            if restored is not None:
                notes.append(f"{target} was missing after a killed run; put back from "
                             f"{restored.name}")
        for _, entry in leftovers:
            if entry.exists():
                shutil.rmtree(entry, ignore_errors=True)
    return notes


def tidy_temp_files(folder: Path, kind: str) -> list[str]:
    """Remove the temporary files that killed atomic writes left in a ree-plan folder.

    Only those of the files a folder of ``kind`` holds: ``.<file>.tmp-XXXXXXXX`` for each
    (and ``.report-XXXXXXXX``, the report's before), regular files only. Returns their names.
    """
    ours = RUN_FILES if kind == RUN else SWEEP_FILES
    removed = []
    for entry in _entries(folder):
        match = re.fullmatch(rf"\.(?:report-|(?P<file>.+)\.tmp-){RANDOM}", entry.name,
                             re.DOTALL)
        if match is None or (match["file"] is not None and match["file"] not in ours):
            continue
        if entry.is_file() and not entry.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
            removed.append(entry.name)
    return removed


def _restore(target: Path, leftovers: list[tuple[str, Path]]) -> Path | None:
    def newest_first(stage: str) -> list[Path]:
        found = [p for s, p in leftovers if s == stage and _complete(p)]
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    for candidate in [*newest_first("old"), *newest_first("tmp")]:
        try:
            os.rename(candidate, target)
        except OSError:
            continue
        return candidate
    return None


def check_report_folder(target: Path, shown: str, report_start: str) -> None:
    """Raise OutputRefused unless ``report.html`` may be written into ``target``.

    ``target`` must be a folder ree-plan wrote (run, compare or frontier); a ``report.html``
    in it must be a regular file starting with ``report_start`` (one ree-plan wrote).
    """
    if folder_kind(target) is None:
        raise OutputRefused(f"{shown} is not a ree-plan run, compare or frontier folder (none "
                            f"of {MARKER}, summary.json, comparison.csv or frontier.csv of "
                            "ree-plan's is in it); give one, e.g. results/baseline")
    report = target / "report.html"
    if not report.exists() and not report.is_symlink():
        return
    if report.is_symlink() or not report.is_file():
        raise OutputRefused(f"{shown}: report.html there is not a regular file; move it away")
    try:
        with open(report, encoding="utf-8", errors="replace") as fh:
            start = fh.read(len(report_start))
    except OSError as exc:
        raise OutputRefused(f"{shown}: cannot read its report.html ({exc})") from exc
    if start != report_start:
        raise OutputRefused(f"{shown}: its report.html was not written by ree-plan; move it "
                            "away (or rename it) and run again")


def check_model_file(path: str | Path, out: Path | None = None) -> Path:
    """Return the resolved ``--write-lp`` path, or raise OutputRefused (exit 2).

    Only ``.lp`` and ``.mps`` are written; the folder must exist; the path must not be a
    folder, nor inside the output folder (replaced whole after the solve).
    """
    text = os.fspath(path)
    shown = f"--write-lp {text!r}"
    if text == "":
        raise OutputRefused("--write-lp is empty; give a file such as model.lp or model.mps")
    if "\0" in text:
        raise OutputRefused(f"{shown} holds a NUL character; give a file path")
    if Path(text).suffix not in (".lp", ".mps"):
        raise OutputRefused(f"{shown}: unknown model format {Path(text).suffix or '(none)'!r}; "
                            "name the file *.lp (LP) or *.mps (MPS)")
    resolved = Path(text).resolve()
    if out is not None and resolved.is_relative_to(out):
        raise OutputRefused(f"{shown} lies inside the output folder, which is replaced whole "
                            "by the run; write the model file elsewhere")
    if resolved.is_dir():
        raise OutputRefused(f"{shown} is a folder; give a file inside it, e.g. "
                            f"{Path(text) / 'model.lp'}")
    if not resolved.parent.is_dir():
        raise OutputRefused(f"{shown}: the folder {str(resolved.parent)!r} does not exist; "
                            "create it first")
    if resolved.exists() and not resolved.is_file():
        raise OutputRefused(f"{shown} exists and is not a regular file; give another path")
    return resolved
