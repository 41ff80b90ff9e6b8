"""The one registry of input tables and columns: drives loading, validation and docs/inputs.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STAGES = ("mine", "separation", "metal", "magnet")
PROVENANCES = ("clean", "tainted")
#: Who a program's magnets are for: US defense (the plan's question), allied defense, or an
#: allied commercial China-free target.
BUYERS = ("us-defense", "allied-defense", "commercial")
#: The MIP solvers a run may name (settings.toml ``[solver] name``, ``--solver``).
SOLVERS = ("highs", "scip", "cbc", "gurobi", "cplex")

#: Years anywhere in the inputs: far wider than any plan, narrow enough that a year typed
#: wrong (-1e15, 20300) is an error at once rather than a loop over the years in between.
YEAR_MIN, YEAR_MAX = 1900, 2200
#: Magnitude bounds, each far above any real figure and below what the solver can still
#: handle: HiGHS takes matrix values up to 1e15 and treats bounds and costs from 1e20 as
#: infinite, and a model's coefficients are these figures multiplied by each other (a price
#: times a tonnage, a capacity times a ramp share). A capacity above 1e7 t (10 Mt a year,
#: more than the world's rare-earth output) is almost always kg typed as t.
MAX_CAPACITY_T = 1e7
#: Money in MUSD: 1e6 MUSD is a trillion US dollars, a thousand times the largest project.
MAX_MUSD = 1e6
#: Prices and costs in USD/kg: 1e7 USD/kg is ten thousand times the dearest rare earth.
MAX_USD_PER_KG = 1e7
#: Units built in a year (1e9) and kg of magnet in a unit (1e6 kg, a thousand tonnes).
MAX_UNITS = 1e9
MAX_KG_PER_UNIT = 1e6
#: A finite stock over the horizon (t): a hundred years of the largest capacity.
MAX_TOTAL_T = 1e9

#: What is read at all: regular files only (not folders, devices, pipes), at most this
#: many bytes per CSV table and per TOML file, this many characters in a row of a table,
#: this many columns in a header and this many rows in a table. The largest synthetic
#: benchmark (benchmarks/generate.py, size L, 800 facilities) has 1,421 rows in its largest
#: table and a model that takes 5 GB to solve: the row limit is 70 times that.
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_TOML_BYTES = 20 * 1024 * 1024
MAX_ROW_CHARS = 1_000_000
MAX_COLUMNS = 100
MAX_ROWS = 100_000
#: A scenario file: at most this many [[change]] and this many [[decision]] entries (the
#: shipped ones have at most four), so that a file cannot ask for billions of matches.
MAX_ENTRIES = 1000


@dataclass(frozen=True)
class Column:
    """One input column: its type, unit, bounds, default and meaning.

    ``kind`` is one of ``str``, ``int``, ``float``, ``list`` (``;``-separated words) or
    ``fractions`` (``;``-separated numbers in [0, 1]). A column is required when
    ``required`` is true, or when the row's ``required_when[0]`` column equals
    ``required_when[1]`` (or one of them, for a tuple); otherwise a blank takes ``default``
    (``None``: not given).
    Only ``multiline`` columns (free text) may hold a line break, in a quoted cell.
    """

    name: str
    kind: str
    unit: str = ""
    description: str = ""
    required: bool = True
    required_when: tuple[str, str | tuple[str, ...]] | None = None
    default: object = None
    lower: float | None = None
    upper: float | None = None
    lower_open: bool = False
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    multiline: bool = False

    @property
    def required_values(self) -> tuple[str, ...]:
        """Return the values of the ``required_when`` column that make this one required."""
        if self.required_when is None:
            return ()
        wanted = self.required_when[1]
        return wanted if isinstance(wanted, tuple) else (wanted,)


def year_column(name: str, description: str, **kwargs: Any) -> Column:
    """Return a column holding a year, bounded to YEAR_MIN..YEAR_MAX."""
    return Column(name, "int", "year", description, lower=YEAR_MIN, upper=YEAR_MAX, **kwargs)


@dataclass(frozen=True)
class Table:
    """One input file: its key columns and its columns, in the order documented."""

    name: str
    file: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    optional: bool = False
    needs_rows: bool = False

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        return next(c for c in self.columns if c.name == name)


ISO2 = r"^[A-Z]{2}$"
SOURCE = Column(
    "source", "str", description="Where the figures of this row come from, or 'assumption: ...'.",
    multiline=True,
)
OPTIONAL_SOURCE = Column("source", "str", description=SOURCE.description, required=False,
                         multiline=True)
NOTES = Column("notes", "str", required=False, description="Free text, ignored by the model.",
               multiline=True)


SETTINGS = Table(
    "settings",
    "settings.toml",
    key=(),
    description="Horizon, discounting, covered countries, mode and solver options. Besides "
    "the settings below, a table `[solver.highs]` (likewise `[solver.scip]`, `[solver.cbc]`, "
    "`[solver.gurobi]`, `[solver.cplex]`) passes that solver's own options by its own names "
    "(e.g. `mip_heuristic_effort = 0.05`), after the settings below, so they win where they "
    "name the same thing; summary.json records them and the values the solver used. HiGHS's "
    "are checked when the inputs are read (an unknown name, or a value of the wrong type or "
    "out of range, is an error); the other solvers check theirs when called.",
    columns=(
        year_column("start_year", "First year of the horizon."),
        year_column("end_year", "Last year of the horizon."),
        Column(
            "discount_rate", "float", "1/yr", "Real discount rate r; DF_y = (1+r)^-(y-start_year).",
            lower=0, upper=1,
        ),
        year_column("currency_year", "Year of the constant US dollars used for money."),
        Column(
            "covered_countries", "list", "ISO-2",
            "Countries whose output is tainted (DFARS 252.225-7052 covered nations).",
            required=False, default=("CN", "RU", "KP", "IR"), pattern=ISO2,
        ),
        Column("mode", "str", "", "Objective: min_subsidy or max_coverage (see formulation).",
               required=False, default="min_subsidy", choices=("min_subsidy", "max_coverage")),
        Column("solver.name", "str", "",
               "MIP solver: highs (comes with ree-plan), or scip, cbc, gurobi, cplex (install "
               "its extra, e.g. pip install 'ree-plan[scip]'; README.md).",
               required=False, default="highs", choices=SOLVERS),
        Column("solver.time_limit_s", "float", "s", "Wall-clock limit for the solver (at most "
               "1e7 s, about four months).",
               required=False, default=600.0, lower=0, lower_open=True, upper=1e7),
        Column("solver.mip_gap", "float", "", "Relative MIP gap at which the solver stops.",
               required=False, default=1e-4, lower=0, upper=1),
        Column("solver.threads", "int", "",
               "Solver threads (1 recommended; sweeps run in processes).",
               required=False, default=1, lower=1, upper=256),
    ),
)

ELEMENTS = Table(
    "elements",
    "elements.csv",
    key=("element",),
    needs_rows=True,
    description="The elements tracked through the chain.",
    columns=(
        Column("element", "str", "", "Element symbol, e.g. Dy."),
        Column("oxide", "str", "", "Oxide formula, e.g. Dy2O3."),
        Column("metal_per_oxide", "float", "kg/kg", "kg of metal in a kg of oxide.",
               lower=0, upper=1, lower_open=True),
        NOTES,
    ),
)

FACILITIES = Table(
    "facilities",
    "facilities.csv",
    key=("facility",),
    needs_rows=True,
    description="Every mine, separation plant, metal plant and magnet line, existing or candidate.",
    columns=(
        Column("facility", "str", "", "Unique name."),
        Column("stage", "str", "", "Stage of the chain.", choices=STAGES),
        Column("country", "str", "ISO-2", "Host country.", pattern=ISO2),
        Column("status", "str", "", "existing: runs from online_year; committed: past its FID "
               "(capex sunk), runs from online_year with its ramp; candidate: needs a FID.",
               choices=("existing", "committed", "candidate")),
        Column("capacity_t", "float", "t/yr",
               "Full capacity in the stage's unit: mine t TREO produced, separation t TREO fed, "
               "metal t metal produced, magnet t magnet produced.",
               lower=0, upper=MAX_CAPACITY_T),
        year_column("online_year", "Existing or committed: first year of output.",
                    required=False, required_when=("status", ("existing", "committed"))),
        Column("available_share", "float", "", "Existing or committed: share of capacity this "
               "plan may use.",
               required=False, default=1.0, lower=0, upper=1, lower_open=True),
        year_column("earliest_fid", "Candidate: first year a FID is possible.",
                    required=False, required_when=("status", "candidate")),
        Column("lead_years", "int", "yr", "Candidate: years from FID to first output.",
               required=False, required_when=("status", "candidate"), lower=1, upper=40),
        Column("ramp", "fractions", "", "Candidate or committed: share of capacity in the "
               "first operating years, e.g. 0.4;0.7;1 (1 after the last listed year).",
               required=False, default=(1.0,)),
        Column("capex_musd", "float", "MUSD", "Candidate: investment cost, spread evenly over "
               "the lead years.", required=False, required_when=("status", "candidate"),
               default=0.0, lower=0, upper=MAX_MUSD),
        Column("public_share", "float", "", "Share of capex paid by public funding programs.",
               required=False, default=1.0, lower=0, upper=1),
        Column("life_years", "int", "yr", "Operating years after first output (candidates: "
               "required; existing: optional, e.g. a stockpile that runs out).",
               required=False, required_when=("status", "candidate"), lower=1, upper=100),
        Column("total_t", "float", "t", "Mine: most concentrate (t TREO) it ships over the "
               "horizon, all years together (a reserve, a stockpile); blank: no limit but "
               "its yearly capacity.", required=False, lower=0, upper=MAX_TOTAL_T),
        Column("qualification_years", "int", "yr", "Magnet line: years from first output "
               "before its magnets may go to a defense program (buyer us-defense or "
               "allied-defense); until then only to commercial programs and the market.",
               required=False, default=0, lower=0, upper=40),
        Column("fixed_om_musd", "float", "MUSD/yr", "Candidate: fixed costs per operating year.",
               required=False, default=0.0, lower=0, upper=MAX_MUSD),
        Column("variable_usd_per_kg", "float", "USD/kg",
               "Operating cost per kg of the stage's capacity unit.", lower=0,
               upper=MAX_USD_PER_KG),
        Column("payability", "float", "", "Mine: share of contained oxide value paid for the "
               "concentrate.", required=False, required_when=("stage", "mine"), lower=0, upper=1),
        Column("yield", "float", "kg/kg", "Magnet line: kg magnet per kg metal input.",
               required=False, required_when=("stage", "magnet"), lower=0, upper=1,
               lower_open=True),
        Column("requires", "str", "", "A facility whose FID must not come later (phase 1 of "
               "this phase 2).", required=False),
        SOURCE,
        NOTES,
    ),
)

ASSAYS = Table(
    "assays",
    "assays.csv",
    key=("facility", "element"),
    description="Element shares of each mine's concentrate.",
    columns=(
        Column("facility", "str", "", "A mine."),
        Column("element", "str", "", "An element of elements.csv."),
        Column("share", "float", "kg/kg TREO", "kg oxide per kg TREO (a mine's shares sum <= 1).",
               lower=0, upper=1),
        OPTIONAL_SOURCE,
        NOTES,
    ),
)

RECOVERIES = Table(
    "recoveries",
    "recoveries.csv",
    key=("facility", "element"),
    description="What each separation and metal plant can process, and its recovery. A missing "
    "pair means the plant cannot process that element.",
    columns=(
        Column("facility", "str", "", "A separation or metal plant."),
        Column("element", "str", "", "An element of elements.csv."),
        Column("recovery", "float", "kg/kg", "Share of the element's input that comes out.",
               lower=0, upper=1, lower_open=True),
        OPTIONAL_SOURCE,
        NOTES,
    ),
)

GRADES = Table(
    "grades",
    "grades.csv",
    key=("grade", "element"),
    needs_rows=True,
    description="Magnet grades and the metal each needs.",
    columns=(
        Column("grade", "str", "", "Magnet grade name."),
        Column("element", "str", "", "An element of elements.csv."),
        Column("kg_per_kg", "float", "kg/kg", "kg metal per kg magnet.", lower=0, upper=1),
        OPTIONAL_SOURCE,
        NOTES,
    ),
)

LINE_GRADES = Table(
    "line_grades",
    "line_grades.csv",
    key=("facility", "grade"),
    description="Which grades each magnet line can make.",
    columns=(
        Column("facility", "str", "", "A magnet line."),
        Column("grade", "str", "", "A grade of grades.csv."),
        NOTES,
    ),
)

PROGRAMS = Table(
    "programs",
    "programs.csv",
    key=("program",),
    needs_rows=True,
    description="Programs (platforms or aggregates; US and allied defense, commercial "
    "China-free targets) and their clean-magnet needs.",
    columns=(
        Column("program", "str", "", "Unique name."),
        Column("grade", "str", "", "The grade of magnet it needs."),
        Column("kg_per_unit", "float", "kg/unit", "kg magnet per unit built.", lower=0,
               upper=MAX_KG_PER_UNIT),
        year_column("required_from", "First year it must be China-free."),
        Column("penalty_usd_per_kg", "float", "USD/kg", "Cost of a kg not delivered.", lower=0,
               upper=MAX_USD_PER_KG),
        Column("buyer", "str", "", "Who needs the magnets; the penalty sets the priority "
               "(defense first). Only defense buyers wait for a line's qualification.",
               required=False, default="us-defense", choices=BUYERS),
        Column("platform", "str", "", "The platform (or aggregate) the program belongs to, to "
               "group programs in results; blank: the program itself.", required=False),
        SOURCE,
        NOTES,
    ),
)

DEMAND = Table(
    "demand",
    "demand.csv",
    key=("program", "year"),
    description="Units built per program and year (a missing year builds none).",
    columns=(
        Column("program", "str", "", "A program of programs.csv."),
        year_column("year", "Year within the horizon."),
        Column("units", "float", "units/yr", "Units built that year.", lower=0,
               upper=MAX_UNITS),
        OPTIONAL_SOURCE,
        NOTES,
    ),
)

PRICES = Table(
    "prices",
    "prices.csv",
    key=("commodity", "item", "year"),
    needs_rows=True,
    description="Reference (Chinese/world market) prices; a missing year takes the latest earlier "
    "year.",
    columns=(
        Column("commodity", "str", "", "oxide, metal or magnet.", choices=("oxide", "metal",
                                                                           "magnet")),
        Column("item", "str", "", "An element (oxide, metal) or a grade (magnet)."),
        year_column("year", "Year from which the price holds."),
        Column("usd_per_kg", "float", "USD/kg", "Price.", lower=0, upper=MAX_USD_PER_KG),
        SOURCE,
        NOTES,
    ),
)

OFFERS = Table(
    "offers",
    "offers.csv",
    key=("offer", "year"),
    optional=True,
    description="Material that can be bought (stockpiles, imports), by year.",
    columns=(
        Column("offer", "str", "", "Offer name."),
        year_column("year", "Year the offer stands."),
        Column("commodity", "str", "", "oxide (to metal plants) or metal (to magnet lines).",
               choices=("oxide", "metal")),
        Column("item", "str", "", "An element."),
        Column("provenance", "str", "", "clean or tainted.", choices=PROVENANCES),
        Column("max_t", "float", "t/yr", "Most that can be bought that year.", lower=0,
               upper=MAX_CAPACITY_T),
        Column("usd_per_kg", "float", "USD/kg", "Price.", lower=0, upper=MAX_USD_PER_KG),
        Column("total_t", "float", "t", "Most that can be bought from this offer over the "
               "horizon, all years together (a stockpile); blank: no limit but max_t. The same "
               "on every row of the offer.", required=False, lower=0, upper=MAX_TOTAL_T),
        SOURCE,
        NOTES,
    ),
)

FUNDING = Table(
    "funding",
    "funding.csv",
    key=("program",),
    optional=True,
    description="Public funding programs: who they may fund, what they cover, their budgets. "
    "Absent: budgets are unlimited and any facility may be supported.",
    columns=(
        Column("program", "str", "", "Funding program name."),
        Column("countries", "list", "ISO-2", "Host countries it may fund.", pattern=ISO2),
        Column("stages", "list", "", "Stages it may fund.", choices=STAGES),
        Column("covers", "str", "", "capex, operating or both.",
               choices=("capex", "operating", "both")),
        year_column("first_year", "First year it pays."),
        year_column("last_year", "Last year it pays."),
        Column("annual_musd", "float", "MUSD/yr", "Most it pays in a year.", lower=0,
               upper=MAX_MUSD),
        Column("total_musd", "float", "MUSD", "Most it pays over the horizon (blank: no cap).",
               required=False, lower=0, upper=MAX_MUSD),
        SOURCE,
        NOTES,
    ),
)

DEALS = Table(
    "deals",
    "deals.csv",
    key=("deal",),
    optional=True,
    description="Deals in force: price floors and grants already committed by a funding "
    "program. Their payments are committed subsidy, reported apart from the new subsidy the "
    "plan decides, and count against the paying program's budgets.",
    columns=(
        Column("deal", "str", "", "Unique name."),
        Column("kind", "str", "", "floor: the program pays the facility the gap between "
               "usd_per_kg and the reference price on share of its sales of item; grant: it pays "
               "musd a year (e.g. a capex grant to a committed project).",
               choices=("floor", "grant")),
        Column("program", "str", "", "Who pays: a program of funding.csv, whose budgets it "
               "counts against, or another payer (counted against no budget, e.g. a program "
               "a portfolio scenario leaves out)."),
        Column("facility", "str", "", "The facility paid."),
        Column("commodity", "str", "", "Floor: what the floor is on, the facility's output "
               "(separation oxide, metal plant metal, magnet line magnet).", required=False,
               required_when=("kind", "floor"), choices=("oxide", "metal", "magnet")),
        Column("item", "str", "", "Floor: an element (oxide, metal) or a grade (magnet).",
               required=False, required_when=("kind", "floor")),
        Column("usd_per_kg", "float", "USD/kg", "Floor: the price guaranteed.", required=False,
               required_when=("kind", "floor"), lower=0, upper=MAX_USD_PER_KG),
        Column("share", "float", "", "Floor: the share of the facility's sales of item it "
               "covers.", required=False, default=1.0, lower=0, upper=1, lower_open=True),
        Column("musd", "float", "MUSD/yr", "Grant: paid in each year first_year..last_year.",
               required=False, required_when=("kind", "grant"), lower=0, upper=MAX_MUSD),
        year_column("first_year", "First year it pays."),
        year_column("last_year", "Last year it pays."),
        SOURCE,
        NOTES,
    ),
)

LINKS = Table(
    "links",
    "links.csv",
    key=("from", "to"),
    optional=True,
    description="Allowed arcs: a facility that appears as 'from' ships only along its listed arcs.",
    columns=(
        Column("from", "str", "", "Shipping facility."),
        Column("to", "str", "", "Receiving facility of the next stage."),
        OPTIONAL_SOURCE,
        NOTES,
    ),
)

STREAMS = Table(
    "streams",
    "streams.csv",
    key=("from", "to", "element"),
    optional=True,
    description="Intermediate streams: a separation plant passes what it does not recover of "
    "an element (its heavy fraction, say) to another separation plant as a mixed "
    "concentrate, which that plant separates with its own recoveries. Absent: no streams.",
    columns=(
        Column("from", "str", "", "The separation plant that passes the element on."),
        Column("to", "str", "", "The separation plant that takes it in (its feed capacity "
               "counts it); it must have a recovery for the element and pass no stream on."),
        Column("element", "str", "", "An element of elements.csv."),
        Column("yield", "float", "kg/kg", "Share of what `from` does not recover of the element "
               "that reaches `to`.", required=False, default=1.0, lower=0, upper=1,
               lower_open=True),
        SOURCE,
        NOTES,
    ),
)

LOCATIONS = Table(
    "locations",
    "locations.csv",
    key=("facility",),
    optional=True,
    description="Where facilities are, for the report's map only (the model does not read it). "
    "A facility without a row is not drawn.",
    columns=(
        Column("facility", "str", "", "A facility of facilities.csv."),
        Column("latitude", "float", "degrees", "Latitude, north positive (WGS 84).",
               lower=-90, upper=90),
        Column("longitude", "float", "degrees", "Longitude, east positive (WGS 84).",
               lower=-180, upper=180),
        SOURCE,
        NOTES,
    ),
)

TABLES: tuple[Table, ...] = (
    SETTINGS, ELEMENTS, FACILITIES, ASSAYS, RECOVERIES, GRADES, LINE_GRADES, PROGRAMS, DEMAND,
    PRICES, OFFERS, FUNDING, DEALS, LINKS, STREAMS, LOCATIONS,
)
CSV_TABLES: tuple[Table, ...] = tuple(t for t in TABLES if t.file.endswith(".csv"))
