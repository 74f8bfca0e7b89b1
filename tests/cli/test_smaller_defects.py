"""The smaller defects of issue 14: a deep TOML mapping, Python's wide number grammar, a huge
field, personal text copied into the rejects file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import Practice
from tests.integration.migration_support import LEGACY


def test_a_deeply_nested_mapping_file_is_invalid_input(sqlite_url: str, tmp_path: Path) -> None:
    mapping = tmp_path / "deep.toml"
    mapping.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")

    run = Practice(sqlite_url).fails(2, "migrate", "import", str(LEGACY / "generic"),
                                     "--mapping", str(mapping))

    assert "nested too deeply" in run.stderr


@pytest.mark.parametrize("value", ["1_0", "nan", "inf", "1e999", "0x5", "½", " "])
def test_a_measure_is_a_number_as_people_write_it(sqlite_url: str, value: str) -> None:
    practice = Practice(sqlite_url)
    client = practice.new("client", "intake", "--name", "Ann", "--on", "2025-01-02")

    run = practice.fails(2, "visit", "complete", client, "--measure", f"pain={value}",
                         "--on", "2025-01-03")

    assert "measure pain" in run.stderr


def _export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    shutil.copytree(LEGACY / "generic", folder)
    return folder


def test_an_imported_measure_in_pythons_grammar_is_a_rejected_row(sqlite_url: str,
                                                                   tmp_path: Path) -> None:
    folder = _export(tmp_path)
    path = folder / "appointments.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[1].split(",")
    cells[9] = "1_0"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    Practice(sqlite_url).ok("migrate", "import", str(folder), "--rejects", str(rejects))

    assert f"{cells[0]}," in rejects.read_text() and "not a number" in rejects.read_text()


def test_a_ten_megabyte_field_rejects_its_row_only(sqlite_url: str, tmp_path: Path) -> None:
    folder = _export(tmp_path)
    path = folder / "appointments.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[1].split(",")
    cells[10] = "x" * 10_000_000
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    practice = Practice(sqlite_url)

    out = practice.json("migrate", "import", str(folder), "--rejects", str(rejects), "--json")

    assert out["rejected"] == 5 and out["visits"] > 100
    assert "10,000,000 characters" in rejects.read_text()


def test_the_rejects_file_never_copies_personal_text(sqlite_url: str, tmp_path: Path) -> None:
    folder = _export(tmp_path)
    path = folder / "clients.csv"
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text.replace("ben.nguyen0@example.org", "herpes ben at example.org"),
                    encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    Practice(sqlite_url).ok("migrate", "import", str(folder), "--rejects", str(rejects))

    written = rejects.read_text()
    assert "C1000" in written and "email" in written
    assert "herpes" not in written
