"""Tiny instances whose optimum is derived by hand in the comments (see instances.single_chain).

Units: 1 t short costs 1000 USD/kg x 1000 kg = 1 MUSD; discount rate 0. Salvage of a FID in
year tau: capex * paid * after / life with paid = min(lead, end - tau + 1) / lead and
after = min(life, max(0, tau + lead + life - 1 - end)).
"""

from __future__ import annotations

import pandas as pd
import pytest
from instances import single_chain

from optimize.solve import Status


def funded(result):
    plan = result.tables["plan"]
    return {r.facility: int(r.fid_year) for r in plan.itertuples() if pd.notna(r.fid_year)}


def test_single_chain(solve_checked):
    # Horizon 2030-2032, demand 10 t/yr. FID 2030 -> output 2031, 2032; 2030 is short 10 t.
    #   cost = capex 3 + penalty 10 - salvage 3 * 1 * min(10, 2030+1+10-1-2032 = 8) / 10 = 2.4
    #        = 10.6
    # FID 2031: 3 + 20 - 3 * 9/10 = 20.3; no FID: 30. Optimum 10.6 with FID 2030.
    r = solve_checked(single_chain())
    assert r.status is Status.OPTIMAL
    assert funded(r) == {"line": 2030}
    assert r.summary["objective_musd"] == pytest.approx(10.6, abs=1e-6)
    assert r.summary["shortfall_t"] == {"prog": pytest.approx(10.0)}
    assert r.summary["first_full_coverage_year"] == {"prog": 2031}


def test_lead_time_makes_early_demand_unmeetable(solve_checked):
    # Horizon 2030-2033, lead 2: the earliest output is 2032, so 2030 and 2031 are short
    # (20 t = 20 MUSD) whatever is funded, and the plan is still optimal.
    #   FID 2030: capex 3 + 20 - salvage 3 * 1 * (2030+2+10-1-2033 = 8) / 10 = 2.4 -> 20.6
    #   no FID: 40; FID 2031: 3 + 30 - 3 * 9/10 = 30.3.
    inst = single_chain(range(2030, 2034))
    inst.row("facilities", facility="line")["lead_years"] = 2
    r = solve_checked(inst)
    assert r.status is Status.OPTIMAL
    assert funded(r) == {"line": 2030}
    assert r.summary["objective_musd"] == pytest.approx(20.6, abs=1e-6)
    d = r.tables["deliveries"].set_index("year")
    assert d.shortfall_t.loc[2030] == pytest.approx(10) and d.shortfall_t.loc[2031] == \
        pytest.approx(10)
    assert d.shortfall_t.loc[2032] == pytest.approx(0) and d.shortfall_t.loc[2033] == \
        pytest.approx(0)


def test_covered_country_separation_cannot_reach_defense(solve_checked):
    # The only separation plant is in China: everything it puts out is tainted, so the
    # program gets nothing whatever is built. Optimum: fund nothing, 3 years x 10 MUSD = 30.
    inst = single_chain()
    inst.row("facilities", facility="sep")["country"] = "CN"
    r = solve_checked(inst)
    assert funded(r) == {}
    assert r.summary["objective_musd"] == pytest.approx(30.0, abs=1e-6)
    assert r.tables["deliveries"].delivered_t.sum() == 0
    # An allied candidate separation plant (capex 1, lead 1) restores the chain:
    # line FID 2030 and plant FID 2030 -> output 2031, 2032: 3 + 1 - (2.4 + 0.8) + 10 = 10.8.
    inst.tables["facilities"].append(dict(
        facility="sep-allied", stage="separation", country="CA", status="candidate",
        capacity_t=1000, earliest_fid=2030, lead_years=1, ramp="1", capex_musd=1,
        public_share=1, life_years=10, fixed_om_musd=0, variable_usd_per_kg=0, source="test"))
    inst.tables["recoveries"].append(dict(facility="sep-allied", element="Nd", recovery=1.0))
    r = solve_checked(inst)
    assert funded(r) == {"line": 2030, "sep-allied": 2030}
    assert r.summary["objective_musd"] == pytest.approx(10.8, abs=1e-6)
    flows = r.tables["flows"]
    assert set(flows[flows.source == "sep"].provenance) <= {"tainted"}


def _two_lines(annual_budget: float | None):
    # Horizon 2030-2033. Line B: lead 1, capex 5 -> FID 2030: short 2030 only:
    #   5 + 10 - 5 * 1 * (2030+1+10-1-2033 = 7) / 10 = 11.5.
    # Line A: lead 2, capex 4 (2 a year) -> FID 2030: short 2030, 2031:
    #   4 + 20 - 4 * 1 * 8 / 10 = 20.8.
    # Unlimited money: B (11.5). With a budget of 4 MUSD a year B cannot be paid (5 in 2030),
    # A can (2 a year): A (20.8).
    inst = single_chain(range(2030, 2034))
    a = inst.row("facilities", facility="line")
    a.update(facility="line-A", lead_years=2, capex_musd=4)
    b = dict(a, facility="line-B", lead_years=1, capex_musd=5)
    inst.tables["facilities"].append(b)
    inst.tables["line_grades"] = [dict(facility="line-A", grade="G"),
                                  dict(facility="line-B", grade="G")]
    if annual_budget is not None:
        inst.tables["funding"] = [dict(program="fund", countries="US",
                                       stages="mine;separation;metal;magnet", covers="both",
                                       first_year=2030, last_year=2033,
                                       annual_musd=annual_budget, source="test")]
    return inst


def test_budget_forces_the_cheaper_project(solve_checked):
    r = solve_checked(_two_lines(None))
    assert funded(r) == {"line-B": 2030}
    assert r.summary["objective_musd"] == pytest.approx(11.5, abs=1e-6)
    r = solve_checked(_two_lines(4.0))
    assert funded(r) == {"line-A": 2030}
    assert r.summary["objective_musd"] == pytest.approx(20.8, abs=1e-6)
    assert r.summary["paid_by_funding_program_musd"] == {"fund": pytest.approx(4.0)}


def test_phase_two_requires_phase_one(solve_checked):
    # Horizon 2030-2031; both phases lead 1, so only 2031 can be served (2030: 10 MUSD short).
    # P1: 5 t, capex 1; P2: 10 t, capex 2; salvage of a 2030 FID is 9/10 of capex.
    #   P2 alone (if allowed): 2 - 1.8 + 10 = 10.2.   P1 alone: 1 - 0.9 + 5 + 10 = 15.1.
    #   Both: 3 - 2.7 + 10 = 10.3 -> the optimum once P2 requires P1.
    inst = single_chain(range(2030, 2032))
    p1 = inst.row("facilities", facility="line")
    p1.update(facility="P1", capacity_t=5, capex_musd=1)
    inst.tables["facilities"].append(dict(p1, facility="P2", capacity_t=10, capex_musd=2))
    inst.tables["line_grades"] = [dict(facility="P1", grade="G"), dict(facility="P2", grade="G")]
    free = solve_checked(inst)
    assert funded(free) == {"P2": 2030}
    assert free.summary["objective_musd"] == pytest.approx(10.2, abs=1e-6)
    inst.row("facilities", facility="P2")["requires"] = "P1"
    r = solve_checked(inst)
    assert funded(r) == {"P1": 2030, "P2": 2030}
    assert r.summary["objective_musd"] == pytest.approx(10.3, abs=1e-6)


def test_profitable_facility_needs_no_support(solve_checked):
    # As the single chain, but magnets sell for 50 USD/kg: the line earns 10 t x 50 = 0.5 MUSD
    # a year at no cost. It keeps that profit: support is 0 and the objective is unchanged
    # (10.6), not lowered by the profit.
    inst = single_chain()
    inst.row("prices", commodity="magnet")["usd_per_kg"] = 50
    r = solve_checked(inst)
    assert r.summary["objective_musd"] == pytest.approx(10.6, abs=1e-6)
    fin = r.tables["finance"]
    line = fin[fin.facility == "line"].set_index("year")
    assert line.revenue_musd.loc[2031] == pytest.approx(0.5)
    assert line.support_musd.sum() == 0


def test_loss_making_facility_is_supported(solve_checked):
    # The line now costs 100 USD/kg of magnet to run and sells at 0: 10 t x 100 = 1 MUSD a
    # year of support for 2031 and 2032, still cheaper than the 10 MUSD penalty:
    #   10.6 + 2 = 12.6.
    inst = single_chain()
    inst.row("facilities", facility="line")["variable_usd_per_kg"] = 100
    r = solve_checked(inst)
    assert r.summary["objective_musd"] == pytest.approx(12.6, abs=1e-6)
    fin = r.tables["finance"]
    assert fin[fin.facility == "line"].support_musd.sum() == pytest.approx(2.0)


def test_max_coverage_covers_first_then_saves(solve_checked):
    # A penalty so small that min_subsidy builds nothing (1 USD/kg: 0.01 MUSD a year short
    # against 3 MUSD of capex): 0.03. max_coverage first minimises the shortfall (build in
    # 2030, 10 t short), then the subsidy: objective 0.6 + 0.01 = 0.61.
    inst = single_chain()
    inst.row("programs", program="prog")["penalty_usd_per_kg"] = 1
    r = solve_checked(inst)
    assert funded(r) == {}
    assert r.summary["objective_musd"] == pytest.approx(0.03, abs=1e-9)
    r = solve_checked(inst, mode="max_coverage")
    assert funded(r) == {"line": 2030}
    assert r.summary["shortfall_t"]["prog"] == pytest.approx(10.0)
    assert r.summary["subsidy_npv_musd"] == pytest.approx(0.6, abs=1e-6)


def test_existing_facility_with_a_life_stops(solve_checked):
    # The mine is a stockpile online since 2029 with a 2-year life: it supplies 2030 only.
    # The line (FID 2030) could serve 2031 and 2032, but there is no concentrate left, so
    # building it gains nothing: fund nothing, 3 years short = 30.
    inst = single_chain()
    inst.row("facilities", facility="mine").update(online_year=2029, life_years=2)
    r = solve_checked(inst)
    assert funded(r) == {}
    assert r.summary["objective_musd"] == pytest.approx(30.0, abs=1e-6)
    cap = r.tables["capacity"]
    assert set(cap[cap.facility == "mine"].year) == {2030}


def test_a_finite_mine_stock_moves_the_fid(solve_checked):
    # As the single chain (10 t/yr of magnets at 0.25 kg Nd a kg: 2.5 t of Nd a year), but
    # the mine holds only 2.5 t TREO (all Nd) over the horizon: one year's worth.
    #   FID 2030 (output 2031, 2032): capex 3 + short 2030 (10) + short one more year (10)
    #     - salvage 2.4 = 20.6;
    #   FID 2031 (output 2032): 3 + 20 - 3 * 9/10 = 20.3;  no FID: 30.
    # Optimum 20.3, FID 2031: with one year of stock, building later saves salvage.
    inst = single_chain()
    inst.row("facilities", facility="mine")["total_t"] = 2.5
    r = solve_checked(inst)
    assert funded(r) == {"line": 2031}
    assert r.summary["objective_musd"] == pytest.approx(20.3, abs=1e-6)
    flows = r.tables["flows"]
    assert flows[flows.source == "mine"].tonnes.sum() == pytest.approx(2.5)
    # 3.75 t: one and a half years. FID 2030: 3 + 10 + 5 (1.25 t Nd = 5 t of magnets short)
    #   - 2.4 = 15.6; FID 2031 is still 20.3: FID 2030 at 15.6.
    inst.row("facilities", facility="mine")["total_t"] = 3.75
    r = solve_checked(inst)
    assert funded(r) == {"line": 2030}
    assert r.summary["objective_musd"] == pytest.approx(15.6, abs=1e-6)
    # 5 t (two years) or more: the stock does not bind, the single chain's 10.6.
    inst.row("facilities", facility="mine")["total_t"] = 5
    assert solve_checked(inst).summary["objective_musd"] == pytest.approx(10.6, abs=1e-6)


def test_a_finite_offer_is_shared_between_years(solve_checked):
    # The mine has no capacity; Nd oxide comes from an offer at 0 USD/kg, up to 10 t a year
    # but 2.5 t over the horizon in all (offer total_t): the same arithmetic as the finite
    # mine, optimum 20.3 with FID 2031, and 2.5 t bought in 2032 only.
    inst = single_chain()
    inst.row("facilities", facility="mine")["capacity_t"] = 0
    inst.tables["offers"] = [dict(offer="stock", year=y, commodity="oxide", item="Nd",
                                  provenance="clean", max_t=10, usd_per_kg=0, total_t=2.5,
                                  source="test") for y in range(2030, 2033)]
    r = solve_checked(inst)
    assert funded(r) == {"line": 2031}
    assert r.summary["objective_musd"] == pytest.approx(20.3, abs=1e-6)
    flows = r.tables["flows"]
    bought = flows[flows.source == "stock"]
    assert bought.tonnes.sum() == pytest.approx(2.5) and set(bought.year) == {2032}


def _floor(usd_per_kg: float, **extra):
    return dict(deal="floor", kind="floor", program="fund", facility="line",
                commodity="magnet", item="G", usd_per_kg=usd_per_kg, first_year=2030,
                last_year=2032, source="test", **extra)


def test_a_floor_in_force_cuts_the_new_support(solve_checked):
    # As test_loss_making_facility_is_supported: the line loses 100 USD/kg x 10 t = 1 MUSD a
    # year in 2031 and 2032 (magnets sell at 0). A floor in force of 60 USD/kg on its
    # magnets pays 10 t x 60 = 0.6 MUSD a year (committed), so new support is 0.4 a year:
    #   objective 10.6 + 2 x 0.4 = 11.4; committed 1.2 (reported apart, not minimised).
    inst = single_chain()
    inst.row("facilities", facility="line")["variable_usd_per_kg"] = 100
    inst.tables["deals"] = [_floor(60)]
    r = solve_checked(inst)
    assert funded(r) == {"line": 2030}
    assert r.summary["objective_musd"] == pytest.approx(11.4, abs=1e-6)
    assert r.summary["committed_npv_musd"] == pytest.approx(1.2, abs=1e-6)
    assert r.summary["committed_by_funding_program_musd"] == {"fund": pytest.approx(1.2)}
    fin = r.tables["finance"].set_index(["facility", "year"])
    assert fin.loc[("line", 2031), "support_musd"] == pytest.approx(0.4)
    assert fin.loc[("line", 2031), "committed_musd"] == pytest.approx(0.6)
    # A floor of 150 pays 1.5 a year, more than the loss: no new support (10.6), committed
    # 3.0, and no more magnets are made than the program takes (the least floor payment).
    inst.tables["deals"] = [_floor(150)]
    r = solve_checked(inst)
    assert r.summary["objective_musd"] == pytest.approx(10.6, abs=1e-6)
    assert r.summary["committed_npv_musd"] == pytest.approx(3.0, abs=1e-6)
    # On half the sales (share 0.5): 0.75 a year, support 0.25 a year -> 11.1.
    inst.tables["deals"] = [_floor(150, share=0.5)]
    r = solve_checked(inst)
    assert r.summary["objective_musd"] == pytest.approx(11.1, abs=1e-6)
    assert r.summary["committed_npv_musd"] == pytest.approx(1.5, abs=1e-6)


def test_grants_in_force_count_against_the_budget(solve_checked):
    # _two_lines with 4 MUSD a year: line-A (2 MUSD a year of capex) is built, 20.8. A grant
    # in force of 1 MUSD a year from the same program leaves 3: still A, 20.8, and 4 MUSD of
    # committed subsidy (2030-2033). A grant of 2.5 leaves 1.5 < 2: nothing can be paid,
    # 4 years x 10 MUSD short = 40.
    inst = _two_lines(4.0)
    grant = dict(deal="grant", kind="grant", program="fund", facility="mine", musd=1,
                 first_year=2030, last_year=2033, source="test")
    inst.tables["deals"] = [grant]
    r = solve_checked(inst)
    assert funded(r) == {"line-A": 2030}
    assert r.summary["objective_musd"] == pytest.approx(20.8, abs=1e-6)
    assert r.summary["committed_npv_musd"] == pytest.approx(4.0, abs=1e-6)
    assert r.summary["paid_by_funding_program_musd"] == {"fund": pytest.approx(4.0)}
    grant["musd"] = 2.5
    r = solve_checked(inst)
    assert funded(r) == {}
    assert r.summary["objective_musd"] == pytest.approx(40.0, abs=1e-6)
    assert r.summary["committed_npv_musd"] == pytest.approx(10.0, abs=1e-6)


def test_a_committed_line_ramps_from_its_online_year(solve_checked):
    # The line is committed (past its FID: no capex in the plan), 15 t from 2030 with a
    # ramp of 0.5;1: 7.5 t in 2030 (2.5 t short = 2.5 MUSD), 15 t from 2031. Optimum 2.5,
    # nothing funded. As existing it would run at 15 t at once: 0.
    inst = single_chain()
    line = inst.row("facilities", facility="line")
    line.update(status="committed", online_year=2030, capacity_t=15, ramp="0.5;1",
                earliest_fid=None, lead_years=None, capex_musd=None, life_years=None)
    r = solve_checked(inst)
    assert funded(r) == {}
    assert r.summary["objective_musd"] == pytest.approx(2.5, abs=1e-6)
    cap = r.tables["capacity"].set_index(["facility", "year"])
    assert cap.loc[("line", 2030), "available_t"] == pytest.approx(7.5)
    assert r.tables["plan"].set_index("facility").loc["line", "status"] == "committed"
    line["status"] = "existing"
    assert solve_checked(inst).summary["objective_musd"] == pytest.approx(0.0, abs=1e-6)


def test_a_line_serves_defense_only_after_qualification(solve_checked):
    # The single chain with a line that needs 1 qualification year: FID 2030 -> output 2031,
    # defense deliveries from 2032 only.
    #   FID 2030: capex 3 + short 2030, 2031 (20) - salvage 2.4 = 20.6;
    #   FID 2031 (qualified 2033, after the horizon): 3 + 30 - 2.7 = 30.3;  no FID: 30.
    # Optimum 20.6, FID 2030: a year later than without qualification (10.6).
    inst = single_chain()
    inst.row("facilities", facility="line")["qualification_years"] = 1
    r = solve_checked(inst)
    assert funded(r) == {"line": 2030}
    assert r.summary["objective_musd"] == pytest.approx(20.6, abs=1e-6)
    assert r.summary["first_full_coverage_year"] == {"prog": 2032}
    # A commercial China-free target of 10 t/yr at 100 USD/kg (0.1 MUSD a t short) needs no
    # qualification: the line's first year goes to it.
    #   FID 2030: 3 + defense short 20 + commercial short 2030 (1) - 2.4 = 21.6;
    #   FID 2031: 3 + 30 + 2 - 2.7 = 32.3;  no FID: 30 + 3 = 33.  Optimum 21.6, FID 2030.
    inst.tables["programs"].append(dict(program="allied-market", grade="G", kg_per_unit=1000,
                                        required_from=2030, penalty_usd_per_kg=100,
                                        buyer="commercial", source="test"))
    inst.tables["demand"] += [dict(program="allied-market", year=y, units=10)
                              for y in range(2030, 2033)]
    r = solve_checked(inst)
    assert funded(r) == {"line": 2030}
    assert r.summary["objective_musd"] == pytest.approx(21.6, abs=1e-6)
    d = r.tables["deliveries"].set_index(["program", "year"])
    assert d.loc[("allied-market", 2031), "delivered_t"] == pytest.approx(10)
    assert d.loc[("prog", 2031), "delivered_t"] == pytest.approx(0)
    assert d.loc[("allied-market", 2031), "buyer"] == "commercial"
    # The headline stays about US defense: the commercial target is covered from 2031.
    assert r.summary["first_full_coverage_year"] == {"prog": 2032, "allied-market": 2031}
    assert r.summary["us_defense_first_full_coverage_year"] == 2032
    # An existing line online since 2029 with 2 qualification years serves defense from
    # 2031: 2030 is short (10 t = 10 MUSD); the commercial target is met every year.
    inst.tables["programs"].pop()
    inst.tables["demand"] = [r for r in inst.tables["demand"] if r["program"] == "prog"]
    inst.row("facilities", facility="line").update(
        status="existing", online_year=2029, qualification_years=2, earliest_fid=None,
        lead_years=None, capex_musd=None, life_years=None, ramp=None)
    r = solve_checked(inst)
    assert r.summary["objective_musd"] == pytest.approx(10.0, abs=1e-6)
