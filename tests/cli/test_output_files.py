"""Files a command writes (--rejects, --chart): never an input, never through a symbolic
link, owner-only, whole or not at all (issue 14, item 5 and the modes of the smaller items)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import Practice
from tests.integration.migration_support import LEGACY


@pytest.fixture
def export(tmp_path: Path) -> Path:
    folder = tmp_path / "gcopy"
    shutil.copytree(LEGACY / "generic", folder)
    return folder


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _import(practice: Practice, export: Path, rejects: Path | str) -> object:
    return practice.run("migrate", "import", str(export), "--rejects", str(rejects))


def test_rejects_naming_a_file_of_the_export_is_refused_before_anything_is_recorded(
        db_url: str, export: Path) -> None:
    legacy = export / "appointments.csv"
    before = legacy.read_bytes()
    practice = Practice(db_url)

    run = practice.fails(2, "migrate", "import", str(export), "--rejects", str(legacy))

    assert "rejects" in run.stderr and "one of the files this command reads" in run.stderr
    assert legacy.read_bytes() == before


@pytest.mark.parametrize("option", ["rejects", "chart"])
def test_an_output_through_a_symbolic_link_is_refused_and_its_target_kept(
        sqlite_url: str, export: Path, tmp_path: Path, option: str) -> None:
    decoy = tmp_path / "passwd"
    decoy.write_text("root:x:0:0\n")
    link = tmp_path / ("out.png" if option == "chart" else "out.csv")
    link.symlink_to(decoy)
    practice = Practice(sqlite_url)
    practice.ok("migrate", "import", str(export), "--rejects", str(tmp_path / "first.csv"))

    if option == "chart":
        run = practice.fails(2, "report", "retention", "--chart", str(link))
    else:
        run = practice.fails(2, "migrate", "import", str(export), "--rejects", str(link))

    assert "symbolic link" in run.stderr
    assert decoy.read_text() == "root:x:0:0\n" and link.is_symlink()


def test_rejects_to_a_device_is_refused_before_anything_is_recorded(
        sqlite_url: str, export: Path) -> None:
    run = Practice(sqlite_url).fails(2, "migrate", "import", str(export),
                                     "--rejects", "/dev/full")
    assert "not a regular file" in run.stderr


def test_outputs_are_owner_only_even_under_an_open_umask(
        sqlite_url: str, export: Path, tmp_path: Path, open_umask: None) -> None:
    rejects, chart = tmp_path / "rejects.csv", tmp_path / "heat.png"
    rejects.write_text("old\n")
    rejects.chmod(0o644)
    practice = Practice(sqlite_url)

    practice.ok("migrate", "import", str(export), "--rejects", str(rejects))
    practice.ok("report", "retention", "--chart", str(chart))

    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    assert rejects.read_text().startswith("file,row,legacy_id,reason")
    assert stat.S_IMODE(chart.stat().st_mode) == 0o600
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
