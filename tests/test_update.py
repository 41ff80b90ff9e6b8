"""Re-solve without rebuilding: a model updated in place equals one built from the new data.

"Equals" is checked on what HiGHS holds (matrix, row bounds, cost vectors, in the same row
and column order) and on what it returns (status, objective), on random tiny instances with
random parameter changes and on the shipped scenarios that differ only in parameters.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instances import EXAMPLE, Instance, copy_example
from invariants import check_run
from pyomo.core.expr import identify_mutable_parameters
from pyomo.environ import Constraint, Expression
from strategies import instances

from optimize.data.checks import load
from optimize.data.modeldata import frozen
from optimize.model import PARAMETRIC_EXPRESSIONS, PARAMETRIC_FAMILIES, build_model
from optimize.model.parameters import StructureChanged, same_structure
from optimize.pipeline import ModelCache, run
from optimize.solve import HighsModel, SolveOptions

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "inputs" / "scenarios"
UPDATE = settings(max_examples=25, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def held(model: HighsModel) -> dict[str, Any]:
    """Return what HiGHS holds for the model, with row and column names."""
    model.sync()
    lp = model.h.getLp()
    matrix = sp.csc_matrix if lp.a_matrix_.format_ == highspy.MatrixFormat.kColwise else \
        lambda *a, shape: sp.csr_matrix(*a, shape=shape).tocsc()
    a = matrix((np.asarray(lp.a_matrix_.value_), np.asarray(lp.a_matrix_.index_),
                np.asarray(lp.a_matrix_.start_)), shape=(lp.num_row_, lp.num_col_))
    a.eliminate_zeros()
    a.sort_indices()
    return {"columns": [v.name for v in model.form.columns],
            "rows": [c.name for c in model.form.rows],
            "a": a, "row_lower": np.asarray(lp.row_lower_), "row_upper": np.asarray(lp.row_upper_),
            "col_lower": np.asarray(lp.col_lower_), "col_upper": np.asarray(lp.col_upper_),
            "cost_subsidy": model.form.cost_subsidy, "cost_penalty": model.form.cost_penalty,
            "cost_tiebreak": model.form.cost_tiebreak,
            "reported_keys": model.form.reported_keys, "reported": model.form.reported.tocsr(),
            "reported_offset": model.form.reported_offset}


def assert_same_model(updated: HighsModel, rebuilt: HighsModel) -> None:
    u, r = held(updated), held(rebuilt)
    assert u["columns"] == r["columns"] and u["rows"] == r["rows"]
    # Both are compiled by Pyomo from the same expressions with the same Param values:
    # the matrices are equal bit for bit.
    assert ((u["a"] != 0) != (r["a"] != 0)).nnz == 0, "sparsity patterns differ"
    assert (u["a"] != r["a"]).nnz == 0, "matrices differ"
    for key in ("row_lower", "row_upper", "col_lower", "col_upper", "cost_subsidy",
                "cost_penalty", "cost_tiebreak", "reported_offset"):
        assert np.array_equal(u[key], r[key]), key
    # the result tables' Expressions, compiled with the model, too
    assert u["reported_keys"] == r["reported_keys"]
    assert (u["reported"] != r["reported"]).nnz == 0, "reported Expressions differ"


@st.composite
def parameter_changes(draw: Any) -> tuple[Instance, Instance]:
    """Draw an instance and a copy of it with other prices, offers, demand, penalties, budgets."""
    inst = draw(instances())
    new = inst.copy()
    factor = st.sampled_from([0.5, 0.8, 1.25, 2.0, 3.0])
    for row in new.tables["prices"]:
        if draw(st.booleans()):
            row["usd_per_kg"] = round(row["usd_per_kg"] * draw(factor), 2)
    offer_total = draw(st.integers(0, 8))
    for row in new.tables.get("offers", []):
        row["usd_per_kg"] = round(row["usd_per_kg"] * draw(factor), 2)
        row["max_t"] = draw(st.integers(0, 4))
        if row.get("total_t") is not None:  # a finite stock stays finite
            row["total_t"] = offer_total
    for row in new.tables["facilities"]:
        if row.get("total_t") is not None:
            row["total_t"] = draw(st.integers(0, 300))
    for row in new.tables["demand"]:
        row["units"] = draw(st.integers(1, 30))  # positive stays positive: no new short year
    for row in new.tables["programs"]:
        row["penalty_usd_per_kg"] = draw(st.sampled_from([300, 5000, 20000]))
        row["kg_per_unit"] = draw(st.sampled_from([500, 1000, 1500]))
    grants = any(d["kind"] == "grant" for d in new.tables.get("deals", []))
    for row in new.tables.get("funding", []):
        row["annual_musd"] = round(row["annual_musd"] * draw(factor), 1)
        if row.get("total_musd") is not None:
            row["total_musd"] = round(row["total_musd"] * draw(factor), 1)
        if grants:  # budgets stay above the grants in force (at most 1 a year, 3 in all)
            row["annual_musd"] = max(row["annual_musd"], 1.0)
            if row.get("total_musd") is not None:
                row["total_musd"] = max(row["total_musd"], 3.0)
    return inst, new


@UPDATE
@given(pair=parameter_changes(), mode=st.sampled_from(["min_subsidy", "max_coverage"]),
       scale=st.sampled_from([None, 0.5, 1.5]))
def test_an_updated_model_equals_a_rebuilt_one(pair, mode, scale):
    before, after = pair
    with tempfile.TemporaryDirectory() as tmp:
        old = load(before.write(Path(tmp) / "before"))
        new = load(after.write(Path(tmp) / "after"))
    assert same_structure(old, new)
    options = SolveOptions(mode=mode, mip_gap=0.0)
    model, rebuilt = HighsModel(build_model(old), options), HighsModel(build_model(new), options)
    if scale is not None:  # a frontier's budget scale carries over an update
        model.scale_budgets(scale)
        rebuilt.scale_budgets(scale)
    model.solve()  # an earlier solve leaves nothing behind
    model.update(new)
    assert_same_model(model, rebuilt)
    a, b = model.solve(), rebuilt.solve()
    assert a.status == b.status
    if b.status.has_solution:
        assert a.objective_musd == pytest.approx(b.objective_musd, rel=1e-7, abs=1e-7)
    # and back again: the coefficients changed in place are tracked, not re-derived
    model.update(old)
    fresh = HighsModel(build_model(old), options)
    if scale is not None:
        fresh.scale_budgets(scale)
    assert_same_model(model, fresh)


@UPDATE
@given(pair=parameter_changes())
def test_a_run_on_an_updated_model_keeps_every_invariant(pair):
    before, after = pair
    cache = ModelCache()
    with tempfile.TemporaryDirectory() as tmp:
        first = run(before.write(Path(tmp) / "before"), cache=cache)
        folder, out = after.write(Path(tmp) / "after"), Path(tmp) / "out"
        second = run(folder, out=out, cache=cache)
        alone = run(folder)
        assert (first.summary["model"], second.summary["model"]) == ("built", "updated")
        assert second.status == alone.status
        if second.status.has_solution:
            assert check_run(folder, out) == []
            for key in ("objective_musd", "subsidy_npv_musd", "penalty_npv_musd"):
                assert second.summary[key] == pytest.approx(alone.summary[key], rel=1e-7,
                                                            abs=1e-7)


@pytest.fixture(scope="module")
def baseline():
    return load(ROOT / "inputs" / "baseline")


@pytest.mark.parametrize("scenario", ["china-dumping", "msp"])
def test_shipped_price_and_portfolio_scenarios_update_the_baseline_in_place(baseline, scenario):
    new = load(SCENARIOS / f"{scenario}.toml")
    model = HighsModel(build_model(baseline), SolveOptions())
    model.update(new)
    assert model.m.data is new
    assert model.recompiled == "parameters"  # only the rows that hold a Param
    assert_same_model(model, HighsModel(build_model(new), SolveOptions()))


def with_every_feature(folder: Path) -> Path:
    """Write the example with a finite stock on its mine, its offer, a deal of each kind, a
    candidate line that needs a year of qualification and a stream (light-separation's Dy
    to heavy-separation-new)."""
    import csv

    copy_example(folder)
    for file, match, column, value in (
            ("facilities.csv", "heavy-hardrock-mine", "total_t", "1e6"),
            ("offers.csv", "dy-stockpile", "total_t", "9"),
            ("facilities.csv", "ndfeb-line", "qualification_years", "1")):
        path = folder / file
        rows = list(csv.DictReader(path.open()))
        for row in rows:
            row[column] = value if row[next(iter(row))] == match else ""
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    (folder / "deals.csv").write_text(
        "deal,kind,program,facility,commodity,item,usd_per_kg,share,musd,first_year,last_year,"
        "source\n"
        "nd-floor,floor,US-DoD,light-separation,oxide,Nd,110,0.5,,2026,2035,test\n"
        "grant,grant,US-DoD,metal-plant,,,,,10,2026,2028,test\n")
    (folder / "streams.csv").write_text(
        "from,to,element,source\nlight-separation,heavy-separation-new,Dy,test\n")
    return folder


@pytest.mark.parametrize("inputs", [EXAMPLE, ROOT / "inputs" / "baseline", "every-feature"])
def test_exactly_the_parametric_families_and_expressions_hold_a_mutable_param(inputs,
                                                                              tmp_path):
    """An update recompiles only PARAMETRIC_FAMILIES' rows and PARAMETRIC_EXPRESSIONS: each
    of them names a mutable Param, and nothing else in the model does. A family without a
    row in these inputs (a feature they do not use) cannot be seen here; the example with
    every optional feature shows the rest, and together they show every family."""
    if inputs == "every-feature":
        inputs = with_every_feature(tmp_path / "in")
    m = build_model(load(inputs))

    def holds(expr: Any) -> bool:
        return expr is not None and next(identify_mutable_parameters(expr), None) is not None

    families = {c.local_name for c in m.component_objects(Constraint)
                if any(holds(row.body) or holds(row.lower) or holds(row.upper)
                       for row in c.values())}
    with_rows = {name for name in PARAMETRIC_FAMILIES if len(m.component(name) or ())}
    assert families == with_rows
    named = {e.local_name for e in m.component_objects(Expression)
             if any(holds(x.expr) for x in e.values())}
    assert named == set(PARAMETRIC_EXPRESSIONS)
    if Path(inputs).name == "in":
        assert families == set(PARAMETRIC_FAMILIES)


@pytest.mark.parametrize("scenario", ["myanmar-cutoff", "norra-karr-no-permit", "ntib"])
def test_structural_scenarios_are_refused_and_leave_the_model_as_it_was(baseline, scenario):
    model = HighsModel(build_model(baseline), SolveOptions())
    before = held(model)
    with pytest.raises(StructureChanged):
        model.update(load(SCENARIOS / f"{scenario}.toml"))
    after = held(model)
    assert model.m.data is baseline
    assert (before["a"] != after["a"]).nnz == 0
    assert all(np.array_equal(before[k], after[k]) for k in ("row_lower", "row_upper"))


def test_a_price_change_that_adds_a_money_flow_is_taken_in_place():
    """With every price, cost and offer at 0 no money flows, yet each priced facility-year
    keeps its operating_support row (its coefficients are Params at 0): prices that give it
    money later are taken in place, and the model equals a fresh build."""
    data = load(EXAMPLE)
    zero = {k: 0.0 for k in data.prices}
    free = replace(data, prices=frozen(zero),
                   facilities=frozen({f: replace(fac, variable_usd_per_kg=0.0, fixed_om_musd=0.0)
                                      for f, fac in data.facilities.items()}),
                   offers=frozen({k: replace(o, usd_per_kg=0.0) for k, o in data.offers.items()}))
    model = HighsModel(build_model(free), SolveOptions())
    assert len(model.m.operating_support) > 0
    assert model.solve().objective_musd is not None
    priced = replace(free, prices=data.prices)
    assert same_structure(free, priced)
    model.update(priced)
    rebuilt = HighsModel(build_model(priced), SolveOptions())
    assert_same_model(model, rebuilt)
    assert model.solve().objective_musd == pytest.approx(rebuilt.solve().objective_musd,
                                                         rel=1e-9, abs=1e-9)


def test_a_price_that_gives_a_coefficient_to_a_flow_without_one_is_taken_in_place():
    """At price 0 a sale has no coefficient in its operating_support row (the build leaves
    zeros out); a positive price must add the entry, and a price of 0 take it away again."""
    data = load(EXAMPLE)
    unpriced = replace(data, prices=frozen({k: 0.0 for k in data.prices}))
    model = HighsModel(build_model(unpriced), SolveOptions())
    for new in (data, unpriced, data):
        assert same_structure(unpriced, new)
        model.update(new)
        rebuilt = HighsModel(build_model(new), SolveOptions())
        assert_same_model(model, rebuilt)
        assert model.solve().objective_musd == pytest.approx(rebuilt.solve().objective_musd,
                                                             rel=1e-9, abs=1e-9)
