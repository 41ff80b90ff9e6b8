"""Generate docs/formulation.md from the rule docstrings and docs/inputs.md from the registry.

Run ``python -m optimize.docs`` after changing a rule or a column; a test fails when the
files in docs/ are stale or a constraint family has no math.
"""

from __future__ import annotations

import csv
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optimize.data.registry import (
    MAX_CAPACITY_T,
    MAX_COLUMNS,
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    MAX_KG_PER_UNIT,
    MAX_MUSD,
    MAX_ROW_CHARS,
    MAX_ROWS,
    MAX_TOML_BYTES,
    MAX_UNITS,
    MAX_USD_PER_KG,
    TABLES,
    YEAR_MAX,
    YEAR_MIN,
    Column,
)
from optimize.data.scale import RANGE_LIMIT, SMALLEST_T
from optimize.model import CONSTRAINT_FAMILIES
from optimize.model.finance import objective

DOCS = Path(__file__).resolve().parents[1] / "docs"

FORMULATION_HEAD = """# Formulation

Generated from the rule docstrings in `optimize/model/` by `python -m optimize.docs`; do not
edit by hand. This page is the model's contract: what the code builds, what every solved plan
satisfies (the invariants at the end, which the tests check), and the choices behind it.

## Notation

Index letters: `y` year, `f` facility (`m` mine, `s` separation, `t` metal plant, `l` magnet
line), `e` element, `k` magnet grade, `p` program, `o` provenance (`clean`, `tainted`), `g`
funding program, `b` offer. Money is MUSD (constant US dollars of `currency_year`), quantities
t/yr, prices USD/kg; 1 t x 1 USD/kg = 0.001 MUSD. `DF_y = (1+r)^-(y - start_year)`.

The model is one Pyomo ``ConcreteModel`` (``optimize.model.build_model``). Names in code
follow the design: index sets are Pyomo ``Set``s named by what they hold (``fid_years``,
``conc_arcs``, ``program_years``, ...), variables are named after what they decide (`fid`,
`conc`, `oxide`, `metal`, `make`, `deliver`, `sell_oxide`, `sell_metal`, `sell_magnet`, `buy`,
`short`, `support`, `fund[g,f,y,c]` with `c` in capex/operating, `floor_paid[d,y]`), and
each constraint family is a function and a ``Constraint`` component (``m.<name>``) of the
same name. Columns carry their unit (`capacity_t`, `capex_musd`).

Parameters a scenario may change without a rebuild are mutable ``Param``s: `price[c,i,y]`,
`offer_usd_per_kg[b,y]`, `offer_max_t[b,y]`, `demand_t[p,y]`, `penalty_usd_per_kg[p]`,
`annual_musd[g]`, `total_musd[g]`, `stock_t[kind,name]` (a finite stock's total),
`floor_top_up[d,y]` (a floor less the reference price, if positive) and `budget_scale` (a
frontier's multiplier of every budget).

Derived quantities are Pyomo ``Expression``s, defined once and read by both the rules and the
result tables: `on[f,y]` counts FIDs in operating life;
`cap[f,y] = capacity_f * sum_tau ramp_f(y - tau - lead_f) fid[f,tau]` (existing:
`capacity * available_share` from `online_year`); `capex_out[f,y] = public_share * capex /
lead * building[f,y]`; `throughput[f,y]`; `concentrate_value[m,y] = payability_m * sum_e
share_{m,e} price[oxide,e,y]`; `revenue[f,y]` and `cost[f,y]` at reference prices;
`subsidy`, `penalty` and `tiebreak`, the objective's parts; `passed[s,r,e,o,y]`, the oxide
of each element in a stream between separation plants.

## Modelling choices

- **Balances close (equalities).** The separation, metal and magnet balances and
  `magnet_use` are equalities: no free disposal. With `<=` material could flow into an
  unbuilt plant and be thrown away, moving a loss onto a facility that may be supported;
  the invariants below ask balances to close.
- **Sparse index sets.** A flow variable exists only on arcs allowed by stages and
  `links.csv`, for elements both ends can handle, for provenances that can reach it, and
  in years both ends can operate.
- **Market pools.** Oxide and metal travel through one pool per element and provenance
  (`oxide-pool`, `metal-pool`; `pool_balance`) instead of on an arc from every plant to
  every plant of the next stage. With no arc-specific costs or limits the two are the same
  model (the shipped objectives did not move), and arcs grow with S + T, not S x T. A plant
  listed as `from` in `links.csv` keeps direct arcs; concentrate always goes mine to plant,
  since each mine's assay must stay with its concentrate. `flows.csv` shows the pools as
  nodes.
- **Analysts' decisions.** A scenario's `[[decision]]` entries force a candidate to be
  funded (by a year, or in a year) or forbid it (`project_decisions`), so that `compare` can
  show what a project the optimum leaves out would cost. Without decisions the family has no
  rows.
- **Finite stocks.** A mine's `total_t` (a reserve, a stockpile) and an offer's `total_t`
  bound what it gives over the horizon (`stock_limit`), besides its yearly capacity or
  `max_t`; nothing is valued after the horizon, so a stock left at the end is worth nothing
  to the plan. A stockpile that runs down at a rate the plan does not control is better
  kept as a `life_years`.
- **Committed projects.** A facility past its FID (`status` committed) is like an existing
  one, its capex sunk and outside the plan, but ramps up from its `online_year` by its
  `ramp`.
- **Deals in force** (`deals.csv`) are not the plan's to decide. A floor pays its facility
  the gap between the floor and the reference price on its sales (`floor_payment`); a grant
  pays a fixed sum a year. Both are committed subsidy: a floor's payment is income in
  `operating_support`, both count against the payer's budgets (a frontier scales what is
  left of a budget after its grants), and both are reported apart (`finance.csv`
  `committed_musd`, `funding.csv` rows with `covers` committed, `committed_npv_musd` in
  `summary.json`). The objective minimises the new subsidy only, so a floor lowers what the
  plan must add; among equally cheap plans a tie-break of 1e-4 MUSD per MUSD of floor
  payment (large enough for the solver to see, small enough that the plan gives up at most
  0.0001 MUSD of new subsidy per MUSD saved) takes the least floor payment, so the committed
  figure is the least the plan's flows need, not what a plant's commercial sales outside
  the plan would draw.
- **Competing demand and qualification.** A program's `buyer` (`us-defense`,
  `allied-defense`, `commercial`) says whose it is; all take only clean magnets and compete
  for the same allied output, their penalties setting who comes first (defense above
  commercial). A commercial China-free target is a program in t of magnet (`kg_per_unit`
  1000). A magnet line with `qualification_years` serves defense buyers only that many
  years after its first output (`qualified_delivery`); until then its magnets go to
  commercial programs or the market. `platform` groups programs in the results.
- **Intermediate streams** (`streams.csv`, `stream_split`). A separation plant may pass
  what it does not recover of listed elements (a light circuit's heavy fraction) to another
  separation plant, which separates it with its own recoveries and counts it against its
  feed capacity. The stream variable is indexed by the mine the concentrate came from,
  `stream[m,s,r,y]` (t TREO of `m`'s feed at `s` whose remainder goes on), not by element:
  a mixed concentrate cannot be split element by element, so each element passed is a
  fixed share of it (`share * (1 - recovery) * yield`) and the model stays linear with each
  mine's assay and provenance carried through. Chains (a plant that receives a stream
  passing one on) are rejected at validation: none is sourced, and indexing by mine would
  need the whole path; cycles are then impossible. A stream counts against the receiver's
  capacity by the oxide of the tracked elements only (La, Ce, Y, Gd, ... are not modelled),
  so a receiver's feed capacity is understated as a limit. The receiver pays the sender
  the reference value of the oxide it recovers from the stream: the sender keeps the value
  of the elements it paid the mine for, as when it separated them itself, and the
  receiver's margin on it is nil. Variable cost stays on concentrate feed only: a
  separation plant's cost per kg of feed is for its whole site, heavy circuit included
  (Lynas's and MP's), so per-facility support does not move a loss from one circuit of a
  site to the other. `flows.csv` shows a stream as commodity `heavy-concentrate`, a
  row per element (t oxide), so the material Sankey draws it plant to plant.
- **Mines do not sell concentrate to the market**; concentrate only goes to separation.
- **Demand before `required_from`** is not modelled (it may be met from any source).
- **First fully covered year** (summary.json) is the first year from which every later
  year of the horizon is fully covered; `us_defense_first_full_coverage_year`, the
  headline, is the first from which every US defense program is.
- **Discounting** is to `start_year`; budgets are undiscounted MUSD per year.
- **Who pays, when several programs could.** The objective does not care which eligible
  program pays, so the split would be an arbitrary pick among equally cheap plans. A
  tie-break of 1e-7 MUSD per MUSD paid per rank makes programs that cover fewer countries
  pay first (a host's own program before a multilateral one; ties by the order of
  `funding.csv`). It is left out of the reported objective and moves it by less than the
  MIP gap (`optimize.model.funding.funding_priority`).
"""


def math_block(fn: Callable[..., Any]) -> str | None:
    """Return the ``.. math::`` block of a function's docstring, dedented, or None."""
    doc = inspect.getdoc(fn) or ""
    if ".. math::" not in doc:
        return None
    block = doc.split(".. math::", 1)[1]
    lines = [line[4:] if line.startswith("    ") else line for line in block.splitlines()]
    return "\n".join(lines).strip() or None


def prose(fn: Callable[..., Any]) -> str:
    """Return a docstring without its math block."""
    return (inspect.getdoc(fn) or "").split(".. math::", 1)[0].strip()


FORMULATION_TAIL = """## What every solved plan satisfies

`tests/invariants.py` recomputes each of these from a run folder's tables alone (never from
the model or the solver) and runs on every shipped input and on random tiny instances:

- no candidate funded twice, none before `earliest_fid`, none producing before
  `fid + lead_years`;
- every balance closes within 1e-6 (relative) at every facility, element, provenance and year;
- every delivered magnet traces back, flow by flow, to mines and offers outside covered
  countries;
- no mine or offer with a `total_t` gives more than it over the horizon;
- no defense program gets a line's magnets before the line's qualification years are over;
- budgets and eligibility hold for every funding program and year, deals in force counted;
- a committed facility's capacity follows its ramp from `online_year`; what each floor in
  force pays equals its share of the gap to the reference price times what its facility
  sold, new support covers only the loss left after it, and the committed subsidy in
  `summary.json` is that of `finance.csv`;
- the objective recomputed from `finance.csv`, `deliveries.csv` and `plan.csv` equals the
  reported one;
- more budget never costs more; removing a candidate never costs less; more demand never
  costs less (`tests/test_properties.py`);
- on tiny instances, enumerating every FID combination and solving each LP gives the MIP's
  optimum (`tests/test_bruteforce.py`).

## Outputs

A run folder holds `summary.json` and the tidy tables `plan`, `capacity`, `flows`,
`deliveries`, `finance`, `funding`, `elements`, `budgets` and `marginals` (CSV), all read from
the solved model's variables and Expressions (`optimize/results/`), and `locations` (the
inputs' coordinates, for the report's map); `docs/inputs.md` lists the inputs.
"""


def formulation() -> str:
    """Return the text of docs/formulation.md."""
    parts = [FORMULATION_HEAD, "## Constraint families\n"]
    for i, fn in enumerate((*CONSTRAINT_FAMILIES, objective), start=1):
        title = "Objective" if fn is objective else f"{i}. `{fn.__name__}`"
        parts.append(f"### {title}\n\n{prose(fn)}\n\n```math\n{math_block(fn)}\n```\n")
        parts.append(f"Code: `{fn.__module__}.{fn.__name__}`\n")
    parts.append(FORMULATION_TAIL)
    return "\n".join(parts)


def _bounds(c: Column) -> str:
    lo = "" if c.lower is None else f"{'>' if c.lower_open else '>='} {c.lower:g}"
    hi = "" if c.upper is None else f"<= {c.upper:g}"
    choices = f"one of {', '.join(c.choices)}" if c.choices else ""
    return "; ".join(x for x in (lo, hi, choices) if x)


def _required(c: Column) -> str:
    if c.required:
        return "yes"
    if c.required_when:
        return f"when {c.required_when[0]} = {' or '.join(c.required_values)}"
    if c.default is not None:
        d = c.default
        return f"no (default {';'.join(map(str, d)) if isinstance(d, tuple) else d})"
    return "no"


FILES_NOTE = f"""\
**Files.** Only regular files are read (a folder, a pipe or a device where a file should be is
an error, as is a file that cannot be read), each at most {MAX_FILE_BYTES // 2**20} MB for a
CSV table and {MAX_TOML_BYTES // 2**20} MB for `settings.toml` or a scenario file, in UTF-8
with or without a byte order mark (a byte that is not UTF-8 is an error naming its line). A
table has at most {MAX_COLUMNS} columns and {MAX_ROWS:,} rows, a row at most
{MAX_ROW_CHARS:,} characters and a cell at most {csv.field_size_limit():,}. A quoted cell may
hold a line break only in free text (`source`, `notes`), where it is kept; anywhere else it
is an error, as is a quote that is never closed. A scenario file has at most {MAX_ENTRIES:,}
`[[change]]` and {MAX_ENTRIES:,} `[[decision]]` entries.
""".replace("\n", " ").strip() + "\n"

LIMITS_NOTE = f"""\
**Bounds.** Years are {YEAR_MIN}-{YEAR_MAX} everywhere. Magnitudes are bounded far above any
real figure, where the solver's arithmetic would fail: capacities and offers at
{MAX_CAPACITY_T:g} t/yr (more is almost always kg typed as t), money at {MAX_MUSD:g} MUSD (a
trillion dollars), prices and costs at {MAX_USD_PER_KG:g} USD/kg, demand at {MAX_UNITS:g}
units a year of at most {MAX_KG_PER_UNIT:g} kg each. Valid inputs whose like quantities
(tonnages, USD/kg, MUSD, shares) span more than {RANGE_LIMIT:g} from the smallest nonzero to
the largest, or with a nonzero tonnage below {SMALLEST_T:g} t, get a warning naming the
figure: the solver may not handle them well.
""".replace("\n", " ").strip() + "\n"


def inputs_reference() -> str:
    """Return the text of docs/inputs.md."""
    parts = ["# Input tables\n",
             "Generated from the column registry (`optimize/data/registry.py`) by "
             "`python -m optimize.docs`; do not edit by hand. One folder per scenario holds "
             "`settings.toml` and the CSV files below (UTF-8, a header row, one fact per row). "
             "Rows are counted as a spreadsheet shows them: the header is row 1. Lists are "
             "separated by `;`. A blank optional cell takes the default shown; a blank "
             "required cell, NaN or infinity is an error.\n",
             FILES_NOTE, LIMITS_NOTE]
    for t in TABLES:
        optional = " (optional)" if t.optional else ""
        key = f" Key: {', '.join(t.key)}." if t.key else ""
        rows = " At least one row is needed." if t.needs_rows else ""
        parts.append(f"## `{t.file}`{optional}\n\n{t.description}{key}{rows}\n")
        parts.append("| column | type | unit | required | bounds | meaning |")
        parts.append("|---|---|---|---|---|---|")
        for c in t.columns:
            parts.append(f"| `{c.name}` | {c.kind} | {c.unit} | {_required(c)} | "
                         f"{_bounds(c)} | {c.description} |")
        parts.append("")
    return "\n".join(parts)


def _uncertainty() -> str:
    from optimize.uncertainty.docs import uncertainty_page

    return uncertainty_page()


GENERATED: dict[str, Callable[[], str]] = {
    "formulation.md": formulation,
    "inputs.md": inputs_reference,
    "uncertainty.md": _uncertainty,
}


def main() -> int:
    """Write every generated page into docs/."""
    DOCS.mkdir(exist_ok=True)
    for name, make in GENERATED.items():
        (DOCS / name).write_text(make(), encoding="utf-8")
        print(f"wrote docs/{name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
