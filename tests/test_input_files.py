"""Reading input files: only regular files, within limits, never a hang or a traceback.

Every case is invalid input (exit 2) with a message naming the file (and the row where
there is one), and every unreadable file is reported at once.
"""

from __future__ import annotations

import codecs
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from instances import EXAMPLE, copy_example, expect, problems

from optimize.cli import main
from optimize.data import files, load
from optimize.data.checks import load as load_data
from optimize.data.checks import load_inputs
from optimize.data.registry import ELEMENTS


@pytest.fixture
def example(tmp_path):
    return copy_example(tmp_path / "inputs")


def replace_with(path: Path, make) -> None:
    path.unlink()
    make(path)


def test_a_link_to_dev_zero_a_pipe_and_a_folder_are_reported_at_once(example):
    replace_with(example / "funding.csv", lambda p: p.symlink_to("/dev/zero"))
    replace_with(example / "links.csv", os.mkfifo)
    replace_with(example / "offers.csv", os.mkdir)
    found = problems(example)
    assert any(p.startswith("funding.csv: is a device") for p in found), found
    assert any(p.startswith("links.csv: is a pipe (FIFO)") for p in found), found
    assert any(p.startswith("offers.csv: is a folder, not a file") for p in found), found


def test_a_pipe_never_hangs_the_command_line(example):
    replace_with(example / "prices.csv", os.mkfifo)
    done = subprocess.run([sys.executable, "-m", "optimize", "validate", str(example)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "prices.csv: is a pipe (FIFO)" in done.stderr
    assert "Traceback" not in done.stderr


def test_settings_and_a_scenario_file_may_not_be_devices_either(example, tmp_path):
    replace_with(example / "settings.toml", lambda p: p.symlink_to("/dev/zero"))
    expect(example, "settings.toml: is a device")
    scenario = tmp_path / "s.toml"
    scenario.symlink_to("/dev/zero")
    expect(scenario, "s.toml: cannot read scenario file: is a device")
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    expect(fifo, "f.toml: cannot read scenario file: is a pipe")


def test_an_unreadable_file_is_invalid_input(example, monkeypatch, capsys):
    """Permissions cannot be tested by chmod when the tests run as root: refuse the open."""
    real_open = os.open

    def deny(path, flags, *args, **kwargs):
        if str(path).endswith("grades.csv"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", deny)
    expect(example, "grades.csv: cannot be read: permission denied")
    assert main(["validate", str(example)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_broken_link_is_not_a_missing_optional_file(example):
    replace_with(example / "links.csv", lambda p: p.symlink_to(example / "nowhere.csv"))
    expect(example, "links.csv: is a link to a missing file")


def test_a_link_to_a_regular_file_is_read(example):
    target = example.parent / "elsewhere.csv"
    (example / "links.csv").rename(target)
    (example / "links.csv").symlink_to(target)
    load_data(example)


def test_a_file_over_the_size_limit_is_refused(example, monkeypatch):
    with open(example / "prices.csv", "a") as fh:
        fh.write("# padding\n" * 1000)
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 9000)
    found = expect(example, "prices.csv: is larger than 9,000 bytes", "is this the right file?")
    assert not any("no price" in p for p in found), found


def test_reading_stops_at_the_limit_even_when_the_size_is_not_known(tmp_path):
    """A file whose size stat does not tell (it grows while read) is cut at the limit."""
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 5000)
    with pytest.raises(files.FileProblem, match="larger than"):
        files._read_at_most(os.open(path, os.O_RDONLY), 1000)


def test_a_cell_over_the_csv_field_limit_names_file_and_row(example):
    with open(example / "prices.csv", "a") as fh:
        fh.write(f'oxide,Nd,2030,55,"{"x" * (csv.field_size_limit() + 10)}"\n')
    found = expect(example, "prices.csv, row 16", "a cell is longer than 131,072 characters",
                   "the rest of the file is not read")
    assert all(len(p) < 500 for p in found)


def test_a_row_over_the_row_limit_is_refused(example, monkeypatch):
    longest = max(len(line) for f in example.glob("*.csv") for line in f.open())
    monkeypatch.setattr(load, "MAX_ROW_CHARS", longest + 10)
    with open(example / "grades.csv", "a") as fh:
        fh.write("SmCo,Sm," + "0" * (longest + 10) + "\n")
    found = expect(example, "grades.csv, row 13", f"the row is longer than {longest + 10:,} "
                   "characters")
    assert not any("unknown grade" in p for p in found), found


def test_too_many_rows_or_columns(example, monkeypatch):
    monkeypatch.setattr(load, "MAX_ROWS", 20)
    expect(example, "demand.csv, row 22", "more than 20 rows")
    monkeypatch.setattr(load, "MAX_ROWS", 100_000)
    text = (example / "links.csv").read_text().splitlines()
    (example / "links.csv").write_text(",".join(["x"] * 150) + "\n" + "\n".join(text[1:]))
    expect(example, "links.csv, row 1", "the header has 150 columns; at most 100 are read")


def test_many_repeated_header_names_are_found_quickly(example):
    (example / "links.csv").write_text(",".join(["from"] * 99) + "\n")
    expect(example, "links.csv, row 1, column from", "more than once")


def test_a_quote_never_closed_is_not_a_silently_swallowed_file(example):
    lines = (example / "prices.csv").read_text().splitlines()
    lines[3] = 'oxide,Dy,2026,230,"a source whose quote is never closed'
    (example / "prices.csv").write_text("\n".join(lines) + "\n")
    found = expect(example, "prices.csv, row 4", "never closed")
    assert not any("no price" in p for p in found), found
    lines[3] = 'oxide,Dy,2026,230,"a source" with more text'
    (example / "prices.csv").write_text("\n".join(lines) + "\n")
    expect(example, "prices.csv, row 4", "followed by more text")


def test_line_breaks_are_kept_in_free_text_and_refused_elsewhere(example):
    with open(example / "grades.csv", "a") as fh:
        fh.write('SmCo,Gd,0.01,"first line\nsecond line"\n')
    with open(example / "elements.csv", "a") as fh:
        fh.write('Gd,Gd2O3,0.868,"a note\r\nover two lines"\n')
    raw = load.read_raw(example, ELEMENTS, [])
    assert raw.rows[-1]["notes"] == "a note\r\nover two lines"  # kept as written
    with open(example / "programs.csv", "a") as fh:
        fh.write('"new\nprogram",SmCo,2,2027,800,"a source\nover lines"\n')
    found = expect(example, "programs.csv, row 4, column program",
                   "holds a line break (a quoted cell spanning lines); only free text")
    assert not any("column source" in p for p in found), found
    assert not any("elements.csv" in p for p in found), found


def test_a_quoted_cell_with_a_line_break_reports_the_row_where_it_starts(example):
    with open(example / "grades.csv", "a") as fh:
        fh.write('SmCo,Sm,"0.0\n1"\nSmCo,Xx,0.1\n')
    expect(example, "grades.csv, row 13, column kg_per_kg", "line break")
    expect(example, "grades.csv, row 15, column element", "unknown element 'Xx'")


def test_a_byte_order_mark_is_accepted_in_settings_and_scenario_files(example, tmp_path):
    settings = example / "settings.toml"
    settings.write_bytes(codecs.BOM_UTF8 + settings.read_bytes())
    load_data(example)
    scenario = tmp_path / "bom.toml"
    scenario.write_bytes(codecs.BOM_UTF8 + f'base = "{example}"\n'.encode())
    assert load_inputs(scenario).name == "bom"


def test_an_upper_case_suffix_is_a_scenario_file(tmp_path, capsys):
    scenario = tmp_path / "LOUD.TOML"
    scenario.write_text(f'base = "{EXAMPLE}"\n')
    assert load_inputs(scenario).name == "LOUD"
    assert main(["validate", str(scenario)]) == 0


def test_latin1_bytes_name_the_file_and_line(example, tmp_path):
    (example / "grades.csv").write_bytes("grade,element,kg_per_kg\nNdFeB-N,Nd,0.2\nN\xe9,Nd,0.2\n"
                                         .encode("latin-1"))
    found = expect(example, "grades.csv, row 3", "not UTF-8", "byte 0xe9 on line 3")
    assert not any("unknown grade" in p for p in found), found  # no cascade from an unread file
    settings = example / "settings.toml"
    settings.write_bytes(settings.read_bytes() + "# caf\xe9\n".encode("latin-1"))
    expect(example, "settings.toml, row 17", "not UTF-8")
    scenario = tmp_path / "s.toml"
    scenario.write_bytes(f'base = "{EXAMPLE}"\n# caf\xe9\n'.encode("latin-1"))
    expect(scenario, "s.toml, row 2", "not UTF-8")


def test_a_path_that_is_neither_folder_nor_scenario_file(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n")
    expect(path, "is neither an inputs folder nor a scenario file")


def test_toml_nested_too_deeply_is_a_problem_not_a_crash(example):
    (example / "settings.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    expect(example, "settings.toml", "not valid TOML")


def test_a_header_cell_without_a_name_says_which(example):
    text = (example / "links.csv").read_text().splitlines()
    (example / "links.csv").write_text(text[0] + ",,\n" + "\n".join(text[1:]) + "\n")
    found = expect(example, "links.csv, row 1: column 4 of the header has no name")
    assert not any("more than once" in p for p in found), found
