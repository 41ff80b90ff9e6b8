"""Hypothesis strategies: random tiny but complete chains (at most 4 candidates, 3 FID years).

Measured on 60 derandomized draws (2026-11-29): 18 fund a project, 25 deliver clean magnets,
9 pay through funding programs, 5 carry tainted flows, 4 buy from offers; of 60 draws
(2026-12-01) 32 have a line with qualification years (17 a candidate line), 21 a
commercial program and 22 an allied-defense one. The simplest draw
is a working chain; variation then breaks it in the ways the model must handle.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from instances import Instance

START = 2030
# The first facility of each stage is allied, so that most chains can reach a program;
# the alternatives (a second mine, plant or line) may be in China and taint what they make.
ALLIED = ("US", "CA", "AU")
ANY = ("US", "CN", "CA", "AU")
STAGES = "mine;separation;metal;magnet"


def money(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.integers(int(lo * 10), int(hi * 10)).map(lambda v: v / 10)


@st.composite
def facility(draw: Any, name: str, stage: str, end: int, candidate: bool) -> dict[str, Any]:
    hosts = ALLIED if name.endswith("0") else ANY
    row: dict[str, Any] = dict(
        facility=name, stage=stage, country=draw(st.sampled_from(hosts)),
        capacity_t=draw(st.integers(20, 200)), variable_usd_per_kg=draw(money(0, 10)),
        source="hypothesis",
    )
    if candidate:
        # At most 3 FID years (end - 2 .. end) keeps brute-force enumeration small.
        row.update(status="candidate", earliest_fid=draw(st.integers(max(START, end - 2),
                                                                     end - 1)),
                   lead_years=draw(st.integers(1, 2)), ramp=draw(st.sampled_from(["1", "0.5;1"])),
                   capex_musd=draw(money(0.5, 30)), public_share=draw(st.sampled_from([0.5, 1])),
                   life_years=draw(st.integers(2, 15)), fixed_om_musd=draw(money(0, 1)))
    else:
        row.update(status="existing", online_year=draw(st.integers(START - 5, START)),
                   available_share=draw(st.sampled_from([0.5, 1])))
    if stage == "mine":
        row["payability"] = draw(st.sampled_from([0.2, 0.4]))
    if stage == "magnet":
        row["yield"] = draw(st.sampled_from([0.75, 1.0]))
    return row


@st.composite
def instances(draw: Any, with_funding: bool | None = None) -> Instance:
    """Draw a small valid inputs folder exercising provenance, budgets, offers and phases."""
    end = START + draw(st.integers(2, 3))
    years = range(START, end + 1)
    layout = [("mine", draw(st.integers(1, 2))), ("separation", draw(st.integers(1, 2))),
              ("metal", 1), ("magnet", draw(st.integers(1, 2)))]
    names = [(f"{stage}{i}", stage) for stage, n in layout for i in range(n)]
    candidates = set(draw(st.lists(st.sampled_from([n for n, _ in names]), min_size=1,
                                   max_size=4, unique=True)))
    facilities = [draw(facility(n, stage, end, n in candidates)) for n, stage in names]
    by_stage = {s: [f["facility"] for f in facilities if f["stage"] == s] for s, _ in layout}

    tables: dict[str, list[dict[str, Any]]] = {
        "elements": [dict(element="Nd", oxide="Nd2O3", metal_per_oxide=0.857),
                     dict(element="Dy", oxide="Dy2O3", metal_per_oxide=0.871)],
        "facilities": facilities,
        "grades": [dict(grade="A", element="Nd", kg_per_kg=0.3),
                   dict(grade="B", element="Nd", kg_per_kg=0.25),
                   dict(grade="B", element="Dy", kg_per_kg=0.05)],
    }
    tables["assays"] = [
        row for m in by_stage["mine"]
        for row in (dict(facility=m, element="Nd", share=draw(money(0.1, 0.5))),
                    dict(facility=m, element="Dy", share=draw(money(0.02, 0.2))))
    ]
    tables["recoveries"] = [dict(facility=f, element="Nd", recovery=0.95)
                            for f in by_stage["separation"] + by_stage["metal"]]
    tables["recoveries"] += [dict(facility=f, element="Dy", recovery=0.9)
                             for f in by_stage["separation"] + by_stage["metal"]
                             if f in by_stage["metal"] or not draw(st.booleans())]
    tables["line_grades"] = [
        dict(facility=ln, grade=g) for ln in by_stage["magnet"]
        for g in draw(st.sampled_from([["A"], ["B"], ["A", "B"]]))
    ]
    lines = by_stage["magnet"]
    if len(lines) == 2 and all(ln in candidates for ln in lines) and draw(st.booleans()):
        facilities[-1]["requires"] = lines[0]
    programs = draw(st.lists(st.sampled_from(["A", "B"]), min_size=1, max_size=2, unique=True))
    tables["programs"] = [dict(program=f"prog{g}", grade=g, kg_per_unit=1000,
                               required_from=draw(st.integers(START, START + 1)),
                               penalty_usd_per_kg=draw(st.sampled_from([20000, 5000, 500])),
                               source="hypothesis") for g in programs]
    tables["demand"] = [dict(program=p["program"], year=y, units=draw(st.integers(1, 20)))
                        for p in tables["programs"] for y in years]
    nd, dy = draw(money(20, 80)), draw(money(100, 400))
    tables["prices"] = [
        dict(commodity="oxide", item="Nd", year=START, usd_per_kg=nd, source="h"),
        dict(commodity="oxide", item="Dy", year=START, usd_per_kg=dy, source="h"),
        dict(commodity="metal", item="Nd", year=START, usd_per_kg=round(nd * 1.3, 2), source="h"),
        dict(commodity="metal", item="Dy", year=START, usd_per_kg=round(dy * 1.3, 2), source="h"),
        dict(commodity="magnet", item="A", year=START, usd_per_kg=draw(money(20, 120)),
             source="h"),
        dict(commodity="magnet", item="B", year=START, usd_per_kg=draw(money(40, 160)),
             source="h"),
    ]
    if draw(st.booleans()):
        provenance = draw(st.sampled_from(["clean", "tainted"]))
        tables["offers"] = [dict(offer="dy-offer", year=y, commodity="oxide", item="Dy",
                                 provenance=provenance, max_t=draw(st.integers(0, 3)),
                                 usd_per_kg=draw(money(50, 900)), source="h") for y in years]
    funded = draw(st.booleans()) if with_funding is None else with_funding
    if funded:
        tables["funding"] = [
            dict(program="G1", countries="US;CA;AU", stages=STAGES,
                 covers=draw(st.sampled_from(["both", "capex"])), first_year=START,
                 last_year=end, annual_musd=draw(money(1, 30)),
                 total_musd=draw(st.one_of(st.none(), money(5, 60))), source="h"),
            dict(program="G2", countries="AU", stages=draw(st.sampled_from(
                ["mine;separation", STAGES])), covers=draw(st.sampled_from(["both",
                                                                            "operating"])),
                 first_year=START, last_year=end, annual_musd=draw(money(1, 30)), source="h"),
        ]
    if draw(st.booleans()) and len(by_stage["separation"]) == 2:
        tables["links"] = [dict(**{"from": by_stage["mine"][0], "to": by_stage["separation"][0]})]
    settings = dict(start_year=START, end_year=end,
                    discount_rate=draw(st.sampled_from([0.0, 0.03, 0.08])), currency_year=2025,
                    solver=dict(time_limit_s=60.0, mip_gap=0.0, threads=1))
    # Finite stocks (stock_limit): a mine's reserve or an offer's total over the horizon,
    # drawn last so that the draws above stay as they were.
    mine_total = draw(st.one_of(st.none(), st.integers(0, 300)))
    if mine_total is not None:
        facilities[0]["total_t"] = mine_total
    offer_total = draw(st.one_of(st.none(), st.integers(0, 6)))
    if offer_total is not None:
        for row in tables.get("offers", []):
            row["total_t"] = offer_total
    # Deals in force (floor_payment, committed budgets) and a committed facility, drawn
    # after everything else for the same reason.
    deals = []
    if draw(st.booleans()):
        seller = draw(st.sampled_from([("separation0", "oxide", "Nd"), ("metal0", "metal", "Nd"),
                                       ("magnet0", "magnet", programs[0])]))
        deals.append(dict(deal="floor", kind="floor", program="G1", facility=seller[0],
                          commodity=seller[1], item=seller[2], usd_per_kg=draw(money(0, 200)),
                          share=draw(st.sampled_from([0.5, 1])), first_year=START,
                          last_year=draw(st.integers(START, end)), source="h"))
    if draw(st.booleans()):
        deals.append(dict(deal="grant", kind="grant", program="G1", facility="mine0",
                          musd=draw(st.sampled_from([0.5, 1.0])), first_year=START + 1,
                          last_year=end, source="h"))
    if deals:
        tables["deals"] = deals
    existing = [f for f in facilities if f["status"] == "existing"]
    committed = draw(st.one_of(st.none(), st.sampled_from(existing))) if existing else None
    if committed is not None:
        committed.update(status="committed", ramp=draw(st.sampled_from(["0.5;1", "0;0.5"])),
                         online_year=draw(st.integers(START - 1, START + 1)))
    # Qualification (qualified_delivery) and competing demand (buyer), drawn last too: a
    # magnet line may need qualification years before serving defense programs, and a
    # program may be allied defense or a commercial China-free target.
    for row in facilities:
        if row["stage"] == "magnet":
            row["qualification_years"] = draw(st.sampled_from([0, 0, 1, 2]))
    for row in tables["programs"]:
        row["buyer"] = draw(st.sampled_from(["us-defense", "allied-defense", "commercial"]))
    # Intermediate streams (stream_split): one separation plant, a light circuit that
    # separates no Dy, passes its Dy (and maybe its unrecovered Nd) to the other, which
    # gets a Dy recovery if it had none and runs from the start, allied (a heavy circuit in place,
    # as Lynas's and MP's are, so that most such draws carry a stream); drawn last.
    seps = by_stage["separation"]
    if len(seps) == 2 and draw(st.integers(0, 3)):
        sender, receiver = draw(st.permutations(seps))
        heavy = next(f for f in facilities if f["facility"] == receiver)
        if heavy["status"] != "existing":
            for key in ("earliest_fid", "lead_years", "ramp", "capex_musd", "public_share",
                        "life_years", "fixed_om_musd"):
                heavy.pop(key, None)
            heavy.update(status="existing", online_year=START, available_share=1)
        heavy["country"] = "US"  # the sender may still be in China and taint the stream
        tables["recoveries"] = [r for r in tables["recoveries"]
                                if (r["facility"], r["element"]) != (sender, "Dy")]
        if not any(r["facility"] == receiver and r["element"] == "Dy"
                   for r in tables["recoveries"]):
            tables["recoveries"].append(dict(facility=receiver, element="Dy", recovery=0.9))
        tables["streams"] = [{"from": sender, "to": receiver, "element": e,
                              "yield": draw(st.sampled_from([0.5, 1.0])), "source": "h"}
                             for e in draw(st.sampled_from([["Dy"], ["Dy", "Nd"]]))]
    return Instance(settings, tables)
