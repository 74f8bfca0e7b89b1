"""The right to erasure by crypto-shredding (ADR 9), on both backends, with and without a
master key: after `client erase`, the client's name, contact and health details read as
erased in every view and export; report counts stay; `audit verify` passes because no stored
event changed; the destroyed key has left the database; nothing more can be recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.cryptography import AESCipher
from sqlalchemy import select

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner
from tests.cli.helpers import Practice
from tests.integration.erasure_history import NAME, SECRETS, record_a_history
from tests.integration.stored_bytes import events_table, execute, stored_bytes

REPORTS = (("report", "retention", "--from", "2026-01-01", "--to", "2026-06-30"),
           ("report", "referrals", "--from", "2026-01-01", "--to", "2026-06-30"))


def everything_shown(practice: Practice, client: str, folder: Path) -> str:
    """Every view and export of the client a user can ask for."""
    export = folder / "export.json"
    practice.ok("audit", "export", client, "--out", str(export))
    return "\n".join([
        practice.ok("client", "show", client),
        practice.ok("client", "show", client, "--format", "json"),
        practice.ok("client", "list", "--format", "json"),
        practice.ok("client", "list", "--format", "csv"),
        practice.ok("audit", "history", client, "--format", "json"),
        practice.ok("audit", "history", client),
        practice.ok("report", "timeline", client, "--format", "json"),
        practice.ok("report", "recalls", "--as-of", "2026-09-01", "--format", "json"),
        export.read_text(),
    ])


def read_models(ledger: PracticeLedger) -> dict[str, list[tuple[Any, ...]]]:
    runner = ProjectionRunner(ledger, all_projections())
    try:
        runner.catch_up()
        with runner.engine.connect() as conn:
            return {table.name: sorted(tuple(map(str, row)) for row in
                                       conn.execute(select(table)))
                    for projection in runner.projections.values()
                    for table in projection.tables}
    finally:
        runner.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_an_erased_client_reads_as_erased_everywhere_and_nothing_stored_changed(
        db_url: str, encrypted: bool, tmp_path: Path) -> None:
    key = AESCipher.create_key(32) if encrypted else None
    practice = Practice(db_url, key=key)
    client = record_a_history(practice)
    shown = everything_shown(practice, client, tmp_path)
    assert all(secret in shown for secret in SECRETS.values())  # each is shown somewhere
    reports = [practice.json(*args, "--format", "json") for args in REPORTS]
    timeline = practice.json("report", "timeline", client, "--format", "json")
    stored = execute(db_url, f"SELECT originator_id, originator_version, state "
                             f"FROM {events_table(db_url)}")
    data_keys = [bytes(k) for k, in execute(db_url, "SELECT data_key FROM practice_data_keys")]

    assert practice.new("client", "erase", client, "--reason", "client request") == client

    shown = everything_shown(practice, client, tmp_path)
    for what, secret in SECRETS.items():
        assert secret not in shown, what
    card = json.loads(practice.ok("client", "show", client, "--format", "json"))
    assert card["name"] == "[erased]"
    assert [practice.json(*args, "--format", "json") for args in REPORTS] == reports
    after = practice.json("report", "timeline", client, "--format", "json")
    assert [e["measures"] for e in after["entries"]] == [
        e["measures"] for e in timeline["entries"]] + [{}]  # + ClientErased
    assert after["programs"] == timeline["programs"]
    assert "chain intact" in practice.run("audit", "verify").stderr
    still = execute(db_url, f"SELECT originator_id, originator_version, state "
                            f"FROM {events_table(db_url)}")
    assert set(stored) < set(still) and len(still) == len(stored) + 1
    raw = stored_bytes(db_url)
    assert len(data_keys) == 2 and not any(k in raw for k in data_keys)  # client, prospect


def test_read_models_rebuilt_after_an_erasure_equal_those_kept_up(db_url: str) -> None:
    practice = Practice(db_url, key=AESCipher.create_key(32))
    client = record_a_history(practice)
    practice.new("client", "erase", client, "--reason", "client request")
    ledger = PracticeLedger(Settings(db_url=db_url, actor="t", cipher_key=practice.key))
    try:
        kept_up = read_models(ledger)
        practice.ok("projections", "rebuild")
        assert read_models(ledger) == kept_up
    finally:
        ledger.close()


def test_nothing_more_is_recorded_for_an_erased_client(db_url: str) -> None:
    practice = Practice(db_url)
    client = record_a_history(practice)
    practice.new("client", "erase", client, "--reason", "client request")
    practice.refused("E1", "visit", "complete", client)
    practice.refused("E1", "client", "update", client, "--name", "Someone Else")
    practice.refused("E1", "program", "recommend", client, "--phase", "relief", "--visits",
                     "2", "--per-week", "1", "--goal", "g", "--rationale", "r")
    practice.refused("E1", "referral", "make", client, "--to", "Dr X", "--reason", "r")
    before = practice.events()
    assert practice.new("client", "erase", client, "--reason", "again") == client
    assert practice.events() == before  # erasing twice records nothing new


def test_an_interrupted_erasure_fails_closed_and_a_rerun_completes_it(db_url: str) -> None:
    practice = Practice(db_url)
    client = practice.new("client", "intake", "--name", NAME, "--condition", "lupus")
    ledger = PracticeLedger(Settings(db_url=db_url, actor="t"))
    try:
        ledger.keys.destroy([UUID(client)])  # as if killed before ClientErased
    finally:
        ledger.close()
    shown = json.loads(practice.ok("client", "show", client, "--format", "json"))
    assert (shown["name"], shown["conditions"], shown["status"]) == (
        "[erased]", ["[erased]"], "prospect")
    practice.new("client", "erase", client, "--reason", "client request")
    card = json.loads(practice.ok("client", "show", client, "--format", "json"))
    assert card["status"] == "erased"


def test_an_erasure_says_why(db_url: str) -> None:
    practice = Practice(db_url)
    client = practice.new("client", "intake", "--name", NAME)
    assert practice.fails(2, "client", "erase", client).exit_code == 2
    assert "reason" in practice.fails(2, "client", "erase", client, "--reason", " ").stderr


def test_a_later_import_rejects_rows_about_an_erased_client(db_url: str, tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(Path(__file__).parent.parent / "fixtures" / "legacy" / "generic", export)
    practice = Practice(db_url)
    practice.ok("migrate", "import", str(export), "--rejects", str(tmp_path / "r1.csv"))
    client, = practice.json("client", "list", "--search", "C1000", "--format", "json")
    practice.new("client", "erase", client["client_id"], "--reason", "client request")
    with (export / "appointments.csv").open("a", encoding="utf-8") as more:
        more.write("A99999,C1000,01/10/2025,10:00,30,Re-exam,Mia Chen LMT,completed,"
                   "01/08/2025,3,felt great\n")
    before = practice.events()
    practice.ok("migrate", "import", str(export), "--rejects", str(tmp_path / "r2.csv"))
    assert practice.events() == before
    assert "A99999,client: erased (rule E1)" in (tmp_path / "r2.csv").read_text()
