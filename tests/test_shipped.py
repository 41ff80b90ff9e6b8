"""Every shipped input solves, holds every invariant, and matches its regression values.

Regression values (Temoa-style): objective, funded projects and model size per shipped
input. Every intended change to them gets a dated line in CHANGES below, saying why.

CHANGES
- 2026-11-29: first values (baseline inputs from REFERENCE; funding tie-break in place).
- 2026-11-29: oxide and metal go through market pools (pool_balance): fewer variables, a
  few more rows; objectives and funded projects unchanged, as the pools are exact.
- 2026-12-01: new scenario strange-lake-anyway (the first decision scenario: Strange Lake
  funded by 2030). Its one project_decisions row is its only difference in size from the
  baseline; every other value unchanged, as inputs without decisions have no such rows.
- 2026-12-01: baseline re-audited against the record of 2025-2026 (issue 13, item 7):
  prices of 2026 (NdPr oxide 100, then 85 from 2027; Dy 290), seven new facilities
  (Balranald, Donald, Caremag, Ucore and its expansion, SRC's expansion, USAR Stillwater
  metal), Vulcan Elements existing, Lynas Texas's earliest FID 2028, Lynas Malaysia's Dy/Tb
  share for the 2026 JARE terms, LCM half available, funding programs of 2026. At 2026 prices
  no plant loses money: the baseline and six scenarios fall to 0 MUSD with nothing funded
  (was 370-535, Lynas Texas); china-dumping 507 -> 230 and funds Donald 2034 instead of
  Norra Kärr; myanmar-cutoff 429 -> 172, nothing funded; strange-lake-anyway 926 -> 556.
  Sizes grow with the new facilities (baseline 15422/552/9096 -> 17747/588/10053). New
  scenario prices-2025 (2025's prices on the 2026 chain): 222, Donald 2034. Objectives of
  0 are compared with an absolute tolerance of 1e-6 besides the relative one.
- 2026-12-01: finite stocks (issue 13, item 2): the Eneabba stockpile is 108,000 t TREO
  (its old 9 years x 12,000 t/yr) without a life, and Browns Range, Nolans and Norra Kärr
  carry their reserves. The plan now draws the stockpile at the rate it needs, so it lasts
  the horizon: Donald is no longer funded in prices-2025 (222 -> 151) or china-dumping
  (230 -> 155), and myanmar-cutoff falls 172 -> 134. Every model gains one stock_limit row
  per stock (four in the baseline) and the stockpile's variables and rows in 2036-2045
  (+40 variables, +34 rows).
- 2026-12-01: deals in force and committed projects (issue 13, item 3): the DoD-MP NdPr
  floor (US-DoD, 110 USD/kg, 2026-2034) and the JARE-Lynas floor (JP-JOGMEC, 110 USD/kg on
  half of Lynas Malaysia's NdPr, 2026-2038) in deals.csv; nine financed projects committed
  instead of existing, Vulcan Elements from 2027 with a ramp. Floors are income to the
  plant and committed subsidy apart from the objective: china-dumping 155 -> 66,
  prices-2025 151 -> 53, myanmar-cutoff 134 -> 129; the others stay 0 (strange-lake-anyway
  556). Each floor deal-year adds a floor_paid variable and a floor_payment row, and
  budget rows for JP-JOGMEC's floor years. New scenario lynas-texas-cancelled (Lynas Texas
  never funded): 0, as the baseline.
- 2026-12-01: the floors' tie-break weighs 1e-4 per MUSD (was 1e-7, below HiGHS's dual
  tolerance, so it chose nothing): us-alone and ntib report 40 MUSD of committed payments
  like the baseline (was 693, an arbitrary pick among equally cheap plans). Objectives,
  plans and sizes unchanged.
- 2026-12-01: qualification, competing demand and programs by platform (issue 13, items
  4-6, 8): programs.csv gains buyer and platform, magnet lines qualification_years (0 in
  every shipped input), so no model changes size or optimum but these two. myanmar-cutoff
  passes the Dy and Tb rise through to magnet prices, 129.5 -> 40.3 (nothing funded either
  way; size unchanged). crs-upper's aggregate shrinks to what remains after its platforms
  (172.8 -> 112.5 t/yr, NdFeB 235 -> 175 t/yr): 0 either way, size unchanged. New scenario
  china-export-controls (no Chinese Dy, Tb or Sm; allied defense and an allied commercial
  target compete): 656.0, Donald 2026 and Browns Range 2034 funded. New scenario
  magnet-qualification (2 years, an assumption, for the new NdFeB lines): 0, as the
  baseline; older lines carry US defense until the new ones qualify.
- 2026-12-01: intermediate streams (issue 13, item 1): Lynas Malaysia's light circuit passes
  Dy, Tb and Sm to its two heavy circuits (new facilities lynas-malaysia-hre and
  lynas-malaysia-hre-plant, which now carry the JARE-limited recovery of 0.18 and Sm), and
  MP's light circuit its SEG+ split to MP's heavy circuit (the whole-concentrate link from
  Mountain Pass is gone). Every objective and funded project is unchanged (Lynas gives the
  plan the same Dy, Tb and Sm as before; streams are paid at the oxide value recovered, so
  no loss moves between circuits). Sizes grow with the two facilities and the stream
  variables and rows (baseline 17855/588/10148 -> 18629/588/10576); example unchanged.
- 2026-12-01: streams and competing demand together (the two changes above were made
  apart): china-export-controls 656.0 (Donald 2026, Browns Range 2034) -> 520.3 (Browns
  Range 2033): Lynas's and MP's heavy circuits, fed by their light circuits' heavy
  fractions, make more of the Dy and Tb that allied commercial demand competes for, so
  Donald is not needed. Every other objective and plan is unchanged.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest
from invariants import check_run
from shipped import SHIPPED, solve_to

# name: (objective_musd, {facility: fid_year}, n_variables, n_binaries, n_constraints)
EXPECTED = {
    "example": (788.4680386019505, {"heavy-hardrock-mine": 2027, "heavy-separation-new": 2028,
                                    "ndfeb-line": 2028}, 1842, 58, 1529),
    "baseline": (0.0, {}, 18629, 588, 10576),
    "msp": (0.0, {}, 18629, 588, 10576),
    "china-dumping": (66.34230842806255, {}, 18629, 588, 10576),
    "crs-upper": (0.0, {}, 19894, 588, 10709),
    "myanmar-cutoff": (40.296635337919085, {}, 16623, 588, 9394),
    "china-export-controls": (520.3162031544117, {"browns-range": 2033}, 16748, 588, 9221),
    "magnet-qualification": (0.0, {}, 18603, 588, 10623),
    "norra-karr-no-permit": (0.0, {}, 18311, 570, 10506),
    "strange-lake-delay": (0.0, {}, 18517, 578, 10511),
    "ntib": (0.0, {}, 17910, 588, 10350),
    "us-alone": (0.0, {}, 17798, 588, 10333),
    "strange-lake-anyway": (555.5662089047294, {"strange-lake": 2030}, 18629, 588, 10577),
    "prices-2025": (53.305565754530114, {}, 18629, 588, 10576),
    "lynas-texas-cancelled": (0.0, {}, 18629, 588, 10577),
}


@pytest.fixture(scope="module")
def shipped_runs(tmp_path_factory):
    """Solve every shipped input once, two at a time (one HiGHS thread each)."""
    root = tmp_path_factory.mktemp("shipped")
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        futures = {name: pool.submit(solve_to, name, str(root / name)) for name in SHIPPED}
        return {name: (root / name, f.result()) for name, f in futures.items()}


def test_every_shipped_input_has_regression_values():
    assert set(EXPECTED) == set(SHIPPED)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_input_solves_and_holds_every_invariant(shipped_runs, name):
    out, summary = shipped_runs[name]
    assert summary["status"] == "optimal", summary["message"]
    violations = check_run(SHIPPED[name], out)
    assert violations == [], "\n".join(violations[:20])


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_input_regression_values(shipped_runs, name):
    _, summary = shipped_runs[name]
    objective, funded, n_var, n_bin, n_con = EXPECTED[name]
    assert summary["objective_musd"] == pytest.approx(objective, rel=1e-6, abs=1e-6)
    assert {f["facility"]: f["fid_year"] for f in summary["funded"]} == funded
    assert (summary["n_variables"], summary["n_binaries"], summary["n_constraints"]) == \
        (n_var, n_bin, n_con)


def test_readme_baseline_claims(shipped_runs):
    """The numbers README.md quotes for the baseline, recomputed from its output tables."""
    import pandas as pd

    out, summary = shipped_runs["baseline"]
    assert set(summary["first_full_coverage_year"].values()) == {2027}
    deliveries = pd.read_csv(out / "deliveries.csv")
    assert deliveries.shortfall_t.max() == 0
    assert deliveries.groupby("year").demand_t.sum().round(0).unique().tolist() == [209]
    assert round(summary["subsidy_npv_musd"]) == 0
    plan = pd.read_csv(out / "plan.csv")
    assert plan.fid_year.isna().all()
    finance = pd.read_csv(out / "finance.csv")
    assert finance.support_musd.abs().max() < 1e-6
    totals = finance.groupby("facility")[["revenue_musd", "cost_musd"]].sum()
    for plant in ["lynas-malaysia", "iluka-eneabba"]:
        assert totals.loc[plant, "revenue_musd"] >= totals.loc[plant, "cost_musd"]
    flows = pd.read_csv(out / "flows.csv")
    made = flows[~flows.source.str.endswith("-pool")]  # plants, not the market pools
    heavy_oxide = made[(made.commodity == "oxide") & (made.provenance == "clean")
                       & made.item.isin(["Dy", "Tb"]) & (made.target != "market")
                       & (made.tonnes > 1e-6)]
    site = heavy_oxide.source.str.replace(r"^lynas-malaysia-hre.*", "lynas-malaysia", regex=True)
    assert set(site) == {"iluka-eneabba", "lynas-malaysia"}  # Lynas's by its heavy circuits
    assert heavy_oxide.year.max() == 2045 and set(site[heavy_oxide.year == 2045]) \
        == {"iluka-eneabba", "lynas-malaysia"}
    stockpile = flows[flows.source == "eneabba-stockpile"].tonnes.sum()
    assert 18_000 < stockpile < 20_000  # of 108,000 t
    assert not (flows.source == "mp-separation").any()
    assert round(summary["committed_npv_musd"]) == 40
    assert {g: round(v) for g, v in summary["committed_by_funding_program_musd"].items()} == \
        {"JP-JOGMEC": 48, "US-DoD": 0}
    assert round(finance.groupby("facility").committed_musd.sum()["lynas-malaysia"]) == 48
    metal = made[(made.commodity == "metal") & (made.provenance == "clean")
                 & (made.tonnes > 1e-6)]
    assert set(metal[metal.item == "Sm"].source) == {"lcm-ellesmere-port"}
    heavy_metal = metal[metal.item.isin(["Dy", "Tb"])].groupby("source").tonnes.sum()
    assert set(heavy_metal.index) <= {"lcm-ellesmere-port", "src-metal-expansion"}
    assert heavy_metal.idxmax() == "lcm-ellesmere-port"
    marginals = pd.read_csv(out / "marginals.csv")
    assert marginals.value.abs().max() < 1e-6


def test_readme_strange_lake_anyway_claims(shipped_runs):
    """What README.md says forcing Strange Lake costs, and that the forced mine sits idle."""
    import pandas as pd

    out, forced = shipped_runs["strange-lake-anyway"]
    _, baseline = shipped_runs["baseline"]
    assert forced["decisions"] == [{"facility": "strange-lake", "fund_by": 2030}]
    assert round(forced["objective_musd"] - baseline["objective_musd"]) == 556
    flows = pd.read_csv(out / "flows.csv")
    assert not (flows.source == "strange-lake").any()  # built, but it ships nothing
    finance = pd.read_csv(out / "finance.csv").set_index(["facility", "year"])
    assert finance.loc[("strange-lake", 2030), "capex_outlay_musd"] == pytest.approx(140.16)
    assert finance.loc[("strange-lake", 2040), "support_musd"] == pytest.approx(26.28)
    paid = pd.read_csv(out / "funding.csv").groupby("program").musd.sum().round(0).to_dict()
    assert (paid["US-DoD"], paid["CA-CMIF"]) == (850, 140)


def test_readme_prices_2025_claims(shipped_runs):
    """README.md's prices-2025 row: who needs support again, who pays, what the floors pay."""
    import pandas as pd

    out, summary = shipped_runs["prices-2025"]
    support = pd.read_csv(out / "finance.csv").groupby("facility").support_musd.sum().round(0)
    assert support[["lynas-malaysia", "iluka-eneabba"]].tolist() == [41, 40]
    assert summary["funded"] == []
    fund = pd.read_csv(out / "funding.csv")
    new = fund[fund.covers != "committed"].groupby("program").musd.sum().round(0).to_dict()
    assert (new["US-DoD"], new["JP-JOGMEC"]) == (40, 41)
    assert round(summary["committed_npv_musd"]) == 1024
    assert round(summary["committed_by_funding_program_musd"]["JP-JOGMEC"]) == 1209
    assert round(fund[fund.program == "JP-JOGMEC"].musd.sum()) == 1250  # its total budget


@pytest.mark.parametrize("name, subsidy, committed", [
    ("us-alone", 0, 40), ("ntib", 0, 40), ("china-dumping", 66, 1016), ("crs-upper", 0, 54),
    ("myanmar-cutoff", 40, 40), ("china-export-controls", 520, 1198),
    ("magnet-qualification", 0, 40),
    ("strange-lake-delay", 0, 40), ("norra-karr-no-permit", 0, 40),
    ("msp", 0, 40), ("strange-lake-anyway", 556, 40), ("prices-2025", 53, 1024),
    ("lynas-texas-cancelled", 0, 40)])
def test_readme_scenario_table(shipped_runs, name, subsidy, committed):
    _, summary = shipped_runs[name]
    assert round(summary["subsidy_npv_musd"]) == subsidy
    assert round(summary["committed_npv_musd"]) == committed
    assert summary["us_defense_first_full_coverage_year"] == 2027


def test_crs_upper_counts_each_platform_once(shipped_runs):
    """The platforms listed apart come out of the aggregate: US NdFeB stays DoD's 175 t/yr."""
    import pandas as pd

    out, _ = shipped_runs["crs-upper"]
    d = pd.read_csv(out / "deliveries.csv")
    year = d[d.year == 2030]
    assert year[year.program.str.contains("ndfeb")].demand_t.sum() == pytest.approx(175)
    assert year.groupby("platform").demand_t.sum().round(2).to_dict() == {
        "DDG-51": 4.72, "F-35": 65.05, "Virginia-class": 8.35, "munitions": 30.0,
        "other-us-weapons": 112.51}


def test_china_export_controls_keeps_us_defense_apart(shipped_runs):
    """Allied and commercial demand compete, but the headline is about US defense."""
    import pandas as pd

    out, summary = shipped_runs["china-export-controls"]
    d = pd.read_csv(out / "deliveries.csv")
    assert set(d.buyer) == {"us-defense", "allied-defense", "commercial"}
    assert d.shortfall_t.max() <= 1e-6  # with the streams, allied supply covers all of it
    assert summary["us_defense_first_full_coverage_year"] == 2027
    assert summary["first_full_coverage_year"]["allied-commercial-sh"] == 2027


def test_readme_china_export_controls_and_myanmar_claims(shipped_runs):
    """The figures README.md's scenario table gives for the two supply-cut scenarios."""
    import pandas as pd

    out, _ = shipped_runs["china-export-controls"]
    flows = pd.read_csv(out / "flows.csv")
    stockpile = flows[(flows.source == "eneabba-stockpile") & (flows.tonnes > 1e-6)]
    assert round(stockpile.tonnes.sum()) == 108_000 and stockpile.year.max() == 2035
    assert flows[(flows.source == "browns-range") & (flows.tonnes > 1e-6)].year.min() == 2035
    fund = pd.read_csv(out / "funding.csv")
    new = fund[fund.covers != "committed"].groupby("program").musd.sum().round(0).to_dict()
    assert new == {"US-DoD": 375, "AU-CMF": 321, "EU-CRMA": 2}
    support = pd.read_csv(out / "finance.csv").groupby("facility").support_musd.sum()
    assert round(support["browns-range"]) == 233

    out, _ = shipped_runs["myanmar-cutoff"]
    fund = pd.read_csv(out / "funding.csv")
    new = fund[fund.covers != "committed"].groupby("program").musd.sum().round(0)
    assert new[new > 0].to_dict() == {"JP-JOGMEC": 3, "US-DoD": 51}
