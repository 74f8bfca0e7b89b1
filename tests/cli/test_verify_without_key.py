"""An auditor verifies an encrypted ledger without its key: the chain covers stored bytes."""

from __future__ import annotations

from tests.cli.helpers import Practice


def test_audit_verify_needs_no_key_but_reading_does(db_url: str) -> None:
    key = Practice(db_url).ok("key", "generate")
    practitioner = Practice(db_url, key=key)
    practitioner.new("client", "intake", "--name", "Kay Ode", "--condition", "asthma")
    with_key = practitioner.run("audit", "verify")
    auditor = Practice(db_url)  # no PRACTICE_CIPHER_KEY

    verified = auditor.run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert verified.stdout == with_key.stdout  # the same head hash and event count
    refused = auditor.run("client", "list")
    assert refused.exit_code == 2
    assert "PRACTICE_CIPHER_KEY" in refused.output
