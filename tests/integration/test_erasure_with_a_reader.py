"""Erased details leave the SQLite file even while another connection holds the ledger open
(issue 14, item 6): read models overwrite freed bytes (secure_delete) and an erasure ends
with the write-ahead log checkpointed and truncated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli.helpers import Practice
from tests.integration.erasure_history import EMAIL, NAME, SECRETS, record_a_history
from tests.integration.stored_bytes import stored_bytes


def test_erased_details_leave_the_file_while_a_reader_holds_it_open(sqlite_url: str) -> None:
    practice = Practice(sqlite_url)  # no PRACTICE_CIPHER_KEY: read models hold plain text
    client = record_a_history(practice)
    reader = sqlite3.connect(Path(sqlite_url.removeprefix("sqlite:///")))
    try:
        assert reader.execute("SELECT count(*) FROM rm_client_directory").fetchone()[0] >= 1
        assert NAME.encode() in stored_bytes(sqlite_url)

        practice.ok("client", "erase", client, "--reason", "client request")

        stored = stored_bytes(sqlite_url)
        for secret in (NAME, EMAIL, SECRETS["notes"], SECRETS["condition"]):
            assert secret.encode() not in stored, secret
    finally:
        reader.close()
