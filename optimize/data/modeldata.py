"""The frozen, validated, pandas-free data object that the model is built from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Facility:
    """One facility, with every field the model needs (units as in facilities.csv)."""

    name: str
    stage: str
    country: str
    status: str
    capacity_t: float
    covered: bool
    online_year: int | None = None
    available_share: float = 1.0
    earliest_fid: int | None = None
    lead_years: int = 1
    ramp: tuple[float, ...] = (1.0,)
    capex_musd: float = 0.0
    public_share: float = 1.0
    life_years: int = 100
    fixed_om_musd: float = 0.0
    variable_usd_per_kg: float = 0.0
    payability: float = 0.0
    yield_: float = 1.0
    requires: str | None = None
    total_t: float | None = None
    qualification_years: int = 0

    def existing_in_service(self, year: int) -> bool:
        """Return whether an existing facility has capacity in ``year`` (online, within life)."""
        assert self.online_year is not None
        return self.online_year <= year < self.online_year + self.life_years

    def existing_capacity(self, year: int) -> float:
        """Return an existing or committed facility's capacity this plan may use in ``year``.

        ``capacity * available_share`` while in service; a committed one (past its FID)
        ramps up from its online year by ``ramp``, an existing one runs at once.
        """
        if not self.existing_in_service(year):
            return 0.0
        assert self.online_year is not None
        ramp = self.ramp_share(year - self.online_year) if self.committed else 1.0
        return self.capacity_t * self.available_share * ramp

    @property
    def committed(self) -> bool:
        """Return whether the facility is past its FID but not yet running at full capacity."""
        return self.status == "committed"

    @property
    def candidate(self) -> bool:
        """Return whether the facility needs a FID."""
        return self.status == "candidate"

    def ramp_share(self, years_since_first_output: int) -> float:
        """Return the share of capacity available ``i`` years after first output (0 before)."""
        i = years_since_first_output
        if i < 0 or i >= self.life_years:
            return 0.0
        return self.ramp[i] if i < len(self.ramp) else 1.0


@dataclass(frozen=True)
class Program:
    """A program: the clean magnets it needs, and for whom (``buyer``, ``platform``)."""

    name: str
    grade: str
    kg_per_unit: float
    required_from: int
    penalty_usd_per_kg: float
    buyer: str = "us-defense"
    platform: str = ""

    @property
    def defense(self) -> bool:
        """Return whether only qualified magnet lines may deliver to it (a defense buyer)."""
        return self.buyer != "commercial"


@dataclass(frozen=True)
class Offer:
    """Material for sale in one year."""

    name: str
    year: int
    commodity: str
    item: str
    provenance: str
    max_t: float
    usd_per_kg: float
    total_t: float | None = None


@dataclass(frozen=True)
class FundingProgram:
    """A public funding program: whom it may pay, for what, and how much."""

    name: str
    countries: frozenset[str]
    stages: frozenset[str]
    covers: tuple[str, ...]
    first_year: int
    last_year: int
    annual_musd: float
    total_musd: float | None

    def eligible(self, facility: Facility, year: int, cover: str) -> bool:
        """Return whether this program may pay ``cover`` for ``facility`` in ``year``."""
        return (
            cover in self.covers
            and facility.country in self.countries
            and facility.stage in self.stages
            and self.first_year <= year <= self.last_year
        )


@dataclass(frozen=True)
class Deal:
    """A deal in force: a price floor or a grant a funding program has committed.

    A ``floor`` pays ``facility`` ``share x max(0, usd_per_kg - price)`` on each kg of its
    sales of ``commodity`` ``item``; a ``grant`` pays ``musd`` a year. Both in
    ``first_year..last_year``, by ``program``.
    """

    name: str
    kind: str
    program: str
    facility: str
    first_year: int
    last_year: int
    commodity: str | None = None
    item: str | None = None
    usd_per_kg: float = 0.0
    share: float = 1.0
    musd: float = 0.0

    def pays_in(self, year: int) -> bool:
        """Return whether the deal is in force in ``year``."""
        return self.first_year <= year <= self.last_year


#: The kinds of decision a scenario may take on a candidate (its ``[[decision]]`` keys).
DECISION_KINDS = ("fund_by", "never", "fid_year")


@dataclass(frozen=True)
class Decision:
    """An analyst's decision on one candidate, from a scenario's ``[[decision]]``.

    ``kind`` is ``fund_by`` (funded, FID in ``year`` or before), ``fid_year`` (funded, FID in
    exactly ``year``) or ``never`` (not funded; ``year`` is ``None``).
    """

    facility: str
    kind: str
    year: int | None = None

    @classmethod
    def from_given(cls, given: Mapping[str, Any]) -> Decision:
        """Return the decision of an ``as_given`` dict (as summary.json records it)."""
        kind = next(k for k in DECISION_KINDS if k in given)
        return cls(given["facility"], kind, None if kind == "never" else given[kind])

    def as_given(self) -> dict[str, Any]:
        """Return the decision as the scenario file writes it: facility and its one key."""
        return {"facility": self.facility,
                self.kind: True if self.kind == "never" else self.year}

    def __str__(self) -> str:
        """Return e.g. ``strange-lake funded by 2030``."""
        what = {"fund_by": f"funded by {self.year}", "fid_year": f"FID in {self.year}",
                "never": "never funded"}[self.kind]
        return f"{self.facility} {what}"


def possible_fid_years(earliest_fid: int, start_year: int, end_year: int) -> range:
    """Return the years in which a candidate may take its FID.

    From its earliest FID (or the horizon's start, if later) to the horizon's end.
    """
    return range(max(earliest_fid, start_year), end_year + 1)


def frozen(mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """Return a read-only view of a dict."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class ModelData:
    """Everything the model needs, validated; mappings are read-only.

    Prices are filled for every year of the horizon (a missing year takes the latest
    earlier year). ``funding`` is ``None`` when funding.csv is absent (budgets unlimited).
    ``links`` maps a shipping facility to the only facilities it may ship to.
    ``decisions`` are the analyst's forced or forbidden projects (none for an inputs folder);
    they add rows to the model, so they are part of its structure.
    ``streams`` maps a (from, to) pair of separation plants to ``{element: yield}``: what
    ``from`` does not recover of each element, times its yield, goes on to ``to``.
    ``locations`` maps a facility to its (latitude, longitude), for the report's map only.
    """

    start_year: int
    end_year: int
    discount_rate: float
    currency_year: int
    mode: str
    time_limit_s: float
    mip_gap: float
    threads: int
    solver: str
    #: Each solver's own options, by its own names (settings.toml ``[solver.<solver>]``).
    solver_options: Mapping[str, tuple[tuple[str, Any], ...]]
    covered_countries: frozenset[str]
    elements: tuple[str, ...]
    metal_per_oxide: Mapping[str, float]
    facilities: Mapping[str, Facility]
    assays: Mapping[tuple[str, str], float]
    recoveries: Mapping[tuple[str, str], float]
    grades: Mapping[str, Mapping[str, float]]
    line_grades: Mapping[str, tuple[str, ...]]
    programs: Mapping[str, Program]
    demand_units: Mapping[tuple[str, int], float]
    prices: Mapping[tuple[str, str, int], float]
    offers: Mapping[tuple[str, int], Offer]
    funding: Mapping[str, FundingProgram] | None
    links: Mapping[str, tuple[str, ...]]
    decisions: tuple[Decision, ...] = ()
    deals: tuple[Deal, ...] = ()
    streams: Mapping[tuple[str, str], Mapping[str, float]] = field(
        default_factory=lambda: frozen({}))
    locations: Mapping[str, tuple[float, float]] = field(default_factory=lambda: frozen({}))

    @property
    def years(self) -> range:
        """Return the years of the horizon."""
        return range(self.start_year, self.end_year + 1)

    def discount(self, year: int) -> float:
        """Return ``DF_y = (1 + r)^-(y - start_year)``."""
        return float((1.0 + self.discount_rate) ** -(year - self.start_year))

    def demand_t(self, program: str, year: int) -> float:
        """Return the program's clean magnet demand in t for a year (0 before required_from)."""
        p = self.programs[program]
        if year < p.required_from:
            return 0.0
        return self.demand_units.get((program, year), 0.0) * p.kg_per_unit / 1000.0

    @cached_property
    def mine_assays(self) -> Mapping[str, tuple[tuple[str, float], ...]]:
        """Return each mine's ``(element, share)`` pairs, in assays order."""
        out: dict[str, list[tuple[str, float]]] = {}
        for (f, e), share in self.assays.items():
            out.setdefault(f, []).append((e, share))
        return frozen({f: tuple(pairs) for f, pairs in out.items()})

    @cached_property
    def concentrate_usd_per_kg(self) -> Mapping[tuple[str, int], float]:
        """Return what a kg TREO of each mine's concentrate is paid in each year, in USD.

        ``payability x sum over elements of assay share x oxide price``.
        """
        return frozen({
            (mine, y): self.facilities[mine].payability
            * sum(share * self.prices[("oxide", e, y)] for e, share in pairs)
            for mine, pairs in self.mine_assays.items() for y in self.years})

    @cached_property
    def stocks(self) -> Mapping[tuple[str, str], float]:
        """Return the finite stocks: ``("mine", m)`` and ``("offer", b)`` -> total t.

        A mine's ``total_t`` (t TREO shipped over the horizon) and an offer's ``total_t``
        (t bought over the horizon); mines and offers without one are not listed.
        """
        out: dict[tuple[str, str], float] = {}
        for f, fac in self.facilities.items():
            if fac.stage == "mine" and fac.total_t is not None:
                out[("mine", f)] = fac.total_t
        for (b, _y), offer in self.offers.items():
            if offer.total_t is not None:
                out[("offer", b)] = offer.total_t
        return frozen(out)

    def grants_musd(self, program: str | None = None, facility: str | None = None,
                    year: int | None = None) -> float:
        """Return the grants in force (MUSD) of a program, to a facility, in a horizon year.

        ``None`` for any of them sums over it (years: the horizon's).
        """
        years = self.years if year is None else (year,)
        return sum(d.musd for d in self.deals if d.kind == "grant"
                   and program in (None, d.program) and facility in (None, d.facility)
                   for y in years if d.pays_in(y))

    def unrecovered(self, s: str, e: str) -> float:
        """Return the share of element ``e`` fed to separation plant ``s`` it does not recover."""
        return 1.0 - self.recoveries.get((s, e), 0.0)

    def stage(self, stage: str) -> list[str]:
        """Return the names of the facilities of a stage, in input order."""
        return [f.name for f in self.facilities.values() if f.stage == stage]
