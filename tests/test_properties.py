"""Property tests on random tiny instances: invariants and monotonicity (docs/formulation.md)."""

from __future__ import annotations

import csv

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from instances import copy_example
from strategies import instances

from optimize.data.checks import load
from optimize.data.registry import CSV_TABLES
from optimize.errors import InputError

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
TOL = 1e-6


def objective(result) -> float:
    assert result.status.has_solution, result.summary["message"]
    return result.summary["objective_musd"]


@PROPERTY
@given(inst=instances(), mode=st.sampled_from(["min_subsidy", "max_coverage"]))
def test_invariants_hold_on_random_instances(solve_checked, inst, mode):
    result = solve_checked(inst, mode=mode)
    assert result.status.has_solution


@PROPERTY
@given(inst=instances(with_funding=True), factor=st.sampled_from([1.5, 2.0, 10.0]))
def test_more_budget_never_costs_more(solve_checked, inst, factor):
    base = objective(solve_checked(inst))
    richer = inst.copy()
    for row in richer.tables["funding"]:
        row["annual_musd"] = row["annual_musd"] * factor
        if row.get("total_musd") is not None:
            row["total_musd"] = row["total_musd"] * factor
    assert objective(solve_checked(richer)) <= base + TOL * max(1.0, abs(base))


def without(inst, name):
    """Return a copy of ``inst`` without facility ``name`` (and whatever requires it)."""
    out = inst.copy()
    gone = {name} | {f["facility"] for f in out.tables["facilities"] if f.get("requires") == name}
    for table, rows in out.tables.items():
        keys = ("facility", "from", "to")
        out.tables[table] = [r for r in rows if not any(r.get(k) in gone for k in keys)]
    return out


@PROPERTY
@given(inst=instances(), pick=st.integers(0, 3))
def test_removing_a_candidate_never_costs_less(solve_checked, inst, pick):
    candidates = [f["facility"] for f in inst.tables["facilities"]
                  if f["status"] == "candidate"]
    if not candidates:
        return
    base = objective(solve_checked(inst))
    fewer = without(inst, candidates[pick % len(candidates)])
    stages = {f["stage"] for f in fewer.tables["facilities"]}
    if stages != {"mine", "separation", "metal", "magnet"}:
        return  # removing the only plant of a stage leaves no chain to compare
    tied = {r["from"] for r in inst.tables.get("links", [])}
    if tied - {r["from"] for r in fewer.tables.get("links", [])}:
        return  # a facility whose only link went with the plant may now ship anywhere
    assert objective(solve_checked(fewer)) >= base - TOL * max(1.0, abs(base))


@PROPERTY
@given(inst=instances(), factor=st.sampled_from([1.5, 3.0]))
def test_more_demand_never_costs_less(solve_checked, inst, factor):
    base = objective(solve_checked(inst))
    more = inst.copy()
    for row in more.tables["demand"]:
        row["units"] = row["units"] * factor
    assert objective(solve_checked(more)) >= base - TOL * max(1.0, abs(base))


CELLS = [(t.file, c.name) for t in CSV_TABLES if t.name != "links" for c in t.columns]


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.sampled_from(CELLS), row=st.integers(2, 6),
       junk=st.sampled_from(["", "nan", "-1", "x", "1e9", "0", "2099", "a;;b", " ", "∞", "NA"]))
def test_any_bad_cell_gives_input_error_never_a_crash(tmp_path_factory, cell, row, junk):
    folder = copy_example(tmp_path_factory.mktemp("fuzz") / "inputs")
    file, column = cell
    path = folder / file
    if not path.exists():  # an optional table the example does not have (deals.csv)
        return
    rows = list(csv.reader(path.read_text().splitlines()))
    if column not in rows[0] or row > len(rows):
        return
    rows[row - 1][rows[0].index(column)] = junk
    with open(path, "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    try:
        load(folder)
    except InputError as exc:
        assert all(p.file for p in exc.problems)


def test_without_removes_dependents():
    from instances import single_chain

    inst = single_chain()
    p2 = dict(inst.row("facilities", facility="line"), facility="line2", requires="line")
    inst.tables["facilities"].append(p2)
    inst.tables["line_grades"].append(dict(facility="line2", grade="G"))
    fewer = without(inst, "line")
    assert {f["facility"] for f in fewer.tables["facilities"]} == {"mine", "sep", "metal"}
    assert fewer.tables["line_grades"] == []
