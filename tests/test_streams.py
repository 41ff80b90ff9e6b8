"""Intermediate streams (streams.csv, stream_split): a light circuit's heavy fraction.

Tiny instances with optima derived by hand, and the input checks of streams.csv.
"""

from __future__ import annotations

import pytest
from instances import Instance, expect, single_chain


def light_and_heavy(**stream: object) -> Instance:
    """Nd and Dy through a light plant that passes its Dy on to a heavy plant.

    From single_chain: horizon 2030-2032, discount 0, prices and operating costs 0, a t short
    costs 1 MUSD. Here the magnet line exists (capacity 100, yield 1); grade G needs 0.2 kg
    Nd and 0.02 kg Dy per kg, the program 10 t/yr (2 t Nd, 0.2 t Dy). The mine ships at most
    4 t/yr of concentrate (Nd 0.5, Dy 0.1) and only to ``light``, which recovers all its Nd
    and no Dy. ``heavy`` (recovery 0.5 of Dy) gets Dy only through the stream
    ``light -> heavy`` (yield 0.8, or as given). Metal plant recovery 1, metal_per_oxide 1.
    """
    inst = single_chain()
    inst.tables["elements"].append(dict(element="Dy", oxide="Dy2O3", metal_per_oxide=1.0))
    fac = inst.tables["facilities"]
    fac[0].update(capacity_t=4)
    fac[1].update(facility="light")
    fac.insert(2, dict(fac[1], facility="heavy"))
    line = inst.row("facilities", facility="line")
    line.update(status="existing", online_year=2000, capacity_t=100)
    for key in ("earliest_fid", "lead_years", "ramp", "capex_musd", "life_years",
                "fixed_om_musd"):
        line.pop(key)
    inst.tables["assays"] = [dict(facility="mine", element="Nd", share=0.5),
                             dict(facility="mine", element="Dy", share=0.1)]
    inst.tables["recoveries"] = [dict(facility="light", element="Nd", recovery=1.0),
                                 dict(facility="heavy", element="Dy", recovery=0.5),
                                 dict(facility="metal", element="Nd", recovery=1.0),
                                 dict(facility="metal", element="Dy", recovery=1.0)]
    inst.tables["grades"] = [dict(grade="G", element="Nd", kg_per_kg=0.2),
                             dict(grade="G", element="Dy", kg_per_kg=0.02)]
    inst.tables["prices"] += [dict(commodity=c, item="Dy", year=2030, usd_per_kg=0, source="t")
                              for c in ("oxide", "metal")]
    inst.tables["links"] = [{"from": "mine", "to": "light"}]
    inst.tables["streams"] = [{"from": "light", "to": "heavy", "element": "Dy", "yield": 0.8,
                               "source": "test", **stream}]
    return inst


def test_a_stream_carries_the_heavy_fraction_on(solve_checked):
    # Per t of concentrate, light passes 0.1 Dy x (1 - 0) x 0.8 = 0.08 t Dy oxide to heavy,
    # which recovers half: 0.04 t. 4 t/yr -> 0.16 t Dy -> 0.16 / 0.02 = 8 t of magnets (Nd
    # would allow 4 x 0.5 / 0.2 = 10). Short 2 t/yr x 3 years = 6 MUSD. Without the stream
    # there is no clean Dy at all: 30 MUSD.
    r = solve_checked(light_and_heavy())
    assert r.summary["objective_musd"] == pytest.approx(6.0, abs=1e-6)
    flows = r.tables["flows"]
    heavy = flows[flows.commodity == "heavy-concentrate"]
    assert set(zip(heavy.source, heavy.target, heavy.item, heavy.provenance, strict=True)) == {
        ("light", "heavy", "Dy", "clean")}
    assert heavy.tonnes.tolist() == pytest.approx([0.32] * 3)
    used = r.tables["capacity"].set_index(["facility", "year"]).used_t
    assert used["heavy", 2031] == pytest.approx(0.32)
    without = light_and_heavy()
    del without.tables["streams"]
    assert solve_checked(without).summary["objective_musd"] == pytest.approx(30.0, abs=1e-6)


def test_a_stream_counts_against_the_receivers_feed_capacity(solve_checked):
    # heavy takes in at most 0.25 t/yr: of the 0.32 t Dy oxide the stream could bring, 0.25
    # enter, 0.125 t Dy is recovered -> 6.25 t magnets, short 3.75 t/yr: 11.25 MUSD.
    inst = light_and_heavy()
    inst.row("facilities", facility="heavy")["capacity_t"] = 0.25
    r = solve_checked(inst)
    assert r.summary["objective_musd"] == pytest.approx(11.25, abs=1e-6)


def test_a_stream_through_a_covered_plant_is_tainted(solve_checked):
    # heavy in China: its Dy is tainted and cannot reach the program: 30 MUSD. Light in
    # China taints the stream (and its Nd) likewise.
    for plant in ("heavy", "light"):
        inst = light_and_heavy()
        inst.row("facilities", facility=plant)["country"] = "CN"
        r = solve_checked(inst)
        assert r.summary["objective_musd"] == pytest.approx(30.0, abs=1e-6)
        flows = r.tables["flows"]
        heavy = flows[flows.commodity == "heavy-concentrate"]
        assert set(heavy.provenance) <= {"tainted" if plant == "light" else "clean"}


def test_what_the_upstream_plant_recovers_is_not_passed(solve_checked):
    # light now recovers 0.75 of the Dy itself (sold to the market or used): 0.1 x 0.75 =
    # 0.075 t Dy per t, 0.3 t/yr, enough for 15 t of magnets; Nd allows 10. Nothing short: 0.
    # The stream gets only the 0.25 left: 0.1 x 0.25 x 0.8 = 0.02 t per t, 0.08 t/yr at most.
    inst = light_and_heavy()
    inst.tables["recoveries"].append(dict(facility="light", element="Dy", recovery=0.75))
    r = solve_checked(inst)
    assert r.summary["objective_musd"] == pytest.approx(0.0, abs=1e-6)
    flows = r.tables["flows"]
    heavy = flows[flows.commodity == "heavy-concentrate"]
    assert (heavy.tonnes <= 0.08 + 1e-9).all()


def test_a_stream_is_paid_at_the_oxide_value_the_receiver_recovers(solve_checked):
    # Dy oxide at 100 USD/kg: light passes 0.32 t/yr, of which heavy recovers 0.16 t worth
    # 100 x 160 kg = 0.016 MUSD. light earns that for the stream; heavy pays it and earns it
    # back on its oxide, and its variable cost (10 USD/kg) falls on concentrate only, of
    # which it takes none: its cost is 0.016, not 0.016 + 10 x 320 kg. The metal plant
    # breaks even (Dy metal at 100 too); the line buys 0.016 MUSD of Dy metal a year for
    # magnets priced 0 and is supported: 6 + 3 x 0.016 = 6.048.
    inst = light_and_heavy()
    inst.row("prices", commodity="oxide", item="Dy")["usd_per_kg"] = 100
    inst.row("prices", commodity="metal", item="Dy")["usd_per_kg"] = 100
    inst.row("facilities", facility="heavy")["variable_usd_per_kg"] = 10
    r = solve_checked(inst)
    assert r.summary["objective_musd"] == pytest.approx(6.048, abs=1e-6)
    fin = r.tables["finance"].set_index(["facility", "year"])
    assert fin.revenue_musd["light", 2031] == pytest.approx(0.016)
    assert fin.revenue_musd["heavy", 2031] == pytest.approx(0.016)
    assert fin.cost_musd["heavy", 2031] == pytest.approx(0.016)


@pytest.mark.parametrize(("row", "column", "message"), [
    ({"from": "mine"}, "from", "'mine' is a mine: a stream joins two separation plants"),
    ({"to": "metal"}, "to", "'metal' is a metal: a stream joins two separation plants"),
    ({"to": "heavvy"}, "to", "unknown facility 'heavvy'; did you mean 'heavy'?"),
    ({"element": "Tb"}, "element", "unknown element 'Tb'"),
    ({"element": "Nd"}, "element", "'heavy' cannot separate Nd (no row in recoveries.csv)"),
    ({"to": "light"}, "to", "'light' cannot pass a stream to itself"),
    ({"yield": 0}, "yield", ""),
])
def test_bad_streams_are_reported_with_file_row_and_column(tmp_path, row, column, message):
    folder = light_and_heavy(**row).write(tmp_path / "in")
    expect(folder, "streams.csv, row 2, column " + column, message)


def test_a_cycle_of_streams_is_reported(tmp_path):
    inst = light_and_heavy()
    inst.tables["recoveries"].append(dict(facility="light", element="Dy", recovery=0.5))
    inst.tables["streams"].append({"from": "heavy", "to": "light", "element": "Dy",
                                   "source": "test"})
    expect(inst.write(tmp_path / "in"), "streams.csv, row 3, column from",
           "'heavy' receives a stream (row 2) and passes one on (a cycle)")


def test_nothing_to_pass_is_reported(tmp_path):
    inst = light_and_heavy()
    inst.tables["recoveries"].append(dict(facility="light", element="Dy", recovery=1.0))
    expect(inst.write(tmp_path / "in"), "streams.csv, row 2, column element",
           "'light' recovers all its Dy (recovery 1): nothing is left to pass on")


def test_bad_streams_exit_2(tmp_path):
    from optimize.cli import main

    folder = light_and_heavy(**{"from": "mine"}).write(tmp_path / "in")
    assert main(["validate", str(folder)]) == 2
