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
    "baseline": (370.08490064680564, {"lynas-texas": 2032}, 15422, 552, 9096),
    "msp": (370.08490064680564, {"lynas-texas": 2032}, 15422, 552, 9096),
    "china-dumping": (507.0468747491442, {"norra-karr": 2028}, 15422, 552, 9096),
    "crs-upper": (440.1186253150488, {"norra-karr": 2028}, 16682, 552, 9229),
    "myanmar-cutoff": (429.2829168481252, {"lynas-texas": 2032}, 13644, 552, 7992),
    "norra-karr-no-permit": (370.08490064680575, {"lynas-texas": 2032}, 15184, 534, 9047),
    "strange-lake-delay": (370.08490064680564, {"lynas-texas": 2032}, 15310, 542, 9031),
    "ntib": (535.1678000010639, {"lynas-texas": 2031}, 14957, 552, 8929),
    "us-alone": (535.167800001064, {"lynas-texas": 2031}, 14874, 552, 8912),
    "strange-lake-anyway": (925.6511095515352, {"strange-lake": 2030, "lynas-texas": 2032},
                            15422, 552, 9097),
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
    assert summary["objective_musd"] == pytest.approx(objective, rel=1e-6)
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
    plan = pd.read_csv(out / "plan.csv").set_index("facility")
    assert plan.loc["lynas-texas", "first_output_year"] == 2036
    assert plan.loc["lynas-texas", "public_capex_musd"] == pytest.approx(260)
    assert round(summary["subsidy_npv_musd"]) == 370
    paid = pd.read_csv(out / "funding.csv").groupby("program").musd.sum().round(0).to_dict()
    assert paid == {"US-DoD": 496, "JP-JOGMEC": 75, "AU-CMF": 40}
    support = pd.read_csv(out / "finance.csv").groupby("facility").support_musd.sum().round(0)
    assert support[["lynas-texas", "lynas-malaysia", "iluka-eneabba"]].tolist() == [236, 75, 40]
    flows = pd.read_csv(out / "flows.csv")
    made = flows[~flows.source.str.endswith("-pool")]  # plants, not the market pools
    heavy_metal = made[(made.commodity == "metal") & (made.provenance == "clean")
                       & made.item.isin(["Dy", "Tb", "Sm"])]
    assert set(heavy_metal.source) == {"lcm-ellesmere-port"}
    heavy_oxide = made[(made.commodity == "oxide") & (made.provenance == "clean")
                       & made.item.isin(["Dy", "Tb"]) & (made.target != "market")]
    before = set(heavy_oxide[heavy_oxide.year <= 2035].source)
    assert before == {"iluka-eneabba", "lynas-malaysia"}


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
    assert (paid["US-DoD"], paid["CA-CMIF"]) == (1345, 140)


@pytest.mark.parametrize("name, subsidy", [("us-alone", 535), ("ntib", 535),
                                           ("china-dumping", 507), ("crs-upper", 440),
                                           ("myanmar-cutoff", 429), ("strange-lake-delay", 370),
                                           ("norra-karr-no-permit", 370), ("msp", 370),
                                           ("strange-lake-anyway", 926)])
def test_readme_scenario_table(shipped_runs, name, subsidy):
    _, summary = shipped_runs[name]
    assert round(summary["subsidy_npv_musd"]) == subsidy
    assert set(summary["first_full_coverage_year"].values()) == {2027}
