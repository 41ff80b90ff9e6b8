"""Futures from distributions: enumeration, seeded sampling, and what each outcome changes."""

from __future__ import annotations

import pandas as pd
import pytest
from instances import EXAMPLE, single_chain

from optimize.cli import main
from optimize.data.checks import load

SET = """base = "in"
seed = 3
{sample}
[[uncertain]]
name = "permit"
kind = "permit"
facility = "line"
probability = 0.6

[[uncertain]]
name = "slip"
kind = "slip"
facilities = ["line"]
years = [0, 1]
probabilities = [0.75, 0.25]

[[uncertain]]
name = "magnets"
kind = "price"
where = {{ commodity = "magnet" }}
{price}
"""


def write_set(tmp_path, sample="", price="multipliers = [1.0, 2.0]"):
    single_chain().write(tmp_path / "in")
    path = tmp_path / "set.toml"
    path.write_text(SET.format(sample=sample, price=price))
    return path


def test_enumerated_futures(tmp_path, monkeypatch, capsys):
    path = write_set(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["futures", str(path), "--name", "e"]) == 0, capsys.readouterr().err
    folder = tmp_path / "results" / "futures-e"
    t = pd.read_csv(folder / "futures.csv")
    assert len(t) == 8
    assert t.probability.sum() == pytest.approx(1.0)
    first = t.iloc[0]
    assert (first.permit, first.slip, first.magnets) == ("granted", 0, 1.0)
    assert first.probability == pytest.approx(0.6 * 0.75 * 0.5)
    # What the outcomes do to the inputs.
    row = t[(t.permit == "denied") & (t.slip == 1) & (t.magnets == 2.0)].iloc[0]
    data = load(folder / row.file)
    assert "line" not in data.facilities
    assert max(v for (c, _, _), v in data.prices.items() if c == "magnet") == 0.0
    row = t[(t.permit == "granted") & (t.slip == 1)].iloc[0]
    assert load(folder / row.file).facilities["line"].earliest_fid == 2031
    # The futures folder feeds the stochastic program, probabilities and all.
    assert main(["stochastic", "--futures", str(folder), "--name", "f"]) == 0, \
        capsys.readouterr().err
    s = pd.read_csv(tmp_path / "results" / "stochastic-f" / "objectives.csv")
    assert s.probability.tolist() == pytest.approx(t.probability.tolist())


def test_sampling_is_reproducible_from_the_seed(tmp_path, monkeypatch):
    path = write_set(tmp_path, sample="sample = 6", price="uniform = [0.5, 1.5]")
    monkeypatch.chdir(tmp_path)
    assert main(["futures", str(path), "--name", "a"]) == 0
    assert main(["futures", str(path), "--name", "b"]) == 0
    a = pd.read_csv(tmp_path / "results" / "futures-a" / "futures.csv")
    b = pd.read_csv(tmp_path / "results" / "futures-b" / "futures.csv")
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 6 and a.probability.tolist() == pytest.approx([1 / 6] * 6)
    assert a.magnets.between(0.5, 1.5).all()
    path.write_text(path.read_text().replace("seed = 3", "seed = 4"))
    assert main(["futures", str(path), "--name", "c"]) == 0
    c = pd.read_csv(tmp_path / "results" / "futures-c" / "futures.csv")
    assert c.magnets.tolist() != a.magnets.tolist()


def test_a_supply_cut_stops_tainted_offers_from_its_year(tmp_path, monkeypatch):
    path = tmp_path / "cut.toml"
    path.write_text(f'base = "{EXAMPLE}"\n[[uncertain]]\nname = "cut"\nkind = "supply_cut"\n'
                    'items = ["Dy"]\nyears = [2030]\nprice_multiplier = 2\n')
    monkeypatch.chdir(tmp_path)
    assert main(["futures", str(path), "--name", "cut"]) == 0
    base, cut = load(EXAMPLE), load(tmp_path / "results" / "futures-cut" / "future-001.toml")
    tainted = [k for k in base.offers if base.offers[k].usd_per_kg and "china" in k[0]
               and k[0].endswith("dy-oxide")]
    assert tainted
    for (offer, year) in tainted:
        assert cut.offers[offer, year].max_t == (0.0 if year >= 2030
                                                 else base.offers[offer, year].max_t)
    for (c, item, year), price in base.prices.items():
        if item == "Dy" and c in ("oxide", "metal"):
            want = price * 2 if year >= 2030 else price
            assert cut.prices[c, item, year] == pytest.approx(want)


@pytest.mark.parametrize("replace, message", [
    (('kind = "slip"', 'kind = "slide"'), "set.toml: uncertain 2 (slip), kind: must be one of "
                                          "permit, slip, price, supply_cut, got 'slide'"),
    (("multipliers = [1.0, 2.0]", "uniform = [0.5, 1.5]"),
     "set.toml: uncertain 3 (magnets), uniform: a continuous distribution can only be sampled"),
    (("probabilities = [0.75, 0.25]", "probabilities = [0.75, 0.5]"),
     "set.toml: uncertain 2 (slip), probabilities: must be 2 numbers between 0 and 1 summing"),
    (("years = [0, 1]", "years = [0, 9]"), "set.toml: future-003 (permit: granted; slip: 9; "
                                           "magnets: 1.0): facilities.csv, row 5, column "
                                           "earliest_fid: year 2039 is outside"),
])
def test_bad_set_files_are_exit_2(tmp_path, replace, message, monkeypatch, capsys):
    path = write_set(tmp_path)
    path.write_text(path.read_text().replace(*replace))
    monkeypatch.chdir(tmp_path)
    assert main(["futures", str(path)]) == 2
    assert message in capsys.readouterr().err
