"""What the `practice audit` commands call: history, verify and export over one ledger."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from practice_es.audit.history import History, client_history
from practice_es.audit.verify import Progress, Verification, verify_chain
from practice_es.infrastructure.chain import as_chained

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger
    from practice_es.infrastructure.ledger_store import LedgerStore
    from practice_es.projections.runner import ProjectionRunner

CHAIN_RULE = ("link(p) = sha256(link(p-1) || position p || version || originator id || topic || "
              "stored state), each part length-prefixed; link(0) = sha256('practice-es event "
              "chain v1'); see docs/adr/0008-hash-chain.md")


def history_of(ledger: PracticeLedger, runner: ProjectionRunner, client_id: UUID,
               as_of: datetime | None = None) -> History:
    """The client's history; `as_of` without a zone is the practice's local time."""
    from practice_es.projections.referral_index import referrals_made_by

    runner.catch_up()  # the referrers index must know every referral recorded so far
    with runner.engine.connect() as conn:
        made = referrals_made_by(conn, client_id)
    moment = ledger.stamp(as_of).on if as_of is not None else None
    return client_history(as_chained(ledger.recorder), ledger.mapper, client_id,
                          as_of=moment, referrals_made=made)


def verify_ledger(ledger: LedgerStore, expect_head: str | None = None,
                  progress: Progress | None = None) -> Verification:
    return verify_chain(as_chained(ledger.recorder), expect_head, progress)


def export_document(ledger: LedgerStore, history: History) -> dict[str, Any]:
    """The history as a self-contained document, with the chain head when it was made."""
    position, link = as_chained(ledger.recorder).chain_head()
    return {
        "document": "practice-es audit export",
        "format_version": 1,
        "exported_at": datetime.now(UTC).isoformat(),
        "exported_by": ledger.settings.actor,
        "ledger": {"backend": ledger.location.backend, "head_position": position,
                   "head": link.hex(), "chain": CHAIN_RULE},
        "history": history.as_json(),
    }


def write_private(path: Path, text: str) -> None:
    """Write the file readable by its owner only (it holds health records), all or nothing."""
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(partial, path)
