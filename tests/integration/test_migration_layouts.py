"""Each sample layout imports: the counts are worked out here from the files themselves (with
the csv module and the rules of each layout's README), never from the importer."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from practice_es.domain.client import Client
from practice_es.domain.program import ProgramOfCare
from tests.integration.migration_support import (
    csv_rows,
    decoded,
    rejects,
    run_import,
    topics,
)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def _expect(db_url: str, clients: int, statuses: Counter[str]) -> None:
    seen = topics(db_url)
    assert seen["IntakeRecorded"] == clients
    assert seen["VisitScheduled"] == sum(statuses.values())
    assert seen["VisitCompleted"] == statuses["completed"]
    assert seen["VisitCancelled"] == statuses["cancelled"]
    assert seen["VisitMissed"] == statuses["no-show"]


def test_generic_export_imports_every_valid_row_and_rejects_the_four_defects(
        db_url: str, tmp_path: Path) -> None:
    clients = csv_rows("generic", "clients.csv")
    appointments = csv_rows("generic", "appointments.csv")
    people = {(c["First Name"], c["Last Name"], c["Date of Birth"], c["Email"].casefold())
              for c in clients}
    # The README's defects: A90001 (no such client), A90002 (02/31), A90003 (pain 12),
    # A90004 (no status). Every other row is valid.
    defects = {"A90001", "A90002", "A90003", "A90004"}
    words = {"completed": "completed", "cancelled": "cancelled", "canceled": "cancelled",
             "no show": "no-show", "no-show": "no-show", "scheduled": "scheduled",
             "booked": "scheduled"}
    statuses = Counter(words[a["Status"].casefold()] for a in appointments
                       if a["Appointment ID"] not in defects)

    summary = run_import(db_url, "generic", tmp_path)

    assert len(people) == len(clients) - 1 == 30  # C9000 is C1003, e-mail in other case
    _expect(db_url, len(people), statuses)
    rejected = {r["legacy_id"]: r["reason"] for r in rejects(tmp_path / "rejects-generic.csv")}
    assert set(rejected) == defects
    assert "C99999" in rejected["A90001"] and "02/31/2025" in rejected["A90002"]
    assert "pain 12" in rejected["A90003"] and "status" in rejected["A90004"]
    assert [(m.legacy_id, m.into) for m in summary.merges] == [("C9000", "C1003")]
    assert (summary.rows, summary.rejected, summary.merged_duplicates) == (
        len(clients) + len(appointments), 4, 1)
    assert summary.imported == len(people) + sum(statuses.values())


def test_generic_history_is_recorded_as_facts_with_provenance(
        db_url: str, tmp_path: Path) -> None:
    run_import(db_url, "generic", tmp_path)
    events = decoded(db_url)
    intakes = {e.legacy_id: e for e in events if isinstance(e, Client.IntakeRecorded)}
    # A1000: C1000, 11/30/2024 10:00, completed, booked 11/28/2024, pain 4 (row 2 of the file).
    first = [e for e in events if e.actor == "migration:appointments.csv:2"]
    assert [type(e).__name__ for e in first] == ["VisitScheduled", "VisitCompleted"]
    scheduled, completed = first
    assert scheduled.occurred_on.date() == date(2024, 11, 28)
    assert completed.occurred_on.isoformat().startswith("2024-11-30T10:00")
    assert completed.measures == {"pain": 4.0}
    assert completed.notes == "Focus on lumbar paraspinals"
    assert {e.originator_id for e in first} == {intakes["C1000"].originator_id}
    # C1016 has a contraindication: history is not re-decided, its visits are recorded.
    surgery = intakes["C1016"]
    assert surgery.contraindications == ["recent surgery"]
    assert any(isinstance(e, Client.VisitCompleted) and e.originator_id == surgery.originator_id
               for e in events)
    # Referral sources (README): doctor, a referring client by name, labels kept.
    assert (intakes["C1007"].referral_source, intakes["C1007"].referrer) == (
        "doctor", "dr. omar reyes md")
    assert intakes["C1005"].referral_source == "client"
    assert intakes["C1005"].referrer == str(intakes["C1001"].originator_id)  # Olga Johansson
    assert (intakes["C1002"].referral_source, intakes["C1002"].referrer) == (
        "advertising", "facebook ad")
    assert (intakes["C1010"].referral_source, intakes["C1010"].referrer) == ("other", None)


def _cliniko_status(row: dict[str, str]) -> str:
    if row["cancelled_at"]:
        return "cancelled"
    if row["did_not_arrive"] == "true":
        return "no-show"
    return "completed" if row["patient_arrived"] == "true" else "open"


def test_cliniko_export_reads_status_from_the_flags(db_url: str, tmp_path: Path) -> None:
    patients = {p["id"] for p in csv_rows("cliniko", "patients.csv")}
    appointments = csv_rows("cliniko", "individual_appointments.csv")
    valid = [a for a in appointments if a["patient_id"] in patients and _is_date(a["starts_at"])
             and "NPRS 12/10" not in a["notes"]]
    last_outcome: dict[str, str] = {}
    for a in valid:
        if _cliniko_status(a) != "open":
            last_outcome[a["patient_id"]] = max(last_outcome.get(a["patient_id"], ""),
                                                a["starts_at"])
    # An appointment with no flag is a booking still open, unless the patient came later.
    past = {a["id"] for a in valid if _cliniko_status(a) == "open"
            and last_outcome.get(a["patient_id"], "") > a["starts_at"]}
    kept = [a for a in valid if a["id"] not in past]
    statuses = Counter(_cliniko_status(a).replace("open", "scheduled") for a in kept)

    summary = run_import(db_url, "cliniko", tmp_path)

    _expect(db_url, len(patients) - 1, statuses)  # the last patient is Lars Smith again
    rejected = {r["legacy_id"] for r in rejects(tmp_path / "rejects-cliniko.csv")}
    assert past == {"90004"}
    assert rejected == {a["id"] for a in appointments} - {a["id"] for a in kept}
    assert summary.merged_duplicates == 1


def test_openemr_export_joins_soap_notes_to_the_visit_of_the_day(
        db_url: str, tmp_path: Path) -> None:
    patients = {p["pid"] for p in csv_rows("openemr", "patient_data.csv")}
    events = csv_rows("openemr", "openemr_postcalendar_events.csv")
    codes = {">": "completed", "x": "cancelled", "?": "no-show", "-": "scheduled"}
    kept = [e for e in events if e["pc_pid"] in patients and _is_date(e["pc_eventDate"])
            and e["pc_apptstatus"] in codes]
    statuses = Counter(codes[e["pc_apptstatus"]] for e in kept)
    notes = csv_rows("openemr", "form_soap.csv")
    bad_notes = [n for n in notes if n["pid"] not in patients or not _is_date(n["date"])
                 or "Pain 12/10" in n["subjective"]]

    summary = run_import(db_url, "openemr", tmp_path)

    _expect(db_url, len(patients) - 1, statuses)
    rejected = rejects(tmp_path / "rejects-openemr.csv")
    assert len(rejected) == len(events) - len(kept) + len(bad_notes) == 6
    completed = [e for e in decoded(db_url) if isinstance(e, Client.VisitCompleted)]
    with_pain = [e for e in completed if "pain" in e.measures]
    assert len(with_pain) == len(notes) - len(bad_notes)  # one note per completed visit
    assert all(e.notes and "Pain" in e.notes for e in with_pain)
    assert summary.merged_duplicates == 1


def test_synthea_export_makes_visits_pain_measures_history_and_programs(
        db_url: str, tmp_path: Path) -> None:
    patients = csv_rows("synthea", "patients.csv")
    died = {p["Id"]: p["DEATHDATE"] for p in patients if p["DEATHDATE"]}
    encounters = csv_rows("synthea", "encounters.csv")
    after_death = [e for e in encounters if e["START"][:10] > died.get(e["PATIENT"], "9999")]
    observations = csv_rows("synthea", "observations.csv")
    pain = [o for o in observations if o["CODE"] in ("72514-3", "38208-5")]
    no_encounter = [o for o in observations if not o["ENCOUNTER"]]
    plans = csv_rows("synthea", "careplans.csv")

    summary = run_import(db_url, "synthea", tmp_path)

    seen = topics(db_url)
    assert seen["IntakeRecorded"] == len(patients)
    assert seen["VisitScheduled"] == seen["VisitCompleted"] == len(encounters) - len(after_death)
    assert seen["HealthHistoryUpdated"] == len(csv_rows("synthea", "conditions.csv"))
    assert seen["ProgramRecommended"] == seen["ProgramAccepted"] == len(plans)
    assert seen["ProgramCompleted"] == sum(1 for p in plans if p["STOP"])
    rejected = rejects(tmp_path / "rejects-synthea.csv")
    assert {r["legacy_id"] for r in rejected} == {e["Id"] for e in after_death}
    assert all("death" in r["reason"] for r in rejected)
    events = decoded(db_url)
    measured = {e.visit_id: e.measures["pain"] for e in events
                if isinstance(e, Client.VisitCompleted) and "pain" in e.measures}
    assert len(measured) == len(pain)
    assert sorted(measured.values()) == sorted(float(o["VALUE"]) for o in pain)
    assert summary.skipped_by_reason["names no visit (e.g. Synthea's QALY, DALY, QOLS)"] == len(
        no_encounter)
    assert summary.skipped == len(observations) - len(pain)
    recommended = [e for e in events if isinstance(e, ProgramOfCare.ProgramRecommended)]
    assert all(e.visits == 0 and e.per_week == 0 and e.goals == [] for e in recommended)
    assert all("none are invented" in e.rationale for e in recommended)
