"""Every row an import reads is accounted for: imported, already present, rejected, skipped
or merged. Nothing is lost silently (issue 14, item 1)."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practice_es.migration.mapping import load_preset
from practice_es.migration.summary import ImportSummary
from tests.integration.migration_support import run_import

CLIENTS = ("Client ID,First Name,Last Name,Date of Birth,Email,Mobile Phone,Referral Source,"
           "Referred By,Health Conditions,Contraindications,Client Since")
APPOINTMENTS = ("Appointment ID,Client ID,Date,Start Time,Duration (min),Service,Therapist,"
                "Status,Booked On,Pain (0-10),Notes")


def _export(folder: Path, clients: list[str], appointments: list[tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [CLIENTS] + [f"{c},Ann,Lee{c},01/02/1980,,,Walk-in,,,,01/05/2024" for c in clients]
    (folder / "clients.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [APPOINTMENTS] + [f"{a},{c},02/0{1 + i % 9}/2024,10:00,30,Massage,Mia,completed,"
                             f"01/20/2024,3,ok" for i, (a, c) in enumerate(appointments)]
    (folder / "appointments.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def _rejected_ids(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with path.open(encoding="utf-8") as file:
        return {row["legacy_id"] for row in csv.DictReader(file)}


def _accounted(summary: ImportSummary) -> int:
    return (summary.imported + summary.already_present + summary.rejected + summary.skipped
            + summary.merged_duplicates)


def test_rows_of_an_unknown_client_before_the_first_known_one_are_rejected(
        db_url: str, tmp_path: Path) -> None:
    folder = _export(tmp_path / "export", ["X1"],
                     [("AP9", "NOPE"), ("AP8", "X1"), ("AP10", "NOPE")])

    summary = run_import(db_url, folder, tmp_path, mapping=load_preset("generic"))

    assert (summary.rows, summary.imported, summary.rejected) == (4, 2, 2)
    assert _rejected_ids(tmp_path / "rejects-generic.csv") == {"AP9", "AP10"}


KNOWN = ("K1", "K2", "K3")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from((*KNOWN, "NOPE", "GONE")), min_size=1, max_size=12),
       st.randoms(use_true_random=False))
def test_every_row_of_a_shuffled_export_is_accounted_for(owners: list[str], rnd: Any) -> None:
    appointments = [(f"AP{i}", owner) for i, owner in enumerate(owners)]
    rnd.shuffle(appointments)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        export = _export(tmp / "export", list(KNOWN), appointments)
        url = f"sqlite:///{tmp / 'practice.db'}"

        summary = run_import(url, export, tmp, mapping=load_preset("generic"))
        again = run_import(url, export, tmp, mapping=load_preset("generic"))

        unknown = {a for a, owner in appointments if owner not in KNOWN}
        assert _rejected_ids(tmp / "rejects-generic.csv") == unknown
        assert summary.rows == _accounted(summary) == len(KNOWN) + len(appointments)
        assert summary.rejected == len(unknown)
        assert again.rows == _accounted(again)
        assert again.imported == 0


def test_dates_out_of_time_are_rejected_rows_not_a_crash(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "clients.csv").write_text(
        f"{CLIENTS}\nX1,Ann,Lee,01/02/1980,,,Walk-in,,,,01/05/2024\n"
        "X2,Old,Timer,01/02/1850,,,Walk-in,,,,01/05/2024\n", encoding="utf-8")
    rows = {"AP1": ("12/31/1899", "completed"), "AP2": ("12/31/9999", "completed"),
            "AP3": ("12/31/2999", "scheduled"), "AP4": ("02/01/2024", "completed")}
    (folder / "appointments.csv").write_text(APPOINTMENTS + "\n" + "".join(
        f"{ident},X1,{day},10:00,30,Massage,Mia,{status},01/20/1900,3,ok\n"
        for ident, (day, status) in rows.items()), encoding="utf-8")

    summary = run_import(db_url, folder, tmp_path, mapping=load_preset("generic"))

    rejects = tmp_path / "rejects-generic.csv"
    assert _rejected_ids(rejects) == {"X2", "AP1", "AP2", "AP3"}
    text = rejects.read_text(encoding="utf-8")
    assert "before 1900" in text and "rule T1" in text and "years ahead" in text
    assert (summary.imported, summary.rejected, summary.rows) == (2, 4, 6)
