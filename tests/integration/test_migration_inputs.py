"""What an export may look like: encodings, date orders, unreadable files, new layouts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from practice_es.domain.client import Client
from practice_es.domain.errors import InvalidInput
from practice_es.migration.mapping import load_preset, parse_mapping
from tests.conftest import count_events
from tests.integration.migration_support import (
    LEGACY,
    decoded,
    rejects,
    run_import,
    topics,
)


def _generic_copy(tmp_path: Path, encoding: str, bom: bool = False) -> Path:
    folder = tmp_path / f"export-{encoding}"
    folder.mkdir()
    for name in ("clients.csv", "appointments.csv"):
        text = (LEGACY / "generic" / name).read_text(encoding="utf-8-sig")
        (folder / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return folder


@pytest.mark.parametrize(("encoding", "bom"), [("cp1252", False), ("utf-8", False),
                                                ("utf-8", True)])
def test_windows_1252_and_utf8_with_or_without_bom_read_the_same_names(
        db_url: str, tmp_path: Path, encoding: str, bom: bool) -> None:
    folder = _generic_copy(tmp_path, encoding, bom)

    summary = run_import(db_url, folder, tmp_path, mapping=load_preset("generic"))

    names = {e.name for e in decoded(db_url) if isinstance(e, Client.IntakeRecorded)}
    assert {"Chloé Johansson", "Quinn Müller", "Björn Johansson"} <= names
    assert (summary.clients, summary.rejected) == (30, 4)


def test_the_encoding_can_be_given(db_url: str, tmp_path: Path) -> None:
    folder = _generic_copy(tmp_path, "cp1252")
    run_import(db_url, folder, tmp_path, mapping=load_preset("generic"),
               encoding="windows-1252")
    assert topics(db_url)["IntakeRecorded"] == 30


def test_a_file_that_cannot_be_read_stops_the_import_before_anything_is_recorded(
        db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(LEGACY / "generic", folder)
    (folder / "appointments.csv").write_bytes(b"PK\x03\x04\x00\x00binary\x81\x8d")

    with pytest.raises(InvalidInput, match=r"appointments\.csv.*neither UTF-8 nor Windows-1252"):
        run_import(db_url, folder, tmp_path, mapping=load_preset("generic"))
    assert count_events(db_url) == 0


def test_a_file_without_a_mapped_column_stops_the_import(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(LEGACY / "generic", folder)
    text = (folder / "appointments.csv").read_text(encoding="utf-8-sig")
    (folder / "appointments.csv").write_text(text.replace("Booked On", "Made"),
                                             encoding="utf-8")

    with pytest.raises(InvalidInput, match="no column 'Booked On'"):
        run_import(db_url, folder, tmp_path, mapping=load_preset("generic"))
    assert count_events(db_url) == 0


def _ambiguous(tmp_path: Path) -> Path:
    folder = tmp_path / "ambiguous"
    folder.mkdir()
    (folder / "clients.csv").write_text(
        "Client ID,First Name,Last Name,Date of Birth,Email,Mobile Phone,Referral Source,"
        "Referred By,Health Conditions,Contraindications,Client Since\n"
        "K1,Ann,Lee,03/04/1980,ann@example.org,,,,,,02/01/2024\n", encoding="utf-8")
    (folder / "appointments.csv").write_text(
        "Appointment ID,Client ID,Date,Start Time,Duration (min),Service,Therapist,Status,"
        "Booked On,Pain (0-10),Notes\n"
        "V1,K1,05/02/2024,10:00,30,Massage,Mia,Completed,02/01/2024,3,\n", encoding="utf-8")
    return folder


def test_an_ambiguous_date_order_needs_date_format(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="date-format"):
        run_import(db_url, _ambiguous(tmp_path), tmp_path, mapping=load_preset("generic"))
    assert count_events(db_url) == 0


def test_date_format_reads_an_ambiguous_export(db_url: str, tmp_path: Path) -> None:
    run_import(db_url, _ambiguous(tmp_path), tmp_path, mapping=load_preset("generic"),
               date_format="DD/MM/YYYY")
    visit = next(e for e in decoded(db_url) if isinstance(e, Client.VisitCompleted))
    assert visit.occurred_on.date().isoformat() == "2024-02-05"


NEW_LAYOUT = """
name = "physio-book"
source = "physio-book"
date_format = "DD/MM/YYYY"

[clients]
file = "people.csv"
id = "No"
name = ["Given", "Surname"]
date_of_birth = "Born"
email = "Mail"
since = "Registered"
referral_source = "Heard of us"

[appointments]
file = "sessions.csv"
id = "Session"
client = "Person"
start = "When"
booked_on = "Made"
notes = ["Comment"]

[appointments.status]
column = "Outcome"
values = { done = "completed", cx = "cancelled", dna = "no-show", future = "scheduled" }

[appointments.measures.pain]
column = "VAS"

[referral_sources]
"gp letter" = "doctor"
"""


def test_a_mapping_file_for_a_new_layout_needs_no_code(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "physio"
    folder.mkdir()
    (folder / "people.csv").write_text(
        "No,Given,Surname,Born,Mail,Registered,Heard of us\n"
        "P-1,Ann,Lee,23/04/1980,ann@example.org,02/01/2024,GP letter\n"
        "P-2,Bo,Ng,30/11/1975,,15/01/2024,\n", encoding="utf-8")
    (folder / "sessions.csv").write_text(
        "Session,Person,When,Made,Outcome,VAS,Comment\n"
        "S1,P-1,05/02/2024 10:30,02/01/2024,done,6,first visit\n"
        "S2,P-1,19/02/2024 10:30,05/02/2024,DNA,,\n"
        "S3,P-2,20/02/2024 09:00,15/01/2024,cx,,\n"
        "S4,P-2,21/03/2024 09:00,20/02/2024,future,,\n"
        "S5,P-9,21/03/2024 09:00,20/02/2024,done,3,\n", encoding="utf-8")

    summary = run_import(db_url, folder, tmp_path, mapping=parse_mapping(NEW_LAYOUT, "test"))

    seen = topics(db_url)
    assert (seen["IntakeRecorded"], seen["VisitScheduled"], seen["VisitCompleted"],
            seen["VisitMissed"], seen["VisitCancelled"]) == (2, 4, 1, 1, 1)
    assert summary.rejected == 1  # S5 names nobody
    events = decoded(db_url)
    ann = next(e for e in events if isinstance(e, Client.IntakeRecorded) and e.name == "Ann Lee")
    assert (ann.referral_source, ann.legacy_id) == ("doctor", "P-1")
    done = next(e for e in events if isinstance(e, Client.VisitCompleted))
    assert (done.measures, done.notes, done.actor) == ({"pain": 6.0}, "first visit",
                                                       "migration:sessions.csv:2")


def _with_control_characters(tmp_path: Path) -> Path:
    """The generic sample with a bell in client C1001's name and an escape sequence in the
    notes of appointment A1000 (text a terminal would act on), a tab and a line break kept."""
    folder = tmp_path / "export"
    shutil.copytree(LEGACY / "generic", folder)
    clients = (folder / "clients.csv").read_text(encoding="utf-8-sig")
    (folder / "clients.csv").write_text(clients.replace("C1001,Olga,", "C1001,Ol\x07ga,"),
                                        encoding="utf-8")
    visits = (folder / "appointments.csv").read_text(encoding="utf-8-sig")
    visits = visits.replace("A1000,C1000,11/30/2024,10:00,30,Re-exam,Mia Chen LMT,completed,"
                            "11/28/2024,4,Focus on lumbar paraspinals",
                            "A1000,C1000,11/30/2024,10:00,30,Re-exam,Mia Chen LMT,completed,"
                            "11/28/2024,4,Focus\x1b[31m on lumbar")
    visits = visits.replace("A1001,C1000,12/08/2024,14:00,30,Chiropractic adjustment,"
                            "Dr. Helen Jones DC,completed,11/30/2024,4,Focus on lumbar paraspinals",
                            "A1001,C1000,12/08/2024,14:00,30,Chiropractic adjustment,"
                            "Dr. Helen Jones DC,completed,11/30/2024,4,\"Focus\ton\nlumbar\"")
    (folder / "appointments.csv").write_text(visits, encoding="utf-8")
    return folder


@pytest.mark.parametrize("fast", [True, False])
def test_text_the_ledger_refuses_from_the_command_line_is_a_rejected_row(
        db_url: str, tmp_path: Path, fast: bool) -> None:
    folder = _with_control_characters(tmp_path)

    summary = run_import(db_url, folder, tmp_path, mapping=load_preset("generic"), fast=fast)

    found = {r["legacy_id"]: r["reason"] for r in rejects(tmp_path / "rejects-generic.csv")}
    rule = "contains a character that cannot be stored (a control character"
    assert found["C1001"].startswith(f"name: {rule}")
    assert found["A1000"].startswith(f"notes: {rule}")
    assert "\x07" not in found["C1001"] and "\x1b" not in found["A1000"]  # never the text
    assert summary.clients == 29  # Olga is not recorded, so neither are her visits
    events = decoded(db_url)
    assert not any(isinstance(e, Client.IntakeRecorded) and "Ol" in e.name for e in events)
    notes = {e.notes for e in events if isinstance(e, Client.VisitCompleted)}
    assert "Focus\ton\nlumbar" in notes  # a tab and a line break are kept
    assert not any("\x1b" in (n or "") for n in notes)


def test_a_file_whose_name_the_ledger_cannot_store_stops_the_import(
        db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(LEGACY / "generic", folder)
    (folder / "appointments.csv").rename(folder / "appoint\x1bments.csv")

    with pytest.raises(InvalidInput, match="control character"):
        run_import(db_url, folder, tmp_path, mapping=load_preset("generic"))
    assert count_events(db_url) == 0
