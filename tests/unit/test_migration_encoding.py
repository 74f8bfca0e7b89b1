"""The import's encoder stores, event for event, the bytes the domain's mapper stores for the
same event: the same keys in the same order, the same sealed block (owner, fields), the same
values once opened. Only the nonce of a sealed block differs (a fresh one each time)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.migration import facts
from practice_es.migration.encoding import StateEncoder
from practice_es.migration.rows import Appointment

STORABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from("\t\n"),
                   max_size=40)
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1),
                       timezones=st.just(UTC))
STATUSES = st.sampled_from(("completed", "cancelled", "no-show", "scheduled"))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PracticeLedger]:
    path: Path = tmp_path_factory.mktemp("encoding") / "ledger.db"
    opened = PracticeLedger(Settings(db_url=f"sqlite:///{path}", actor="tester"))
    yield opened
    opened.close()


def _opened(ledger: PracticeLedger, topic: str, ident: UUID, version: int,
            stored: bytes) -> tuple[list[str], Any, list[tuple[str, Any]]]:
    """A stored state's keys in order, its sealed block's owner and fields, its values opened
    (the record time left out)."""
    mapper: Any = ledger.mapper
    state = mapper.transcoder.decode(stored)
    block = state.get("_sealed")
    shape = list(state), block and (block["o"], block["f"])
    mapper.sealer.open(topic, ident, version, state)
    del state["timestamp"]
    return shape[0], shape[1], sorted(state.items())


def _domain_bytes(ledger: PracticeLedger, change: facts.Change, ident: UUID, version: int,
                  now: datetime) -> tuple[str, bytes]:
    event = change.event_class(originator_id=ident, originator_version=version, timestamp=now,
                               **change.fields)
    stored = ledger.mapper.to_stored_event(event)  # type: ignore[arg-type]
    return stored.topic, stored.state


def _same(ledger: PracticeLedger, unit: facts.Unit, version: int) -> None:
    encoder = StateEncoder(ledger.mapper)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    for offset, change in enumerate(unit.changes, start=1):
        at = version + offset
        topic, fast = encoder.encode(change.event_class, unit.aggregate_id, at, change.fields,
                                     now)
        domain_topic, domain = _domain_bytes(ledger, change, unit.aggregate_id, at, now)
        assert topic == domain_topic
        assert (_opened(ledger, topic, unit.aggregate_id, at, fast)
                == _opened(ledger, topic, unit.aggregate_id, at, domain))


@settings(max_examples=60, deadline=None)
@given(name=STORABLE.filter(str.strip), email=st.none() | st.emails(), phone=STORABLE,
       conditions=st.lists(STORABLE, max_size=3), legacy_id=STORABLE, since=MOMENTS,
       born=st.none() | st.dates(date(1920, 1, 1), date(2020, 1, 1)))
def test_an_intake_is_stored_as_the_domain_stores_it(
        ledger: PracticeLedger, name: str, email: str | None, phone: str,
        conditions: list[str], legacy_id: str, since: datetime, born: date | None) -> None:
    client = uuid4()
    ledger.keys.create_data_keys([client])
    unit = facts.intake(client, since, "migration:clients.csv:2", name=name,
                        date_of_birth=born, email=email, phone=phone or None,
                        conditions=conditions, medications=[], contraindications=[],
                        referral_source="walk-in", referrer=None, legacy_id=legacy_id or None)
    _same(ledger, unit, 0)


@settings(max_examples=120, deadline=None)
@given(status=STATUSES, start=MOMENTS, lead=st.integers(0, 60), notes=st.none() | STORABLE,
       reason=st.none() | STORABLE,
       measures=st.dictionaries(st.sampled_from(("pain", "ndi")), st.floats(0, 10), max_size=2),
       version=st.integers(1, 500))
def test_a_visit_is_stored_as_the_domain_stores_it(
        ledger: PracticeLedger, status: str, start: datetime, lead: int, notes: str | None,
        reason: str | None, measures: dict[str, float], version: int) -> None:
    client = uuid4()
    ledger.keys.create_data_keys([client])
    row = Appointment("A1", "C1", start, start - timedelta(days=lead), status,  # type: ignore[arg-type]
                      reason, None, None, notes, measures)
    unit = facts.visit(client, uuid4(), row, status, "migration:appointments.csv:7", notes,
                       measures)
    _same(ledger, unit, version)
