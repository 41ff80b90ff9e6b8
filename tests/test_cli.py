import json

from optimize.cli import main


def test_solve_example_writes_every_table(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["solve", "inputs/example", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "status: optimal" in printed
    assert "heavy-hardrock-mine" in printed
    for name in ("summary.json", "plan.csv", "capacity.csv", "flows.csv", "deliveries.csv",
                 "finance.csv", "funding.csv"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["n_binaries"] > 0
