"""Build small inputs folders in code: a single chain to edit, and helpers to write them."""

from __future__ import annotations

import copy
import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimize.data.registry import CSV_TABLES

EXAMPLE = Path(__file__).resolve().parents[1] / "inputs" / "example"


@dataclass
class Instance:
    """An inputs folder held in memory: settings plus rows per table (table name -> rows)."""

    settings: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def copy(self) -> Instance:
        return copy.deepcopy(self)

    def row(self, table: str, **match: Any) -> dict[str, Any]:
        rows = [r for r in self.tables[table] if all(r.get(k) == v for k, v in match.items())]
        assert len(rows) == 1, (table, match, rows)
        return rows[0]

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for key, value in self.settings.items():
            if isinstance(value, dict):
                continue
            lines.append(f"{key} = {_toml(value)}")

        def table(name: str, values: dict[str, Any]) -> None:
            lines.append(f"[{name}]")
            lines.extend(f'"{k}" = {_toml(v)}' for k, v in values.items()
                         if not isinstance(v, dict))
            for k, v in values.items():
                if isinstance(v, dict):  # a sub-table: [solver.highs]
                    table(f"{name}.{k}", v)

        for key, value in self.settings.items():
            if isinstance(value, dict):
                table(key, value)
        (folder / "settings.toml").write_text("\n".join(lines) + "\n")
        for table in CSV_TABLES:
            rows = self.tables.get(table.name)
            if rows is None:
                continue
            names = [c.name for c in table.columns if any(c.name in r for r in rows)]
            if not rows:
                names = [c.name for c in table.columns if c.required]
            with open(folder / table.file, "w", newline="") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(names)
                for r in rows:
                    w.writerow([_cell(r.get(n)) for n in names])
        return folder


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return repr(v)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ";".join(str(x) for x in v)
    return str(v)


def single_chain(years: range = range(2030, 2033)) -> Instance:
    """One element (Nd), zero prices and operating costs, discount rate 0.

    An existing mine, separation plant and metal plant (recovery 1, metal_per_oxide 1) feed a
    candidate magnet line (capacity 100 t, lead 1, capex 3 MUSD, life 10, yield 1). One program
    needs 10 t/yr of grade G (0.25 kg Nd per kg) from the first year; a missing t costs
    1000 USD/kg = 1 MUSD. Every material step is free, so the objective is capex, less salvage,
    plus penalties.
    """
    existing = dict(status="existing", online_year=2000, capacity_t=1000, variable_usd_per_kg=0,
                    country="US", source="test")
    tables: dict[str, list[dict[str, Any]]] = {
        "elements": [dict(element="Nd", oxide="Nd2O3", metal_per_oxide=1.0)],
        "facilities": [
            dict(facility="mine", stage="mine", payability=0, **existing),
            dict(facility="sep", stage="separation", **existing),
            dict(facility="metal", stage="metal", **existing),
            dict(facility="line", stage="magnet", country="US", status="candidate",
                 capacity_t=100, earliest_fid=years[0], lead_years=1, ramp="1", capex_musd=3,
                 public_share=1, life_years=10, fixed_om_musd=0, variable_usd_per_kg=0,
                 source="test", **{"yield": 1.0}),
        ],
        "assays": [dict(facility="mine", element="Nd", share=1.0)],
        "recoveries": [dict(facility="sep", element="Nd", recovery=1.0),
                       dict(facility="metal", element="Nd", recovery=1.0)],
        "grades": [dict(grade="G", element="Nd", kg_per_kg=0.25)],
        "line_grades": [dict(facility="line", grade="G")],
        "programs": [dict(program="prog", grade="G", kg_per_unit=1000, required_from=years[0],
                          penalty_usd_per_kg=1000, source="test")],
        "demand": [dict(program="prog", year=y, units=10) for y in years],
        "prices": [dict(commodity=c, item=i, year=years[0], usd_per_kg=0, source="test")
                   for c, i in (("oxide", "Nd"), ("metal", "Nd"), ("magnet", "G"))],
    }
    settings = dict(start_year=years[0], end_year=years[-1], discount_rate=0.0,
                    currency_year=2025, mode="min_subsidy",
                    solver=dict(time_limit_s=60.0, mip_gap=0.0, threads=1))
    return Instance(settings, tables)


def copy_example(folder: Path) -> Path:
    """Copy inputs/example into ``folder`` and return it."""
    shutil.copytree(EXAMPLE, folder)
    return folder


def problems(path: Path) -> list[str]:
    """Return the problems loading ``path`` reports (it must be invalid)."""
    import pytest

    from optimize.data.checks import load
    from optimize.errors import InputError

    with pytest.raises(InputError) as info:
        load(path)
    return [str(p) for p in info.value.problems]


def expect(path: Path, *parts: str) -> list[str]:
    """Return the problems of ``path``; one of them must contain every one of ``parts``."""
    found = problems(path)
    assert any(all(part in p for part in parts) for p in found), "\n".join(found)
    return found


def children(pid: int) -> list[int]:
    """Return the pids of ``pid``'s child processes, through /proc (no psutil needed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found
