"""A scenario's ``[[decision]]`` entries: read from the file, checked against the tables.

Every problem names the scenario file, the entry (and its facility) and the key, e.g.
``s.toml: decision 2 (strange-lake), fund_by: ...``.

Reading checks what the file alone can tell (keys, one kind per entry, whole years, one
decision per facility); checking needs the facilities and the horizon (a known candidate,
a year in which it may take its FID, a forced project whose predecessor can be funded).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optimize.data.modeldata import DECISION_KINDS, Decision, possible_fid_years
from optimize.errors import Problem

KEYS = ("facility", *DECISION_KINDS)


@dataclass(frozen=True)
class GivenDecision:
    """A decision with its place in the scenario file, to name it in problems."""

    scenario: str
    number: int
    decision: Decision

    @property
    def label(self) -> str:
        """Return e.g. ``decision 2 (strange-lake)``."""
        return f"decision {self.number} ({self.decision.facility})"

    def problem(self, key: str, message: str) -> Problem:
        """Return a problem with this decision's ``key``."""
        return Problem(self.scenario, None, None, f"{self.label}, {key}: {message}")


def _did_you_mean(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _whole_year(value: Any) -> str | None:
    """Return why ``value`` is not a whole year, or ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return f"must be a whole year such as 2030, got {value!r}"


def read_decision(scenario: str, number: int, entry: Any,
                  problems: list[Problem]) -> GivenDecision | None:
    """Return the decision of one ``[[decision]]`` table, or ``None`` (and a problem)."""
    label = f"decision {number}"
    if not isinstance(entry, dict):
        problems.append(Problem(scenario, None, None, f"{label}: must be a table "
                                                      "([[decision]] with facility = ...)"))
        return None
    facility = entry.get("facility")
    if not isinstance(facility, str) or not facility:
        why = "missing" if facility is None else f"must be a facility name, got {facility!r}"
        problems.append(Problem(scenario, None, None, f"{label}, facility: {why}"))
        return None
    label = f"{label} ({facility})"
    found = len(problems)
    for key in sorted(set(entry) - set(KEYS)):
        problems.append(Problem(scenario, None, None, f"{label}, {key}: unknown key; expected "
                                f"{', '.join(KEYS)}{_did_you_mean(key, list(KEYS))}"))
    kinds = [k for k in DECISION_KINDS if k in entry]
    if len(kinds) != 1:
        problems.append(Problem(scenario, None, None, f"{label}, {' / '.join(DECISION_KINDS)}: "
                                f"needs exactly one of {', '.join(DECISION_KINDS)}, got "
                                f"{', '.join(kinds) or 'none'}"))
        return None
    kind, value = kinds[0], entry[kinds[0]]
    if kind == "never" and value is not True:
        problems.append(Problem(scenario, None, None, f"{label}, never: must be true, got "
                                f"{value!r} (to leave the project to the model, remove the "
                                "decision)"))
    elif kind != "never" and (not_a_year := _whole_year(value)) is not None:
        problems.append(Problem(scenario, None, None, f"{label}, {kind}: {not_a_year}"))
    if len(problems) > found:
        return None
    return GivenDecision(scenario, number,
                         Decision(facility, kind, None if kind == "never" else value))


def read_decisions(scenario: str, entries: Any, problems: list[Problem]) -> list[GivenDecision]:
    """Return the ``[[decision]]`` entries of a scenario file that are well formed.

    A second decision for a facility is a problem (the first one counts).
    """
    if not isinstance(entries, list):
        problems.append(Problem(scenario, None, None, "'decision' must be an array of tables "
                                                      "([[decision]])"))
        return []
    given: list[GivenDecision] = []
    first: dict[str, GivenDecision] = {}
    for number, entry in enumerate(entries, start=1):
        d = read_decision(scenario, number, entry, problems)
        if d is None:
            continue
        earlier = first.get(d.decision.facility)
        if earlier is not None:
            problems.append(d.problem("facility", f"a second decision for "
                                      f"{d.decision.facility!r} ({earlier.label} is the "
                                      "first); give one decision per facility"))
            continue
        first[d.decision.facility] = d
        given.append(d)
    return given


class _DecisionChecker:
    """Checks decisions against the resolved facilities table and the horizon."""

    def __init__(self, given: list[GivenDecision], facilities: Mapping[str, Mapping[str, Any]],
                 start: int | None, end: int | None, problems: list[Problem]) -> None:
        self.given = given
        self.facilities = facilities
        self.start, self.end = start, end
        self.problems = problems
        self.by_facility = {d.decision.facility: d for d in given}

    def fid_years(self, facility: str) -> range | None:
        """Return a candidate's possible FID years, or ``None`` when they are not known."""
        row = self.facilities.get(facility)
        if row is None or row["status"] != "candidate" or None in (
                row["earliest_fid"], self.start, self.end):
            return None
        assert self.start is not None and self.end is not None
        return possible_fid_years(row["earliest_fid"], self.start, self.end)

    def run(self) -> tuple[Decision, ...]:
        """Return the decisions that passed every check; report the others."""
        ok = []
        for d in self.given:
            found = len(self.problems)
            if self.candidate(d) and d.decision.kind != "never":
                self.year_possible(d)
                self.predecessors_possible(d)
            if len(self.problems) == found:
                ok.append(d.decision)
        return tuple(ok)

    def candidate(self, d: GivenDecision) -> bool:
        """Report a facility that is unknown or not a candidate; return whether it is one."""
        name = d.decision.facility
        row = self.facilities.get(name)
        if row is None:
            self.problems.append(d.problem("facility", f"unknown facility {name!r}"
                                           + _did_you_mean(name, sorted(self.facilities))))
            return False
        if row["status"] is None:
            return False  # its facilities.csv row is reported already
        if row["status"] != "candidate":
            self.problems.append(d.problem("facility", f"{name!r} is {row['status']}, not a "
                                           "candidate: only candidates take a FID"))
            return False
        return True

    def year_possible(self, d: GivenDecision) -> None:
        """Report a ``fund_by`` or ``fid_year`` outside the candidate's possible FID years."""
        years = self.fid_years(d.decision.facility)
        if years is None or d.decision.year in years:
            return
        row = self.facilities[d.decision.facility]
        self.problems.append(d.problem(d.decision.kind, (
            f"{d.decision.year} is outside the years in which {d.decision.facility!r} may take "
            f"its FID, {years.start}-{years.stop - 1} (earliest_fid {row['earliest_fid']}, "
            f"horizon {self.start}-{self.end})")))

    def predecessors_possible(self, d: GivenDecision) -> None:
        """Report a forced project whose ``requires`` chain cannot be funded in time.

        Phase order funds a predecessor no later than the project that requires it, so
        every candidate up the chain must be allowed, and able, to take its FID by the
        forced project's latest FID year.
        """
        latest = d.decision.year
        assert latest is not None
        seen = {d.decision.facility}
        q = self.facilities[d.decision.facility].get("requires")
        while q is not None and q not in seen and q in self.facilities:
            seen.add(q)
            if self.facilities[q]["status"] != "candidate":
                return  # an existing predecessor constrains nothing
            why = self.predecessor_blocked(q, latest)
            if why is not None:
                self.problems.append(d.problem(d.decision.kind, f"{d.decision.facility!r} "
                                               f"requires {q!r}, {why}"))
                return
            q = self.facilities[q].get("requires")

    def predecessor_blocked(self, q: str, latest: int) -> str | None:
        """Return why candidate ``q`` cannot take its FID by ``latest``, or ``None``."""
        other = self.by_facility.get(q)
        if other is not None and other.decision.kind == "never":
            return f"which {other.label} forbids (never = true)"
        if other is not None and other.decision.kind == "fid_year" \
                and other.decision.year is not None and other.decision.year > latest:
            return f"which {other.label} funds only in {other.decision.year}, after {latest}"
        years = self.fid_years(q)
        if years is not None and years.start > latest:
            return f"which cannot take its FID before {years.start}, after {latest}"
        return None


def check_decisions(given: list[GivenDecision], facilities: Mapping[str, Mapping[str, Any]],
                    start: int | None, end: int | None,
                    problems: list[Problem]) -> tuple[Decision, ...]:
    """Check decisions against the resolved facilities (typed rows by name) and horizon.

    Returns the decisions that passed; appends a problem for each that did not.
    """
    return _DecisionChecker(given, facilities, start, end, problems).run()
