"""Cross-table checks (the second validation layer) and the conversion to ModelData."""

from __future__ import annotations

import difflib
import hashlib
import warnings
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from optimize.data.decisions import GivenDecision, check_decisions
from optimize.data.load import (
    SOLVER_OPTIONS,
    Inputs,
    TypedTable,
    read_raw_inputs,
    type_inputs,
)
from optimize.data.modeldata import (
    Deal,
    Decision,
    Facility,
    FundingProgram,
    ModelData,
    Offer,
    Program,
    frozen,
)
from optimize.data.registry import SETTINGS, STAGES
from optimize.data.scale import scale_warnings
from optimize.data.scenario import Trail, read_scenario
from optimize.errors import InputError, Problem, ReePlanWarning
from optimize.model.network import RESERVED_NAMES

#: The table that lists each kind of name a column may refer to.
REFERENCED = {"element": "elements", "facility": "facilities", "grade": "grades",
              "program": "programs"}
NEXT_STAGE = dict(zip(STAGES, STAGES[1:], strict=False))
SHARE_TOLERANCE = 1e-9


def _names(table: TypedTable, column: str) -> set[str]:
    return {r[column] for _, r in table if r[column] is not None}


class _Checker:
    """Collects cross-table problems for one set of inputs."""

    def __init__(self, inputs: Inputs, problems: list[Problem]) -> None:
        self.inputs = inputs
        self.problems = problems
        self.elements = _names(inputs["elements"], "element")
        self.facilities = {r["facility"]: r for _, r in inputs["facilities"]
                           if r["facility"] is not None}
        self.grades = _names(inputs["grades"], "grade")
        self.programs = _names(inputs["programs"], "program")
        s = inputs.settings
        self.start = s.get("start_year")
        self.end = s.get("end_year")
        self.over_total: set[str] = set()

    def add(self, table: TypedTable, line: int | None, column: str | None, msg: str) -> None:
        self.problems.append(Problem(table.table.file, line, column, msg))

    def reference(self, table: TypedTable, line: int, column: str, value: Any,
                  known: set[str] | dict[str, Any], what: str) -> bool:
        """Report ``value`` when it is not a known ``what``; return whether it is known.

        When the table of ``what``s could not be read (reported already), nothing is known
        and nothing is reported: every reference would be a problem only because of it.
        """
        if not self.inputs[REFERENCED[what]].present:
            return False
        if value is None or value in known:
            return value is not None
        close = difflib.get_close_matches(str(value), sorted(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self.add(table, line, column, f"unknown {what} {value!r}{hint}")
        return False

    def in_horizon(self, table: TypedTable, line: int, column: str, year: Any) -> None:
        if None in (year, self.start, self.end):
            return
        if not self.start <= year <= self.end:
            self.add(table, line, column,
                     f"year {year} is outside the horizon {self.start}-{self.end}")

    def stage_of(self, name: str) -> str | None:
        row = self.facilities.get(name)
        return row["stage"] if row else None

    def run(self) -> None:
        self.settings()
        self.facility_rows()
        self.assays()
        self.recoveries()
        self.grade_tables()
        self.programs_and_demand()
        self.prices()
        self.offers()
        self.funding()
        self.deals()
        self.links()
        self.streams()
        self.locations()

    def settings(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            self.problems.append(Problem(SETTINGS.file, None, "end_year",
                                         f"end_year {self.end} is before start_year {self.start}"))

    def facility_rows(self) -> None:
        t = self.inputs["facilities"]
        for line, r in t:
            if r["facility"] in RESERVED_NAMES:
                self.add(t, line, "facility", f"{r['facility']!r} is a reserved name "
                                              "(a market node in the results)")
            if r["status"] == "candidate":
                self.in_horizon(t, line, "earliest_fid", r["earliest_fid"])
            if r["status"] in ("existing", "committed") and r["online_year"] is not None \
                    and self.end is not None \
                    and r["online_year"] > self.end:
                self.add(t, line, "online_year",
                         f"year {r['online_year']} is after the horizon's end {self.end}")
            if r.get("qualification_years") and r["stage"] not in ("magnet", None):
                self.add(t, line, "qualification_years", f"only a magnet line qualifies for "
                                                         f"defense; {r['facility']!r} is a "
                                                         f"{r['stage']}")
            if r.get("total_t") is not None and r["stage"] not in ("mine", None):
                self.add(t, line, "total_t", f"only a mine has a total_t (a reserve or a "
                                             f"stockpile); {r['facility']!r} is a {r['stage']}")
            req = r.get("requires")
            if req is not None and self.reference(t, line, "requires", req, self.facilities,
                                                  "facility"):
                if req == r["facility"]:
                    self.add(t, line, "requires", "a facility cannot require itself")
        self._no_requires_cycle(t)

    def _no_requires_cycle(self, t: TypedTable) -> None:
        for line, r in t:
            start, q, steps = r["facility"], r.get("requires"), 0
            while q in self.facilities and q != start and steps < len(self.facilities):
                q, steps = self.facilities[q].get("requires"), steps + 1
            if q == start and r.get("requires") != start:
                self.add(t, line, "requires", "the requires chain loops back to this facility")

    def assays(self) -> None:
        t = self.inputs["assays"]
        totals: dict[str, float] = defaultdict(float)
        last_line: dict[str, int] = {}
        for line, r in t:
            self.reference(t, line, "element", r["element"], self.elements, "element")
            if self.reference(t, line, "facility", r["facility"], self.facilities, "facility"):
                if self.stage_of(r["facility"]) not in ("mine", None):
                    self.add(t, line, "facility", f"{r['facility']!r} is not a mine")
            if r["share"] is not None:
                totals[r["facility"]] += r["share"]
                last_line[r["facility"]] = line
        for mine, total in totals.items():
            if total > 1 + SHARE_TOLERANCE:
                self.add(t, last_line[mine], "share",
                         f"shares of mine {mine!r} sum to {total:.6g}, more than 1")
        ft = self.inputs["facilities"]
        for line, r in ft:
            if r["stage"] == "mine" and r["facility"] not in totals and t.present:
                self.add(ft, line, "facility",
                         f"mine {r['facility']!r} has no rows in assays.csv")

    def recoveries(self) -> None:
        t = self.inputs["recoveries"]
        processors = set()
        for line, r in t:
            self.reference(t, line, "element", r["element"], self.elements, "element")
            if self.reference(t, line, "facility", r["facility"], self.facilities, "facility"):
                if self.stage_of(r["facility"]) not in ("separation", "metal", None):
                    self.add(t, line, "facility",
                             f"{r['facility']!r} is not a separation or metal plant")
                processors.add(r["facility"])
        ft = self.inputs["facilities"]
        for line, r in ft:
            if r["stage"] in ("separation", "metal") and r["facility"] not in processors \
                    and t.present:
                self.add(ft, line, "facility",
                         f"{r['stage']} plant {r['facility']!r} has no rows in recoveries.csv")

    def grade_tables(self) -> None:
        t = self.inputs["grades"]
        for line, r in t:
            self.reference(t, line, "element", r["element"], self.elements, "element")
        lt = self.inputs["line_grades"]
        lines_with_grades = set()
        for line, r in lt:
            self.reference(lt, line, "grade", r["grade"], self.grades, "grade")
            if self.reference(lt, line, "facility", r["facility"], self.facilities, "facility"):
                if self.stage_of(r["facility"]) not in ("magnet", None):
                    self.add(lt, line, "facility", f"{r['facility']!r} is not a magnet line")
                lines_with_grades.add(r["facility"])
        ft = self.inputs["facilities"]
        for line, r in ft:
            if r["stage"] == "magnet" and r["facility"] not in lines_with_grades and lt.present:
                self.add(ft, line, "facility",
                         f"magnet line {r['facility']!r} has no rows in line_grades.csv")

    def programs_and_demand(self) -> None:
        t = self.inputs["programs"]
        for line, r in t:
            self.reference(t, line, "grade", r["grade"], self.grades, "grade")
        d = self.inputs["demand"]
        for line, r in d:
            self.reference(d, line, "program", r["program"], self.programs, "program")
            self.in_horizon(d, line, "year", r["year"])

    def prices(self) -> None:
        t = self.inputs["prices"]
        first: dict[tuple[str, str], int] = {}
        for line, r in t:
            known = self.grades if r["commodity"] == "magnet" else self.elements
            what = "grade" if r["commodity"] == "magnet" else "element"
            self.reference(t, line, "item", r["item"], known, what)
            if r["year"] is not None and self.end is not None and r["year"] > self.end:
                self.add(t, line, "year", f"year {r['year']} is after the horizon's end "
                                          f"{self.end}")
            if None not in (r["commodity"], r["item"], r["year"]):
                k = (r["commodity"], r["item"])
                first[k] = min(first.get(k, r["year"]), r["year"])
        if not t.present or self.start is None:
            return
        elements = sorted(self.elements) if self.inputs["elements"].present else []
        needed = [("oxide", e) for e in elements] + [("metal", e) for e in elements]
        needed += [("magnet", g) for g in sorted(self.grades)]
        for commodity, item in needed:
            year = first.get((commodity, item))
            if year is None:
                self.add(t, None, "item", f"no price for {commodity} {item!r}")
            elif year > self.start:
                self.add(t, None, "year", f"the first price of {commodity} {item!r} is for "
                                          f"{year}; one is needed for {self.start}")

    def offers(self) -> None:
        t = self.inputs["offers"]
        totals: dict[str, tuple[int, Any]] = {}
        for line, r in t:
            self.reference(t, line, "item", r["item"], self.elements, "element")
            self.in_horizon(t, line, "year", r["year"])
            if r["offer"] is None:
                continue
            first = totals.setdefault(r["offer"], (line, r.get("total_t")))
            if first[1] != r.get("total_t"):
                shown = "blank" if r.get("total_t") is None else f"{r['total_t']:g}"
                was = "blank" if first[1] is None else f"{first[1]:g}"
                self.add(t, line, "total_t", f"offer {r['offer']!r} has total_t {shown} here "
                                             f"but {was} at row {first[0]}: a total over the "
                                             "horizon is the same on every row of an offer")

    def funding(self) -> None:
        t = self.inputs["funding"]
        for line, r in t:
            if None not in (r["first_year"], r["last_year"]) and r["first_year"] > r["last_year"]:
                self.add(t, line, "last_year", f"last_year {r['last_year']} is before "
                                               f"first_year {r['first_year']}")

    def deals(self) -> None:
        """Check deals.csv: who pays whom, on what, and grants within the payer's budgets."""
        t = self.inputs["deals"]
        funding = {r["program"]: r for _, r in self.inputs["funding"]
                   if r["program"] is not None} if self.inputs["funding"].present else None
        sells = {"separation": "oxide", "metal": "metal", "magnet": "magnet"}
        grants: dict[tuple[str, int], float] = defaultdict(float)
        for line, r in t:
            if funding is not None and r["program"] is not None \
                    and r["program"] not in funding:
                # A payer outside funding.csv is allowed (a portfolio scenario drops a program
                # whose deals stay in force): it counts against no budget. A name this close
                # to a listed program is a typo, not another payer.
                close = difflib.get_close_matches(r["program"], sorted(funding), n=1,
                                                  cutoff=0.8)
                if close:
                    self.add(t, line, "program", f"unknown funding program {r['program']!r}; "
                                                 f"did you mean {close[0]!r}? (a payer not in "
                                                 "funding.csv counts against no budget)")
            known = self.reference(t, line, "facility", r["facility"], self.facilities,
                                   "facility")
            if None not in (r["first_year"], r["last_year"]) \
                    and r["first_year"] > r["last_year"]:
                self.add(t, line, "last_year", f"last_year {r['last_year']} is before "
                                               f"first_year {r['first_year']}")
            if r["kind"] == "floor":
                self._floor(t, line, r, known, sells)
            for column in ("commodity", "item", "usd_per_kg") if r["kind"] == "grant" else ():
                if r[column] is not None:
                    self.add(t, line, column, "a grant has no " + column + " (only a floor "
                                              "does)")
            if r["kind"] == "floor" and r["musd"] is not None:
                self.add(t, line, "musd", "a floor has no musd (it pays on sales; a grant "
                                          "pays musd)")
            if r["kind"] == "grant" and None not in (r["musd"], r["first_year"], r["last_year"],
                                                     r["program"], self.start, self.end):
                for y in range(max(r["first_year"], self.start),
                               min(r["last_year"], self.end) + 1):
                    grants[(r["program"], y)] += r["musd"]
                    self._within_budget(t, line, r["program"], y, grants, funding)

    def _floor(self, t: TypedTable, line: int, r: dict[str, Any], known: bool,
               sells: dict[str, str]) -> None:
        stage = self.stage_of(r["facility"]) if known else None
        if stage is not None and r["commodity"] is not None \
                and sells.get(stage) != r["commodity"]:
            what = f"it sells {sells[stage]}" if stage in sells else "a mine sells concentrate"
            self.add(t, line, "commodity", f"a floor on {r['commodity']} cannot pay "
                                           f"{r['facility']!r} ({stage}): {what}")
        if r["commodity"] == "magnet":
            self.reference(t, line, "item", r["item"], self.grades, "grade")
        elif r["commodity"] is not None:
            self.reference(t, line, "item", r["item"], self.elements, "element")

    def _within_budget(self, t: TypedTable, line: int, program: str, year: int,
                       grants: dict[tuple[str, int], float],
                       funding: dict[str, dict[str, Any]] | None) -> None:
        """Report the grant that takes a program's committed grants above its budgets."""
        prog = (funding or {}).get(program)
        if prog is None or prog["annual_musd"] is None:
            return
        paid = grants[(program, year)]
        if paid > prog["annual_musd"] * (1 + SHARE_TOLERANCE):
            self.add(t, line, "musd", f"grants of {program!r} in {year} come to {paid:g} MUSD, "
                                      f"above its annual budget of {prog['annual_musd']:g}")
        total = sum(v for (g, _), v in grants.items() if g == program)
        cap = prog["total_musd"]
        if cap is not None and total > cap * (1 + SHARE_TOLERANCE) \
                and program not in self.over_total:
            self.over_total.add(program)
            self.add(t, line, "musd", f"grants of {program!r} over the horizon come to more "
                                      f"than its total budget of {cap:g} MUSD (at least "
                                      f"{total:g} by {year})")

    def links(self) -> None:
        t = self.inputs["links"]
        for line, r in t:
            ok_from = self.reference(t, line, "from", r["from"], self.facilities, "facility")
            ok_to = self.reference(t, line, "to", r["to"], self.facilities, "facility")
            if ok_from and ok_to:
                a, b = self.stage_of(r["from"]), self.stage_of(r["to"])
                if None not in (a, b) and NEXT_STAGE.get(a or "") != b:
                    self.add(t, line, "to", f"{r['from']!r} ({a}) cannot ship to {r['to']!r} "
                                            f"({b}): links join consecutive stages")

    def streams(self) -> None:
        """Check streams.csv: separation plant to separation plant, elements both can handle.

        A plant that receives a stream may not pass one on: what arrives keeps its mine's
        assay only through one plant (docs/formulation.md), and so no stream can loop back.
        """
        t = self.inputs["streams"]
        receivers = {r["to"]: line for line, r in t if r["to"] is not None}
        recovered = {(r["facility"], r["element"]): r["recovery"]
                     for _, r in self.inputs["recoveries"]}
        for line, r in t:
            ends = {}
            for column in ("from", "to"):
                if self.reference(t, line, column, r[column], self.facilities, "facility"):
                    ends[column] = r[column]
                    stage = self.stage_of(r[column])
                    if stage not in ("separation", None):
                        self.add(t, line, column, f"{r[column]!r} is a {stage}: a stream joins "
                                                  "two separation plants")
            known_element = self.reference(t, line, "element", r["element"], self.elements,
                                           "element")
            if len(ends) == 2 and r["from"] == r["to"]:
                self.add(t, line, "to", f"{r['from']!r} cannot pass a stream to itself")
                continue
            if r["from"] in receivers and r["from"] in ends.values():
                back = " (a cycle)" if any(r2["from"] == r["to"] and r2["to"] == r["from"]
                                           for _, r2 in t) else ""
                self.add(t, line, "from", f"{r['from']!r} receives a stream (row "
                                          f"{receivers[r['from']]}) and passes one on{back}: "
                                          "chains of streams are not modelled")
            if known_element and "to" in ends and self.inputs["recoveries"].present \
                    and (r["to"], r["element"]) not in recovered:
                self.add(t, line, "element", f"{r['to']!r} cannot separate {r['element']} "
                                             "(no row in recoveries.csv)")
            if known_element and "from" in ends \
                    and recovered.get((r["from"], r["element"])) == 1:
                self.add(t, line, "element", f"{r['from']!r} recovers all its {r['element']} "
                                             "(recovery 1): nothing is left to pass on")

    def locations(self) -> None:
        t = self.inputs["locations"]
        for line, r in t:
            self.reference(t, line, "facility", r["facility"], self.facilities, "facility")


def to_model_data(inputs: Inputs, decisions: tuple[Decision, ...] = ()) -> ModelData:
    """Convert checked inputs, and a scenario's checked decisions, into the frozen ModelData."""
    s = inputs.settings
    covered = frozenset(s["covered_countries"])
    facilities = {}
    for _, r in inputs["facilities"]:
        facilities[r["facility"]] = Facility(
            name=r["facility"], stage=r["stage"], country=r["country"], status=r["status"],
            capacity_t=r["capacity_t"], covered=r["country"] in covered,
            online_year=r["online_year"], available_share=r["available_share"],
            earliest_fid=r["earliest_fid"], lead_years=r["lead_years"] or 1,
            ramp=tuple(r["ramp"]), capex_musd=r["capex_musd"], public_share=r["public_share"],
            life_years=r["life_years"] or 10_000, fixed_om_musd=r["fixed_om_musd"],
            variable_usd_per_kg=r["variable_usd_per_kg"], payability=r["payability"] or 0.0,
            yield_=r["yield"] or 1.0, requires=r["requires"], total_t=r["total_t"],
            qualification_years=r["qualification_years"] or 0,
        )
    deals = tuple(
        Deal(name=r["deal"], kind=r["kind"], program=r["program"], facility=r["facility"],
             first_year=r["first_year"], last_year=r["last_year"], commodity=r["commodity"],
             item=r["item"], usd_per_kg=r["usd_per_kg"] or 0.0, share=r["share"],
             musd=r["musd"] or 0.0)
        for _, r in inputs["deals"])
    grades: dict[str, dict[str, float]] = defaultdict(dict)
    for _, r in inputs["grades"]:
        grades[r["grade"]][r["element"]] = r["kg_per_kg"]
    line_grades: dict[str, list[str]] = defaultdict(list)
    for _, r in inputs["line_grades"]:
        line_grades[r["facility"]].append(r["grade"])
    start, end = s["start_year"], s["end_year"]
    price_rows = sorted(((r["commodity"], r["item"], r["year"]), r["usd_per_kg"])
                        for _, r in inputs["prices"])
    given = dict(price_rows)
    prices = {}
    for commodity, item in {(c, i) for (c, i, _), _ in price_rows}:
        latest = None
        for y in range(min(yy for (c, i, yy) in given if (c, i) == (commodity, item)), end + 1):
            latest = given.get((commodity, item, y), latest)
            if y >= start:
                prices[(commodity, item, y)] = latest
    funding = None
    if inputs["funding"].present:
        funding = {
            r["program"]: FundingProgram(
                name=r["program"], countries=frozenset(r["countries"]),
                stages=frozenset(r["stages"]),
                covers=("capex", "operating") if r["covers"] == "both" else (r["covers"],),
                first_year=r["first_year"], last_year=r["last_year"],
                annual_musd=r["annual_musd"], total_musd=r["total_musd"],
            )
            for _, r in inputs["funding"]
        }
    links: dict[str, list[str]] = defaultdict(list)
    for _, r in inputs["links"]:
        links[r["from"]].append(r["to"])
    streams: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for _, r in inputs["streams"]:
        streams[(r["from"], r["to"])][r["element"]] = r["yield"]
    return ModelData(
        start_year=start, end_year=end, discount_rate=s["discount_rate"],
        currency_year=s["currency_year"], mode=s["mode"], time_limit_s=s["solver.time_limit_s"],
        mip_gap=s["solver.mip_gap"], threads=s["solver.threads"], solver=s["solver.name"],
        solver_options=frozen({name: tuple(options.items())
                               for name, options in s.get(SOLVER_OPTIONS, {}).items()}),
        covered_countries=covered,
        elements=tuple(r["element"] for _, r in inputs["elements"]),
        metal_per_oxide=frozen({r["element"]: r["metal_per_oxide"]
                                for _, r in inputs["elements"]}),
        facilities=frozen(facilities),
        assays=frozen({(r["facility"], r["element"]): r["share"] for _, r in inputs["assays"]}),
        recoveries=frozen({(r["facility"], r["element"]): r["recovery"]
                           for _, r in inputs["recoveries"]}),
        grades=frozen({k: frozen(v) for k, v in grades.items()}),
        line_grades=frozen({k: tuple(v) for k, v in line_grades.items()}),
        programs=frozen({r["program"]: Program(r["program"], r["grade"], r["kg_per_unit"],
                                               r["required_from"], r["penalty_usd_per_kg"],
                                               r["buyer"] or "us-defense",
                                               r["platform"] or r["program"])
                         for _, r in inputs["programs"]}),
        demand_units=frozen({(r["program"], r["year"]): r["units"] for _, r in inputs["demand"]}),
        prices=frozen(prices),
        offers=frozen({(r["offer"], r["year"]): Offer(r["offer"], r["year"], r["commodity"],
                                                      r["item"], r["provenance"], r["max_t"],
                                                      r["usd_per_kg"], r["total_t"])
                       for _, r in inputs["offers"]}),
        funding=frozen(funding) if funding is not None else None,
        links=frozen({k: tuple(v) for k, v in links.items()}),
        decisions=decisions,
        locations=frozen({r["facility"]: (r["latitude"], r["longitude"])
                          for _, r in inputs["locations"]}),
        deals=deals,
        streams=frozen({k: frozen(v) for k, v in streams.items()}),
    )


def check_inputs(inputs: Inputs, problems: list[Problem],
                 decisions: list[GivenDecision] | None = None) -> tuple[Decision, ...]:
    """Run every cross-table check, then check a scenario's decisions, appending problems.

    Returns the decisions that passed their checks.
    """
    checker = _Checker(inputs, problems)
    checker.run()
    return check_decisions(decisions or [], checker.facilities, checker.start, checker.end,
                           problems)


@dataclass(frozen=True)
class LoadedInputs:
    """Validated inputs with what identifies them: name, resolved-tables hash, scenario.

    ``tables_sha256`` is the hash of the resolved tables; ``sha256``, what a run records,
    also covers the decisions when there are any.
    """

    data: ModelData
    name: str
    tables_sha256: str
    scenario: dict[str, str] | None = None

    @property
    def sha256(self) -> str:
        """Return the inputs hash: the tables', folded with the decisions' when there are any."""
        if not self.data.decisions:
            return self.tables_sha256
        given = repr([d.as_given() for d in self.data.decisions])
        return hashlib.sha256(f"{self.tables_sha256}\0decisions\0{given}".encode()).hexdigest()

    def without_decisions(self) -> LoadedInputs:
        """Return the same inputs with the scenario's decisions left out."""
        return replace(self, data=replace(self.data, decisions=()))


def is_scenario_file(path: Path) -> bool:
    """Return whether ``path`` names a scenario file (``.toml``, in any case)."""
    return path.suffix.lower() == ".toml"


def scenario_name(path: str | Path) -> str:
    """Return the name of an inputs folder or scenario file (its results folder name)."""
    path = Path(path)
    return path.stem if is_scenario_file(path) else path.resolve().name


def _path_kind(path: Path) -> str:
    """Return ``folder``, ``scenario``, ``missing`` or ``other`` for an inputs path."""
    try:
        if path.is_dir():
            return "folder"
        if is_scenario_file(path):
            return "scenario"
        return "other" if path.exists() or path.is_symlink() else "missing"
    except (OSError, ValueError):  # a name too long, ...
        return "missing"


def load_inputs(path: str | Path) -> LoadedInputs:
    """Read, validate and convert an inputs folder or a scenario file.

    Raises InputError with every problem found; problems caused by a scenario's changes name
    the scenario file and the change.
    """
    path = Path(path)
    problems: list[Problem] = []
    trail: Trail | None = None
    meta = None
    given: list[GivenDecision] = []
    kind = _path_kind(path)
    if kind == "scenario" and (path.exists() or path.is_symlink()):
        scenario = read_scenario(path, problems)
        if scenario is None:
            raise InputError(problems)
        raw, folder, trail = scenario.raw, scenario.base, scenario.trail
        given = scenario.decisions
        meta = {"file": str(path), "base": str(scenario.base),
                "description": scenario.description}
    elif kind == "folder":
        raw, folder = read_raw_inputs(path, problems), path
    elif kind == "other":
        raise InputError([Problem(str(path), None, None, "is neither an inputs folder nor a "
                                                         "scenario file (.toml)")])
    else:
        raise InputError([Problem(str(path), None, None,
                                  "inputs folder or scenario file not found")])
    inputs = type_inputs(raw, folder, problems)
    decisions = check_inputs(inputs, problems, given)
    if problems:
        raise InputError([trail.locate(p) for p in problems] if trail else problems)
    for p in scale_warnings(inputs):
        warnings.warn(str(trail.locate(p) if trail else p), ReePlanWarning, stacklevel=2)
    return LoadedInputs(to_model_data(inputs, decisions), scenario_name(path), raw.sha256(),
                        meta)


def load(path: str | Path) -> ModelData:
    """Read, validate and convert an inputs folder or scenario file into ModelData."""
    return load_inputs(path).data
