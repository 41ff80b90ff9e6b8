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


def test_python_dash_m_and_write_lp(tmp_path):
    import subprocess
    import sys

    lp = tmp_path / "model.lp"
    done = subprocess.run([sys.executable, "-m", "optimize", "solve", "inputs/example", "--out",
                           str(tmp_path / "run"), "--write-lp", str(lp), "--mip-gap", "0.001",
                           "--threads", "1", "--mode", "max_coverage"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "status: optimal" in done.stdout
    text = lp.read_text()
    assert "fund_at_most_once" in text and "demand_met" in text
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["mode"] == "max_coverage"
    assert summary["solver_options"]["mip_gap"] == 0.001
    assert [s["stage"] for s in summary["solve_stages"]] == ["min_shortfall", "min_subsidy"]


def test_validate_prints_a_one_line_verdict(capsys):
    assert main(["validate", "inputs/example"]) == 0
    assert "valid (9 facilities, 2 programs, 2026-2040)" in capsys.readouterr().out


def test_unwritable_output_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["solve", "inputs/example", "--out", str(blocker / "run")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and "bug" not in err


def test_public_api_names_resolve_lazily():
    import subprocess
    import sys

    import optimize

    for name in optimize.__all__:
        assert getattr(optimize, name) is not None, name
    try:
        optimize.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("unknown names must raise AttributeError")
    code = "import sys, optimize; print('highspy' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"], "import optimize should not load HiGHS or pandas"
