"""Generate docs/uncertainty.md from the docstrings of the analyses under uncertainty.

Called by ``python -m optimize.docs`` with the other generated pages.
"""

from __future__ import annotations

import inspect
from types import ModuleType


def _module_doc(module: ModuleType) -> str:
    """Return a module docstring with its ``.. math::`` blocks as fenced math."""
    out, in_math = [], False
    for line in (inspect.getdoc(module) or "").splitlines():
        if line.strip() == ".. math::":
            out.append("```math")
            in_math = True
            continue
        if in_math and line and not line.startswith("    "):
            out.append("```")
            in_math = False
        out.append(line[4:] if in_math and line.startswith("    ") else line)
    if in_math:
        out.append("```")
    return "\n".join(out).replace("```math\n\n", "```math\n").replace("\n\n```", "\n```")


def uncertainty_page() -> str:
    """Return the text of docs/uncertainty.md."""
    from optimize.docs import math_block, prose
    from optimize.uncertainty import futures, ph, plans, sensitivity, stochastic, stress, value

    parts = ["# Deciding under uncertainty\n",
             "Generated from the docstrings in `optimize/uncertainty/` by `python -m "
             "optimize.docs`; do not edit by hand. The deterministic model each future solves "
             "is in [formulation.md](formulation.md).\n"]
    for title, module in (("Holding a plan", plans), ("Stress a plan", stress),
                          ("Project value", value), ("Stochastic program", stochastic)):
        parts.append(f"## {title}\n\n{_module_doc(module)}\n\nCode: `{module.__name__}`\n")
    parts.append("### Families of the stochastic program\n")
    for fn in stochastic.STOCHASTIC_FAMILIES:
        parts.append(f"#### `{fn.__name__}`\n\n{prose(fn)}\n\n```math\n{math_block(fn)}\n```\n")
        parts.append(f"Code: `{fn.__module__}.{fn.__name__}`\n")
    for title, module in (("Progressive hedging", ph), ("Sensitivity", sensitivity),
                          ("Futures from distributions", futures)):
        parts.append(f"## {title}\n\n{_module_doc(module)}\n\nCode: `{module.__name__}`\n")
    return "\n".join(parts)
