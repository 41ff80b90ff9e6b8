"""Synthetic inputs folders with the structure of our model, deterministic from a seed and a size.

    python benchmarks/generate.py OUT_DIR --size S|M|L [--seed N] [--offtake 0.5]

Every folder passes `ree-plan validate`. Sizes: S is about the baseline's scale, M has 5x its
facilities, L 20x and a 30-year horizon. By default no mine is tied to a plant, so every mine
may ship to every separation plant (the sizes the benchmark results were measured on);
``--offtake 0.5`` ties half the mines to one or two plants in links.csv, as the baseline
ties 8 of its 16.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from pathlib import Path

ELEMENTS = [("Nd", "Nd2O3", 0.857), ("Pr", "Pr6O11", 0.828), ("Dy", "Dy2O3", 0.871),
            ("Tb", "Tb4O7", 0.850), ("Sm", "Sm2O3", 0.862)]
GRADES = {
    "NdFeB-N": {"Nd": 0.235, "Pr": 0.075},
    "NdFeB-SH": {"Nd": 0.215, "Pr": 0.070, "Dy": 0.030, "Tb": 0.005},
    "NdFeB-EH": {"Nd": 0.190, "Pr": 0.060, "Dy": 0.060, "Tb": 0.010},
    "SmCo": {"Sm": 0.250},
}
OXIDE_PRICE = {"Nd": 55, "Pr": 55, "Dy": 230, "Tb": 900, "Sm": 3}
MAGNET_PRICE = {"NdFeB-N": 50, "NdFeB-SH": 70, "NdFeB-EH": 100, "SmCo": 120}
ALLIED = ["US", "CA", "AU", "SE", "GB", "JP", "FR", "BR", "MY"]


@dataclass(frozen=True)
class Size:
    """How many of each thing to generate."""

    mines: int
    separation: int
    metal: int
    magnet: int
    programs: int
    years: int


SIZES = {
    "S": Size(mines=14, separation=10, metal=6, magnet=10, programs=4, years=20),
    "M": Size(mines=70, separation=50, metal=30, magnet=50, programs=8, years=20),
    "L": Size(mines=280, separation=200, metal=120, magnet=200, programs=16, years=30),
}


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def generate(out: Path, size: Size, seed: int = 0, offtake: float = 0.0) -> Path:
    """Write an inputs folder of the given size into ``out`` and return it.

    ``offtake`` is the share of mines tied to one or two separation plants (links.csv).
    """
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    start, end = 2026, 2026 + size.years - 1
    (out / "settings.toml").write_text(
        f"start_year = {start}\nend_year = {end}\ndiscount_rate = 0.03\ncurrency_year = 2025\n"
        "[solver]\ntime_limit_s = 600\nmip_gap = 0.01\nthreads = 1\n")
    _write(out / "elements.csv", ["element", "oxide", "metal_per_oxide"],
           [list(e) for e in ELEMENTS])
    facilities, assays, recoveries, line_grades = [], [], [], []

    def add(name: str, stage: str, capacity: float, variable: float, capex: float,
            lead: tuple[int, int]) -> None:
        country = "CN" if rng.random() < 0.1 else rng.choice(ALLIED)
        if rng.random() < 0.3:
            facilities.append([name, stage, country, "existing", round(capacity), 2020,
                               round(rng.uniform(0.2, 1), 2), "", "", "", "", "", "", "",
                               variable, 0.35 if stage == "mine" else "",
                               0.75 if stage == "magnet" else "", "", "synthetic"])
        else:
            facilities.append([name, stage, country, "candidate", round(capacity), "", "",
                               start + rng.randint(0, 4), rng.randint(*lead), "0.4;0.7;1",
                               round(capex, 1), round(rng.uniform(0.5, 1), 2),
                               rng.randint(15, 30), round(0.03 * capex, 2), variable,
                               0.35 if stage == "mine" else "",
                               0.75 if stage == "magnet" else "", "", "synthetic"])

    for i in range(size.mines):
        heavy = rng.random() < 0.4
        add(f"mine-{i}", "mine", rng.uniform(500, 5000), rng.uniform(10, 40),
            rng.uniform(100, 1500), (4, 8))
        shares = {"Nd": rng.uniform(0.1, 0.2), "Pr": rng.uniform(0.03, 0.05),
                  "Dy": rng.uniform(0.02, 0.08) if heavy else rng.uniform(0, 0.003),
                  "Tb": rng.uniform(0.003, 0.012) if heavy else rng.uniform(0, 0.0005),
                  "Sm": rng.uniform(0.002, 0.01)}
        assays += [[f"mine-{i}", e, round(s, 5)] for e, s in shares.items()]
    for i in range(size.separation):
        add(f"sep-{i}", "separation", rng.uniform(500, 6000), rng.uniform(8, 16),
            rng.uniform(50, 800), (2, 5))
        heavy = rng.random() < 0.5
        for e, *_ in ELEMENTS:
            if heavy or e in ("Nd", "Pr", "Sm"):
                recoveries.append([f"sep-{i}", e, 0.95])
    for i in range(size.metal):
        add(f"metal-{i}", "metal", rng.uniform(100, 2000), rng.uniform(8, 16),
            rng.uniform(20, 200), (2, 3))
        recoveries += [[f"metal-{i}", e, 0.98] for e, *_ in ELEMENTS]
    for i in range(size.magnet):
        add(f"magnet-{i}", "magnet", rng.uniform(100, 3000), rng.uniform(20, 40),
            rng.uniform(50, 500), (2, 3))
        kinds = ["SmCo"] if rng.random() < 0.25 else ["NdFeB-N", "NdFeB-SH", "NdFeB-EH"]
        line_grades += [[f"magnet-{i}", g] for g in kinds]
    _write(out / "facilities.csv",
           ["facility", "stage", "country", "status", "capacity_t", "online_year",
            "available_share", "earliest_fid", "lead_years", "ramp", "capex_musd",
            "public_share", "life_years", "fixed_om_musd", "variable_usd_per_kg", "payability",
            "yield", "requires", "source"], facilities)
    _write(out / "assays.csv", ["facility", "element", "share"], assays)
    if offtake > 0:
        plants = [f"sep-{i}" for i in range(size.separation)]
        tied = rng.sample(range(size.mines), round(offtake * size.mines))
        _write(out / "links.csv", ["from", "to", "source"],
               [[f"mine-{i}", plant, "synthetic offtake"] for i in sorted(tied)
                for plant in rng.sample(plants, min(rng.choice((1, 1, 2)), len(plants)))])
    _write(out / "recoveries.csv", ["facility", "element", "recovery"], recoveries)
    _write(out / "grades.csv", ["grade", "element", "kg_per_kg"],
           [[g, e, kg] for g, es in GRADES.items() for e, kg in es.items()])
    _write(out / "line_grades.csv", ["facility", "grade"], line_grades)
    programs = [[f"program-{i}", rng.choice(["NdFeB-SH", "NdFeB-EH", "SmCo"]), 1000, 2027,
                 rng.choice([500, 1000, 2000]), "synthetic"] for i in range(size.programs)]
    _write(out / "programs.csv", ["program", "grade", "kg_per_unit", "required_from",
                                  "penalty_usd_per_kg", "source"], programs)
    _write(out / "demand.csv", ["program", "year", "units"],
           [[p[0], y, rng.randint(10, 120)] for p in programs for y in range(start, end + 1)])
    prices = [["oxide", e, start, OXIDE_PRICE[e], "synthetic"] for e, *_ in ELEMENTS]
    prices += [["metal", e, start, round(OXIDE_PRICE[e] / mpo * 1.15, 2), "synthetic"]
               for e, _, mpo in ELEMENTS]
    prices += [["magnet", g, start, p, "synthetic"] for g, p in MAGNET_PRICE.items()]
    _write(out / "prices.csv", ["commodity", "item", "year", "usd_per_kg", "source"], prices)
    _write(out / "funding.csv",
           ["program", "countries", "stages", "covers", "first_year", "last_year", "annual_musd",
            "total_musd", "source"],
           [["US-DoD", "US;CA;AU;GB", "mine;separation;metal;magnet", "both", start, end,
             60 * size.programs, "", "synthetic"],
            ["EU-CRMA", "SE;FR", "mine;separation;metal;magnet", "both", start, end,
             20 * size.programs, "", "synthetic"],
            ["JP-JOGMEC", "AU;JP;MY", "mine;separation", "capex", start, end,
             10 * size.programs, "", "synthetic"]])
    return out


def main() -> int:
    """Parse arguments and generate one folder."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--size", choices=sorted(SIZES), default="S")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--offtake", type=float, default=0.0,
                   help="share of mines tied to one or two separation plants (default 0)")
    args = p.parse_args()
    generate(args.out, SIZES[args.size], args.seed, args.offtake)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
