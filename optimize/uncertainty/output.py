"""Write an analysis folder atomically, and its report page: tables, summary.json, report.html.

The folder is built beside its target as ``.<name>.tmp-XXXXXXXX``, marked as ree-plan's
(kind ``analysis``, with the files it holds) and swapped in whole, as a run folder is
(``optimize.results.write``); a folder that is not ree-plan's is refused before anything
is solved (``target``) and again under the lock (``claim``).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from optimize.results.safety import ANALYSIS, OutputRefused, check_replaceable, output_path
from optimize.results.write import _swap_in, csv_text, current_umask, write_marker

ANALYSIS_KIND = ANALYSIS

#: How the report starts (as ree-plan's other reports do: ``optimize.report.html``).
REPORT_START = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>ree-plan'
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; }
.figure { margin: 1em 0; } .note { color: #666; font-size: 0.85em; }
"""


def target(out: str | Path, inputs: Iterable[str | Path]) -> Path:
    """Return the resolved analysis folder, or raise OutputRefused (nothing is written).

    It must be new, empty or an analysis folder ree-plan wrote, away from the inputs.
    """
    return output_path(out, list(inputs), kinds=(ANALYSIS,), what="analysis folder")


def write_analysis(out: Path, tables: dict[str, pd.DataFrame], summary: dict[str, Any],
                   report: str | None = None, files: dict[str, str] | None = None) -> None:
    """Write ``<name>.csv`` per table, ``summary.json`` and ``report.html``; swap them in whole.

    ``files`` are further text files by name (a futures folder's scenario files).
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write_marker(tmp, ANALYSIS, out.name)
        os.chmod(tmp, 0o777 & ~current_umask())
        for name, frame in tables.items():
            (tmp / f"{name}.csv").write_text(csv_text(frame), encoding="utf-8")
        (tmp / "summary.json").write_text(
            json.dumps(summary, indent=2, allow_nan=False, default=str) + "\n", encoding="utf-8")
        if report is not None:
            (tmp / "report.html").write_text(report, encoding="utf-8")
        for name, body in (files or {}).items():
            (tmp / name).write_text(body, encoding="utf-8")
        write_marker(tmp, ANALYSIS, out.name, files=sorted(p.name for p in tmp.iterdir()))
        check_replaceable(out, f"analysis folder {str(out)!r}", (ANALYSIS,))
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def default_folder(kind: str, name: str) -> Path:
    """Return ``results/<kind>-<name>`` for a plain ``name`` (OutputRefused otherwise)."""
    from optimize.results.safety import plain_name_problem

    problem = plain_name_problem(name)
    if problem is not None:
        raise OutputRefused(f"the analysis name {name!r} is not a plain name ({problem}); give "
                            "one with --name")
    return Path("results") / f"{kind}-{name}"


def page(title: str, sections: list[str]) -> str:
    """Return one self-contained HTML page (plotly.js embedded) of the sections."""
    return (REPORT_START[:-len("ree-plan")] + f"{html.escape(title)}</title><style>{STYLE}"
            f"</style><script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
            f"<h1>{html.escape(title)}</h1>" + "\n".join(sections) + "</body></html>\n")


def figure(fig: go.Figure, div_id: str) -> str:
    """Return a plotly figure as an HTML fragment (plotly.js is in the page once)."""
    return '<div class="figure">' + fig.to_html(full_html=False, include_plotlyjs=False,
                                                div_id=div_id) + "</div>"


def table(frame: pd.DataFrame) -> str:
    """Return a table as escaped HTML (names may come from hand-edited inputs)."""
    return str(frame.to_html(index=False, na_rep="", border=0, escape=True,
                             float_format=lambda v: f"{v:,.2f}"))


def text(value: Any) -> str:
    """Return any value as escaped HTML text."""
    return html.escape(str(value))
