"""Recompute every invariant of docs/formulation.md from a run folder's tables and the inputs.

Nothing here reads the built model or the solver: only ``results/<run>/*.csv``,
``summary.json`` and the inputs folder (through the validated ModelData). ``check_run``
returns a list of violations; a correct plan gives an empty list.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pandas as pd

from optimize.data.checks import load
from optimize.data.modeldata import ModelData
from optimize.model.network import METAL_POOL, OXIDE_POOL

POOLS = {OXIDE_POOL: "oxide", METAL_POOL: "metal"}

STREAM = "heavy-concentrate"  # flows.csv: a stream between separation plants (streams.csv)

REL = 1e-6
#: Money rows hold to the solver's feasibility tolerance, which HiGHS applies to its scaled
#: rows: on an operating_support row (0.001 x price per t, summed over many flows) that
#: allows a loss above the support by about 1e-6 MUSD (1 USD). Checked to 10 USD.
MONEY_ABS = 1e-5


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(1.0, abs(a), abs(b))


def at_most(a: float, b: float) -> bool:
    return a <= b + REL * max(1.0, abs(a), abs(b))


def read_run(out: Path) -> dict[str, pd.DataFrame]:
    tables = {name: pd.read_csv(out / f"{name}.csv", keep_default_na=True)
              for name in ("plan", "capacity", "flows", "deliveries", "finance", "funding")}
    return tables


def ramp_share(fac, i: int) -> float:
    if i < 0 or i >= fac.life_years:
        return 0.0
    return fac.ramp[i] if i < len(fac.ramp) else 1.0


class RunChecker:
    def __init__(self, inputs: Path, out: Path) -> None:
        self.data: ModelData = load(inputs)
        self.summary = json.loads((out / "summary.json").read_text())
        self.t = read_run(out)
        self.errors: list[str] = []
        self.offer_names = {b for b, _ in self.data.offers}
        plan = self.t["plan"]
        self.fid = {r.facility: (None if pd.isna(r.fid_year) else int(r.fid_year))
                    for r in plan.itertuples()}
        self.flows = self.t["flows"]
        self.out_by = defaultdict(float)   # (source, commodity, item, prov, year) -> t
        self.in_by = defaultdict(float)    # (target, commodity, item, prov, year) -> t
        self.arc = defaultdict(float)      # (source, target, commodity, item, prov, year)
        for r in self.flows.itertuples():
            self.out_by[(r.source, r.commodity, r.item, r.provenance, r.year)] += r.tonnes
            self.in_by[(r.target, r.commodity, r.item, r.provenance, r.year)] += r.tonnes
            self.arc[(r.source, r.target, r.commodity, r.item, r.provenance, r.year)] += r.tonnes
        cap = self.t["capacity"]
        self.available = {(r.facility, r.year): r.available_t for r in cap.itertuples()}
        self.used = {(r.facility, r.year): r.used_t for r in cap.itertuples()}

    def fail(self, msg: str) -> None:
        self.errors.append(msg)

    def run(self) -> list[str]:
        self.check_investments()
        self.check_capacity()
        self.check_flows_structure()
        self.check_pools()
        self.check_streams()
        self.check_balances()
        self.check_demand_and_offers()
        self.check_finance()
        self.check_funding()
        self.check_objective()
        return self.errors

    # -- investments: once, not before earliest_fid, no output before fid + lead ------------
    def available_t(self, f: str, y: int) -> float:
        fac = self.data.facilities[f]
        if not fac.candidate:
            in_service = fac.online_year <= y < fac.online_year + fac.life_years
            ramp = ramp_share(fac, y - fac.online_year) if fac.status == "committed" else 1.0
            return fac.capacity_t * fac.available_share * ramp if in_service else 0.0
        fid = self.fid[f]
        if fid is None:
            return 0.0
        return fac.capacity_t * ramp_share(fac, y - fid - fac.lead_years)

    def check_investments(self) -> None:
        plan = self.t["plan"]
        if plan.facility.duplicated().any():
            self.fail("a facility appears twice in plan.csv")
        for f, fac in self.data.facilities.items():
            fid = self.fid.get(f)
            if not fac.candidate:
                if fid is not None:
                    self.fail(f"existing facility {f} has a FID")
                continue
            if fid is not None and fid < fac.earliest_fid:
                self.fail(f"{f} funded in {fid}, before earliest_fid {fac.earliest_fid}")
            if fid is not None and fid > self.data.end_year:
                self.fail(f"{f} funded after the horizon")
        for d in self.data.decisions:
            fid = self.fid.get(d.facility)
            kept = {"never": fid is None, "fid_year": fid == d.year,
                    "fund_by": fid is not None and d.year is not None and fid <= d.year}[d.kind]
            if not kept:
                self.fail(f"decision '{d}' broken: {d.facility} has FID {fid}")

    def check_capacity(self) -> None:
        for (f, y), avail in self.available.items():
            if not close(avail, self.available_t(f, y)):
                self.fail(f"{f} {y}: available_t {avail} != recomputed {self.available_t(f, y)}")
            if not at_most(self.used[(f, y)], self.available_t(f, y)):
                self.fail(f"{f} {y}: used {self.used[(f, y)]} above capacity "
                          f"{self.available_t(f, y)} (producing before fid + lead?)")
        for f in self.data.facilities:
            for y in self.data.years:
                if (f, y) not in self.available and self.available_t(f, y) > 1e-6:
                    self.fail(f"{f} {y}: capacity {self.available_t(f, y)} missing from "
                              "capacity.csv")

    # -- provenance: every clean flow leaves a facility outside covered countries ----------
    def check_flows_structure(self) -> None:
        data = self.data
        for r in self.flows.itertuples():
            if r.tonnes < 0:
                self.fail(f"negative flow {r}")
            for node in (r.source, r.target):
                if node in POOLS and POOLS[node] != r.commodity:
                    self.fail(f"{r.commodity} through the {node}")
            if r.source in POOLS:
                pass
            elif r.source in data.facilities:
                fac = data.facilities[r.source]
                if r.provenance == "clean" and fac.covered:
                    self.fail(f"clean {r.commodity} leaves {r.source} in covered {fac.country}")
                if self.available_t(r.source, r.year) <= 0:
                    self.fail(f"{r.source} ships in {r.year} without capacity")
            else:
                offer = data.offers.get((r.source, r.year))
                if offer is None:
                    self.fail(f"flow from unknown source {r.source} in {r.year}")
                elif (offer.commodity, offer.item, offer.provenance) != (r.commodity, r.item,
                                                                         r.provenance):
                    self.fail(f"purchase {r} does not match its offer")
            if r.target in data.programs:
                prog = data.programs[r.target]
                if r.provenance != "clean" or r.item != prog.grade:
                    self.fail(f"program {r.target} receives {r.provenance} {r.item}")
                if prog.grade not in data.line_grades.get(r.source, ()):
                    self.fail(f"{r.source} cannot make {prog.grade}")
            elif r.target not in ("market", *POOLS) and self.available_t(r.target, r.year) <= 0:
                self.fail(f"{r.target} receives in {r.year} without capacity")
            if r.commodity == "concentrate":
                mine = data.facilities[r.source]
                expected = "tainted" if mine.covered else "clean"
                if r.provenance != expected:
                    self.fail(f"concentrate of {r.source} marked {r.provenance}")
            links = data.links.get(r.source)
            if links is not None and r.target not in links and r.commodity != STREAM:
                self.fail(f"{r.source} ships to {r.target}, not in links.csv")

    def check_pools(self) -> None:
        """What enters a pool leaves it, per commodity, element, provenance and year."""
        keys = {(n, c, e, p, y) for (n, c, e, p, y) in [*self.in_by, *self.out_by] if n in POOLS}
        for key in keys:
            if not close(self.in_by[key], self.out_by[key]):
                self.fail(f"pool_balance {key}: in {self.in_by[key]} != out {self.out_by[key]}")

    def fed(self, s: str, e: str, p: str, y: int) -> float:
        """Oxide of ``e`` (t) in the concentrate fed to ``s`` whose mine has provenance ``p``."""
        return sum(self.data.assays.get((src, e), 0.0) * t
                   for (src, tgt, c, _, pp, yy), t in self.arc.items()
                   if tgt == s and c == "concentrate" and yy == y and pp == p)

    def check_streams(self) -> None:
        """stream_split: a plant passes on at most what it did not recover, only where listed.

        Per plant, element, year and provenance as it leaves (tainted from a covered plant),
        the streams' oxide divided by their yields is at most the unrecovered oxide of the
        concentrate fed; a plant that receives a stream passes none on.
        """
        data = self.data
        sent = defaultdict(float)  # (s, e, o, y) -> t / yield
        for (src, tgt, c, e, o, y), t in self.arc.items():
            if c != STREAM:
                continue
            yld = data.streams.get((src, tgt), {}).get(e)
            if yld is None:
                self.fail(f"stream {src} -> {tgt} of {e} in {y} not in streams.csv")
                continue
            if self.in_by[(src, STREAM, e, "clean", y)] + self.in_by[(src, STREAM, e,
                                                                     "tainted", y)] > 0:
                self.fail(f"{src} receives a stream and passes one on in {y}")
            sent[(src, e, o, y)] += t / yld
        for (s, e, o, y), t in sent.items():
            covered = data.facilities[s].covered
            provs = [p for p in ("clean", "tainted") if (o == "tainted" if covered else p == o)]
            left = data.unrecovered(s, e) * sum(self.fed(s, e, p, y) for p in provs)
            if not at_most(t, left):
                self.fail(f"stream_split {s} {e} {o} {y}: passes {t} (over yields), more than "
                          f"the {left} t it did not recover")

    def mapped_in(self, f: str, commodity: str, e: str, o: str, y: int) -> float:
        """Input of ``commodity`` ``e`` into ``f`` whose provenance maps to output ``o``."""
        covered = self.data.facilities[f].covered
        if covered:
            provs: tuple[str, ...] = ("clean", "tainted") if o == "tainted" else ()
        else:
            provs = (o,)
        return sum(self.in_by[(f, commodity, e, p, y)] for p in provs)

    def check_balances(self) -> None:
        data = self.data
        for y in data.years:
            for f, fac in data.facilities.items():
                out_conc = sum(v for (s, c, _, _, yy), v in self.out_by.items()
                               if s == f and c == "concentrate" and yy == y)
                in_conc = sum(v for (t, c, _, _, yy), v in self.in_by.items()
                              if t == f and c == "concentrate" and yy == y)
                used = self.used.get((f, y), 0.0)
                if fac.stage == "mine" and not close(out_conc, used):
                    self.fail(f"{f} {y}: used {used} != concentrate shipped {out_conc}")
                if fac.stage == "separation":
                    in_conc += sum(self.in_by[(f, STREAM, e, o, y)] for e in data.elements
                                   for o in ("clean", "tainted"))
                    if not close(in_conc, used):
                        self.fail(f"{f} {y}: used {used} != concentrate and streams fed "
                                  f"{in_conc}")
                    self.separation(f, y)
                if fac.stage == "metal":
                    out_metal = sum(v for (s, c, _, _, yy), v in self.out_by.items()
                                    if s == f and c == "metal" and yy == y)
                    if not close(out_metal, used):
                        self.fail(f"{f} {y}: used {used} != metal out {out_metal}")
                    self.metal(f, y)
                if fac.stage == "magnet":
                    self.magnet(f, y, used)

    def separation(self, s: str, y: int) -> None:
        data = self.data
        for e in data.elements:
            for o in ("clean", "tainted"):
                out = self.out_by[(s, "oxide", e, o, y)]
                rec = data.recoveries.get((s, e))
                if rec is None:
                    if out > 0:
                        self.fail(f"{s} puts out {e} it cannot separate")
                    continue
                fed = 0.0
                for (src, tgt, c, _, p, yy), t in self.arc.items():
                    if tgt == s and c == "concentrate" and yy == y:
                        ok = (p == o) if not data.facilities[s].covered else o == "tainted"
                        if ok:
                            fed += data.assays.get((src, e), 0.0) * t
                fed += self.mapped_in(s, STREAM, e, o, y)
                if not close(out, rec * fed):
                    self.fail(f"separation_balance {s} {e} {o} {y}: {out} != {rec * fed}")

    def metal(self, t: str, y: int) -> None:
        data = self.data
        for e in data.elements:
            for o in ("clean", "tainted"):
                out = self.out_by[(t, "metal", e, o, y)]
                rec = data.recoveries.get((t, e), 0.0)
                made = rec * data.metal_per_oxide[e] * self.mapped_in(t, "oxide", e, o, y)
                if not close(out, made):
                    self.fail(f"metal_balance {t} {e} {o} {y}: {out} != {made}")

    def magnet(self, ln: str, y: int, used: float) -> None:
        data = self.data
        fac = data.facilities[ln]
        total_out = 0.0
        for o in ("clean", "tainted"):
            made = defaultdict(float)  # grade -> t leaving the line
            for (src, _tgt, c, k, p, yy), t in self.arc.items():
                if src == ln and c == "magnet" and p == o and yy == y:
                    made[k] += t
                    total_out += t
            for k in made:
                if k not in data.line_grades.get(ln, ()):
                    self.fail(f"{ln} makes grade {k} it cannot make")
            for e in data.elements:
                need = sum(data.grades[k].get(e, 0.0) * t for k, t in made.items())
                have = fac.yield_ * self.mapped_in(ln, "metal", e, o, y)
                if not close(need, have):
                    self.fail(f"magnet_balance {ln} {e} {o} {y}: {need} != {have}")
        if not close(total_out, used):
            self.fail(f"magnet_use {ln} {y}: {total_out} out != {used} made")

    # -- demand and offers ---------------------------------------------------------------
    def check_demand_and_offers(self) -> None:
        data = self.data
        d = self.t["deliveries"]
        for r in d.itertuples():
            if not close(r.demand_t, data.demand_t(r.program, r.year)):
                self.fail(f"{r.program} {r.year}: demand_t {r.demand_t} wrong")
            got = sum(v for (s, tg, c, k, p, yy), v in self.arc.items()
                      if tg == r.program and yy == r.year)
            if not close(got, r.delivered_t):
                self.fail(f"{r.program} {r.year}: delivered {r.delivered_t} != flows {got}")
            if not close(r.delivered_t + r.shortfall_t, r.demand_t) or r.shortfall_t < -1e-9:
                self.fail(f"demand_met {r.program} {r.year}: {r.delivered_t} + {r.shortfall_t}"
                          f" != {r.demand_t}")
        for (b, y), offer in data.offers.items():
            bought = sum(v for (s, *_rest, yy), v in self.out_by.items() if s == b and yy == y)
            if not at_most(bought, offer.max_t):
                self.fail(f"offer_limit {b} {y}: {bought} > {offer.max_t}")
        self.check_stocks()
        self.check_qualification()

    def check_qualification(self) -> None:
        """qualified_delivery: no defense program gets a line's magnets before it qualifies."""
        for r in self.flows[self.flows.commodity == "magnet"].itertuples():
            prog = self.data.programs.get(r.target)
            if prog is None or prog.buyer == "commercial" or r.tonnes <= 1e-9:
                continue
            fac = self.data.facilities[r.source]
            first = fac.online_year if not fac.candidate else (
                None if self.fid[r.source] is None else self.fid[r.source] + fac.lead_years)
            if first is None or r.year < first + fac.qualification_years:
                self.fail(f"qualified_delivery {r.source} -> {r.target} {r.year}: "
                          f"{r.tonnes} t before qualification")

    def check_stocks(self) -> None:
        """stock_limit: a mine or offer with total_t gives at most that over the horizon."""
        for (kind, name), total in self.data.stocks.items():
            commodity = "concentrate" if kind == "mine" else None
            drawn = sum(v for (s, c, *_rest), v in self.out_by.items()
                        if s == name and (commodity is None or c == commodity))
            if not at_most(drawn, total):
                self.fail(f"stock_limit {kind} {name}: {drawn} t over the horizon > {total}")

    # -- money ---------------------------------------------------------------------------
    def price(self, commodity: str, item: str, y: int) -> float:
        return self.data.prices[(commodity, item, y)]

    def concentrate_value(self, mine: str, y: int) -> float:
        data = self.data
        value = sum(share * self.price("oxide", e, y) for (f, e), share in data.assays.items()
                    if f == mine)
        return data.facilities[mine].payability * value

    def revenue_cost(self, f: str, y: int) -> tuple[float, float]:
        """Recompute revenue and cost (MUSD) of ``f`` in ``y`` from the flows."""
        data = self.data
        fac = data.facilities[f]
        rev = cost = 0.0
        for (src, tgt, c, item, _p, yy), t in self.arc.items():
            if yy != y:
                continue
            if c == STREAM:  # paid at the oxide value the receiver recovers from it
                value = self.price("oxide", item, y) * data.recoveries[(tgt, item)] * t
                rev += value if src == f else 0.0
                cost += value if tgt == f else 0.0
                continue
            if src == f:
                if c == "concentrate":
                    rev += self.concentrate_value(f, y) * t
                elif c == "magnet":
                    rev += self.price("magnet", item, y) * t
                else:
                    rev += self.price(c, item, y) * t
            if tgt == f:
                if src in self.offer_names:
                    cost += data.offers[(src, y)].usd_per_kg * t
                elif c == "concentrate":
                    cost += self.concentrate_value(src, y) * t
                else:
                    cost += self.price(c, item, y) * t
        streamed = sum(self.in_by[(f, STREAM, e, o, y)] for e in data.elements
                       for o in ("clean", "tainted"))  # variable cost on concentrate only
        cost += fac.variable_usd_per_kg * (self.used.get((f, y), 0.0) - streamed)
        rev, cost = rev * 1e-3, cost * 1e-3
        fid = self.fid.get(f)
        if fac.candidate and fid is not None and 0 <= y - fid - fac.lead_years < fac.life_years:
            cost += fac.fixed_om_musd
        return rev, cost

    def capex_outlay(self, f: str, y: int) -> float:
        fac = self.data.facilities[f]
        fid = self.fid.get(f)
        if not fac.candidate or fid is None or not fid <= y < fid + fac.lead_years:
            return 0.0
        return fac.public_share * fac.capex_musd / fac.lead_years

    def floor_paid(self, f: str, y: int) -> dict[str, float]:
        """Recompute what each floor in force pays ``f`` in ``y`` (MUSD), from the flows.

        floor_payment: share x max(0, floor - price) x what f sells of the item, every
        provenance and destination (the next stage, a pool, the market, programs).
        """
        out = {}
        for d in self.data.deals:
            if d.kind != "floor" or d.facility != f or not d.pays_in(y):
                continue
            sold = sum(t for (src, _tgt, c, item, _p, yy), t in self.arc.items()
                       if src == f and yy == y and c == d.commodity and item == d.item)
            top_up = max(0.0, d.usd_per_kg - self.price(d.commodity, d.item, y))
            out[d.name] = 1e-3 * d.share * top_up * sold
        return out

    def check_finance(self) -> None:
        data = self.data
        fin = {(r.facility, r.year): r for r in self.t["finance"].itertuples()}
        for f in data.facilities:
            for y in data.years:
                rev, cost = self.revenue_cost(f, y)
                capex = self.capex_outlay(f, y)
                floors = sum(self.floor_paid(f, y).values())
                committed = floors + data.grants_musd(facility=f, year=y)
                row = fin.get((f, y))
                got = (row.revenue_musd, row.cost_musd, row.capex_outlay_musd,
                       row.support_musd, row.committed_musd) if row is not None \
                    else (0.0, 0.0, 0.0, 0.0, 0.0)
                if not (close(got[0], rev) and close(got[1], cost) and close(got[2], capex)):
                    self.fail(f"finance {f} {y}: (revenue, cost, capex) {got[:3]} != "
                              f"recomputed {(rev, cost, capex)}")
                if not close(got[4], committed):
                    self.fail(f"finance {f} {y}: committed_musd {got[4]} != deals in force "
                              f"{committed}")
                support = got[3]
                loss = cost - rev - floors
                if support < -MONEY_ABS or not (at_most(loss, support)
                                           or loss <= support + MONEY_ABS):
                    self.fail(f"operating_support {f} {y}: support {support} < loss {loss} "
                              "(after floors in force)")

    def check_funding(self) -> None:
        data = self.data
        fund = self.t["funding"]
        fin = {(r.facility, r.year): r for r in self.t["finance"].itertuples()}
        if data.funding is None:
            if (fund.covers != "committed").any():
                self.fail("funding.csv has rows of new money but no funding programs were given")
            committed = fund.groupby(["facility", "year"]).musd.sum()
            for (f, y), row in fin.items():
                if not close(row.committed_musd, float(committed.get((f, y), 0.0))):
                    self.fail(f"{f} {y}: committed_musd {row.committed_musd} != funding.csv's")
            return
        paid = defaultdict(float)
        payers = {(d.program, d.facility) for d in data.deals}
        for r in fund.itertuples():
            g = data.funding.get(r.program)
            if r.covers == "committed":  # deals in force: their payer, not eligibility
                if (r.program, r.facility) not in payers:
                    self.fail(f"{r.program} pays {r.facility} under no deal in force")
            elif g is None or not g.eligible(data.facilities[r.facility], r.year, r.covers):
                self.fail(f"{r.program} pays {r.covers} of {r.facility} in {r.year}: not eligible")
            paid[(r.facility, r.year, r.covers)] += r.musd
        for (f, y), row in fin.items():
            if not close(row.capex_outlay_musd, paid[(f, y, "capex")]):
                self.fail(f"funding_balance {f} {y} capex: {row.capex_outlay_musd} != "
                          f"{paid[(f, y, 'capex')]}")
            if not close(row.support_musd, paid[(f, y, "operating")]):
                self.fail(f"funding_balance {f} {y} operating: {row.support_musd} != "
                          f"{paid[(f, y, 'operating')]}")
            if not close(row.committed_musd, paid[(f, y, "committed")]):
                self.fail(f"{f} {y}: committed_musd {row.committed_musd} != funding.csv's "
                          f"committed {paid[(f, y, 'committed')]}")
        for g, prog in data.funding.items():
            mine = fund[fund.program == g]
            for y, total in mine.groupby("year").musd.sum().items():
                if not at_most(total, prog.annual_musd):
                    self.fail(f"annual_budget {g} {y}: {total} > {prog.annual_musd}")
            if prog.total_musd is not None and not at_most(mine.musd.sum(), prog.total_musd):
                self.fail(f"total_budget {g}: {mine.musd.sum()} > {prog.total_musd}")

    def check_objective(self) -> None:
        data = self.data
        fin = self.t["finance"]
        subsidy = sum(data.discount(r.year) * (r.capex_outlay_musd + r.support_musd)
                      for r in fin.itertuples())
        end = data.end_year
        for f, fid in self.fid.items():
            fac = data.facilities[f]
            if fid is None:
                continue
            paid = min(fac.lead_years, end - fid + 1) / fac.lead_years
            after = min(fac.life_years, max(0, fid + fac.lead_years + fac.life_years - 1 - end))
            subsidy -= data.discount(end) * fac.public_share * fac.capex_musd * paid * after \
                / fac.life_years
        penalty = sum(data.discount(r.year) * 1e-3 * data.programs[r.program].penalty_usd_per_kg
                      * r.shortfall_t for r in self.t["deliveries"].itertuples())
        s = self.summary
        if not close(subsidy, s["subsidy_npv_musd"]):
            self.fail(f"subsidy NPV {s['subsidy_npv_musd']} != recomputed {subsidy}")
        if not close(penalty, s["penalty_npv_musd"]):
            self.fail(f"penalty NPV {s['penalty_npv_musd']} != recomputed {penalty}")
        if not close(subsidy + penalty, s["objective_musd"]):
            self.fail(f"objective {s['objective_musd']} != recomputed {subsidy + penalty}")
        if data.deals:  # committed subsidy: reported apart, not in the objective
            committed = sum(data.discount(r.year) * r.committed_musd for r in fin.itertuples())
            if not close(committed, s["committed_npv_musd"]):
                self.fail(f"committed NPV {s['committed_npv_musd']} != recomputed {committed}")


def check_run(inputs: Path, out: Path) -> list[str]:
    """Return every violation of the invariants (docs/formulation.md) in the run folder ``out``."""
    return RunChecker(Path(inputs), Path(out)).run()
