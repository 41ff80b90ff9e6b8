"""The stochastic program's extensive form against hand derivations and brute force.

Single chain (tests/instances.py; tests/test_stress.py derives its objectives): future A at
1000 USD/kg, future B at 10 USD/kg, probability 1/2 each.

| plan      | A    | B   | expected |
|-----------|------|-----|----------|
| line 2030 | 10.6 | 0.7 | 5.65     |
| line 2031 | 20.3 | 0.5 | 10.4     |
| line 2032 | 30   | 0.3 | 15.15    |
| nothing   | 30   | 0.3 | 15.15    |

So RP = 5.65 (line 2030); WS = (10.6 + 0.3) / 2 = 5.45, EVPI = 0.2; with A's own plan as the
reference VSS = 0, with B's (nothing) VSS = 15.15 - 5.65 = 9.5.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from instances import EXAMPLE, single_chain
from strategies import instances

from optimize.cli import main
from optimize.data.checks import load
from optimize.model import build_model
from optimize.pipeline import run
from optimize.solve import compile_model, new_highs
from optimize.uncertainty.stochastic import Risk, cvar_of, read_futures, solve_stochastic


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    root = tmp_path_factory.mktemp("stochastic")
    a = single_chain().write(root / "a")
    b = root / "b.toml"
    b.write_text('base = "a"\n[[change]]\ntable = "programs"\ncolumn = '
                 '"penalty_usd_per_kg"\nset = 10\n')
    return a, b


def test_the_stochastic_plan_by_hand(chain):
    r = solve_stochastic(read_futures(list(chain)), reference=("A", {"line": 2030}))
    s = r.summary
    assert s["plan"] == [{"facility": "line", "fid_year": 2030}]
    assert s["objective_musd"] == pytest.approx(5.65)
    assert s["wait_and_see_musd"] == pytest.approx(5.45)
    assert s["evpi_musd"] == pytest.approx(0.2)
    assert s["vss_musd"] == pytest.approx(0.0, abs=1e-9)
    objectives = r.tables["objectives"].set_index("future")
    assert objectives.stochastic_musd.tolist() == pytest.approx([10.6, 0.7])
    assert objectives.wait_and_see_musd.tolist() == pytest.approx([10.6, 0.3])
    r = solve_stochastic(read_futures(list(chain)), reference=("B", {}))
    assert r.summary["reference_plan_musd"] == pytest.approx(15.15)
    assert r.summary["vss_musd"] == pytest.approx(9.5)
    # The default reference is the first future's own optimum: line 2030 again.
    r = solve_stochastic(read_futures(list(chain), [0.05, 0.95]))
    assert r.summary["objective_musd"] == pytest.approx(0.05 * 10.6 + 0.95 * 0.7)
    assert r.summary["reference_plan"] == [{"facility": "line", "fid_year": 2030}]


def test_nothing_to_decide_before_the_first_fid_year(chain):
    # The line's first FID year is 2030: deciding by 2029 leaves every FID to each future.
    s = solve_stochastic(read_futures(list(chain)), decide_by=2029).summary
    assert s["plan"] == []
    assert s["objective_musd"] == pytest.approx(5.45)
    assert s["evpi_musd"] == pytest.approx(0.0, abs=1e-9)


def test_cvar_of_the_penalty(chain):
    # Line 2030: penalty NPV 10 in A, 0.1 in B; CVaR at 0.5 is the worse half: 10.
    s = solve_stochastic(read_futures(list(chain)), risk=Risk(1.0, 0.5),
                         measures=False).summary
    assert s["cvar_penalty_npv_musd"] == pytest.approx(10.0)
    assert s["objective_musd"] == pytest.approx(5.65 + 10.0)
    assert cvar_of({"a": 10, "b": 0.1, "c": 4}, {"a": 0.2, "b": 0.5, "c": 0.3}, 0.6) == \
        pytest.approx((0.2 * 10 + 0.2 * 4) / 0.4)


def test_one_future_is_solve():
    s = solve_stochastic(read_futures([EXAMPLE])).summary
    solved = run(EXAMPLE).summary
    assert s["objective_musd"] == pytest.approx(solved["objective_musd"], rel=1e-9)
    assert s["plan"] == [{"facility": f["facility"], "fid_year": f["fid_year"]}
                         for f in solved["funded"]]
    assert s["evpi_musd"] == pytest.approx(0.0, abs=1e-6)
    assert s["vss_musd"] == pytest.approx(0.0, abs=1e-6)


# -- brute force ---------------------------------------------------------------------------

def future_cost(form, h, fid_cols, first, combo):
    """The future's optimum with its first-stage FIDs fixed to ``combo`` (second stage free)."""
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    for (f, y), j in fid_cols.items():
        if (f, y) in first:
            lower[j] = upper[j] = 1.0 if combo.get(f) == y else 0.0
    h.changeColsBounds(len(lower), np.arange(len(lower), dtype=np.int32), lower, upper)
    h.clearSolver()
    h.run()
    if h.getModelStatus() != h.getModelStatus().kOptimal:
        return math.inf
    x = np.asarray(h.getSolution().col_value)
    return float((form.cost_subsidy + form.cost_penalty) @ x), h.getInfo().objective_function_value


def brute_force(folders, probabilities, decide_by):
    futures = []
    for folder in folders:
        m = build_model(load(folder))
        form = compile_model(m)
        column = {id(v): j for j, v in enumerate(form.columns)}
        fid_cols = {k: column[id(v)] for k, v in m.fid.items()}
        h = new_highs()
        h.setOptionValue("threads", 1)
        h.setOptionValue("mip_rel_gap", 0.0)
        form.pass_to(h)
        futures.append((form, h, fid_cols))
    first = sorted({k for _, _, cols in futures for k in cols
                    if decide_by is None or k[1] <= decide_by})
    by_facility: dict[str, list[int]] = {}
    for f, y in first:
        by_facility.setdefault(f, []).append(y)
    best, best_full = math.inf, math.inf
    for picks in itertools.product(*[[None, *ys] for ys in by_facility.values()]):
        combo = {f: y for f, y in zip(by_facility, picks, strict=True) if y is not None}
        costs = [future_cost(form, h, cols, set(first), combo) for form, h, cols in futures]
        if any(c == math.inf for c in costs):
            continue
        full = sum(p * c[1] for p, c in zip(probabilities, costs, strict=True))
        if full < best_full - 1e-12:
            best_full = full
            best = sum(p * c[0] for p, c in zip(probabilities, costs, strict=True))
    return best


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(inst=instances())
def test_extensive_form_is_brute_force(tmp_path_factory, inst):
    root = tmp_path_factory.mktemp("ef")
    a = inst.write(root / "a")
    # B: demand x2 and penalties / 4; C: the first candidate's FIDs only in the last year.
    b = inst.copy()
    for r in b.tables["demand"]:
        r["units"] *= 2
    for r in b.tables["programs"]:
        r["penalty_usd_per_kg"] /= 4
    c = inst.copy()
    first = next(r for r in c.tables["facilities"] if r.get("status") == "candidate")
    first["earliest_fid"] = c.settings["end_year"]
    folders = [a, b.write(root / "b"), c.write(root / "c")]
    probabilities = [0.5, 0.3, 0.2]
    decide_by = inst.settings["start_year"] + 1
    s = solve_stochastic(read_futures(folders, probabilities), decide_by=decide_by,
                         overrides={"mip_gap": 0.0}, measures=False).summary
    assert s["status"] == "optimal"
    expected = brute_force(folders, probabilities, decide_by)
    assert s["objective_musd"] == pytest.approx(expected, rel=1e-6, abs=1e-5)


def test_stochastic_command(chain, tmp_path, monkeypatch, capsys):
    import pandas as pd

    a, b = chain
    monkeypatch.chdir(tmp_path)
    assert main(["stochastic", str(a), str(b), "--probabilities", "0.5,0.5", "--name", "t"]) \
        == 0, capsys.readouterr().err
    folder = tmp_path / "results" / "stochastic-t"
    measures = pd.read_csv(folder / "measures.csv").set_index("measure").musd
    assert measures["evpi_musd"] == pytest.approx(0.2)
    assert pd.read_csv(folder / "plan.csv").to_dict("records") == [
        {"facility": "line", "fid_year": 2030}]
    assert (folder / "report.html").is_file()


@pytest.mark.parametrize("flags, message", [
    (["--probabilities", "0.5,0.6"], "--probabilities: probabilities must sum to 1"),
    (["--probabilities", "1"], "--probabilities: 1 probabilities for 2 futures"),
    (["--probabilities", "a,b"], "--probabilities: must be numbers separated by commas"),
    (["--cvar-alpha", "1"], "--cvar-alpha: must be at least 0 and below 1"),
    (["--decide-by", "soon"], "--decide-by must be a whole year"),
])
def test_bad_flags_are_exit_2(chain, flags, message, tmp_path, monkeypatch, capsys):
    a, b = chain
    monkeypatch.chdir(tmp_path)
    assert main(["stochastic", str(a), str(b), *flags]) == 2
    assert message in capsys.readouterr().err


def test_held_first_stages_are_few_and_most_probable():
    # The reference first, then the futures' own by summed probability, at most MAX_HELD.
    from optimize.uncertainty.stochastic import MAX_HELD, held_first_stages

    x, y, z = (("x", 2030),), (("y", 2031),), (("z", 2032),)
    own = [x, y, y, z, ()]
    held = held_first_stages((), own, [0.1, 0.2, 0.2, 0.3, 0.2])
    assert MAX_HELD == 3 and held == [(), y, z]
    assert held_first_stages(x, [x] * 100, [0.01] * 100) == [x]
