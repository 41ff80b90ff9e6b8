"""Errors and warnings that reach the user: bad input and solver failures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

#: At most so many problems are printed; the rest are counted by file.
MAX_REPORTED = 1000


class ReePlanWarning(UserWarning):
    """A warning raised by ree-plan itself (tests turn these into errors)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in the inputs, located by file, row and column.

    ``row`` is the line in the file as a spreadsheet shows it (the header is row 1);
    ``None`` where the problem is about the whole file or column.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        """Return ``file, row R, column C: message`` with the parts that are known."""
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class InputError(Exception):
    """The inputs are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=_problem_order)
        super().__init__(self.report())

    def report(self, limit: int = MAX_REPORTED) -> str:
        """Return every problem, one per line, with a count (past ``limit``, a count by file).

        Inputs broken throughout (a whole table shifted by a column) give a problem per
        cell; the first ``limit`` say what is wrong, the count says where the rest are.
        """
        n = len(self.problems)
        head = f"{n:,} problem{'s' if n != 1 else ''} in the inputs:"
        lines = [head, *(f"  {p}" for p in self.problems[:limit])]
        if n > limit:
            rest = Counter(p.file for p in self.problems[limit:])
            lines.append(f"  ... and {n - limit:,} more: " + ", ".join(
                f"{count:,} in {file}" for file, count in sorted(rest.items())))
        return "\n".join(lines)


def _problem_order(p: Problem) -> tuple[str, int, str, str]:
    return (p.file, p.row if p.row is not None else 0, p.column or "", p.message)


class SolveError(Exception):
    """The solver could not be run or returned something unusable."""


class SolverUnavailable(Exception):
    """The chosen solver is unknown or not installed here; the message says what to install."""
