"""The PostgreSQL recorder's bulk insert (binary COPY, ADR 18): what an import sends is stored
at consecutive positions in the order sent, chained exactly as one-by-one inserts chain it,
beside other writers; a batch that fails leaves the log and its chain as they were."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practice_es.application import PracticeLedger
from practice_es.audit.verify import verify_chain
from practice_es.infrastructure.chain import GENESIS, ChainBroken, as_chained, chain_rows
from practice_es.infrastructure.settings import Settings
from tests.conftest import POSTGRES_URL, _admin_connect

TOPIC = "practice_es.domain.client:Client.VisitCompleted"
Row = tuple[bytes, int, str, bytes]


def open_ledger(schema: str) -> PracticeLedger:
    return PracticeLedger(Settings(db_url=f"{POSTGRES_URL.split('?')[0]}?schema={schema}",
                                   actor="tester"))


@pytest.fixture
def ledger(postgres_schema: str) -> Iterator[PracticeLedger]:
    app = open_ledger(postgres_schema)
    try:
        yield app
    finally:
        app.close()


def rows_for(count: int, versions: int = 1, topic: str = TOPIC) -> list[Row]:
    """`count` new aggregates' first `versions` events, with states of varied sizes."""
    rows = []
    for n in range(count):
        ident = uuid4().bytes
        rows += [(ident, version, topic, b'{"n":%d,"v":%d}' % (n, version) + b"x" * (n % 7))
                 for version in range(1, versions + 1)]
    return rows


def as_stored(rows: Sequence[Row]) -> list[StoredEvent]:
    return [StoredEvent(originator_id=UUID(bytes=oid), originator_version=version, topic=topic,
                        state=state) for oid, version, topic, state in rows]


def stored(ledger: PracticeLedger) -> list[tuple[int, UUID, int, str, bytes]]:
    return [(n.id, n.originator_id, n.originator_version, n.topic, n.state)  # type: ignore[misc]
            for n in ledger.recorder.select_notifications(start=1, limit=10**6)]


def chain(ledger: PracticeLedger) -> list[tuple[int, bytes]]:
    return as_chained(ledger.recorder).select_links(0, 10**9, 10**6)


def insert_rows(ledger: PracticeLedger, rows: Sequence[Row]) -> list[int]:
    return ledger.recorder.insert_rows(rows)  # type: ignore[attr-defined, no-any-return]


def sql(statement: str, *params: Any) -> list[Any]:
    with _admin_connect() as conn:
        cursor = conn.execute(statement, params)
        return list(cursor.fetchall()) if cursor.description else []


def test_a_batch_is_stored_at_consecutive_positions_in_the_order_sent(
        ledger: PracticeLedger) -> None:
    rows = rows_for(50, versions=3)

    positions = insert_rows(ledger, rows)

    assert positions == list(range(1, 151))
    assert stored(ledger) == [(p, UUID(bytes=oid), version, topic, state) for p, (
        oid, version, topic, state) in zip(positions, rows, strict=True)]


def test_a_batch_is_chained_exactly_as_one_by_one_inserts_chain_it(
        ledger: PracticeLedger) -> None:
    first, second = rows_for(20, versions=2), rows_for(30)
    ledger.recorder.insert_events(as_stored(first))  # eventsourcing's own insert

    positions = insert_rows(ledger, second)

    everything = as_stored(first + second)
    expected = chain_rows(GENESIS, list(range(1, 71)), everything)
    assert positions == list(range(41, 71))
    assert chain(ledger) == expected
    verification = verify_chain(as_chained(ledger.recorder))
    assert verification.ok and verification.events == 70
    assert verification.head == expected[-1][1].hex()


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 40)), min_size=1, max_size=6))
def test_bulk_and_single_inserts_in_any_order_keep_a_chain_that_verifies(
        ledger: PracticeLedger, steps: list[tuple[bool, int]]) -> None:
    """The same ledger across examples: each adds to what the earlier ones left."""
    before = len(stored(ledger))
    for bulk, count in steps:
        rows = rows_for(count)
        if bulk:
            insert_rows(ledger, rows)
        else:
            ledger.recorder.insert_events(as_stored(rows))
    events = stored(ledger)
    positions = [event[0] for event in events]
    assert len(events) == before + sum(count for _, count in steps)
    assert positions == sorted(set(positions))
    assert [position for position, _ in chain(ledger)] == positions
    assert verify_chain(as_chained(ledger.recorder)).ok


def test_a_batch_holding_an_event_already_stored_records_nothing(
        ledger: PracticeLedger) -> None:
    kept = rows_for(10)
    insert_rows(ledger, kept)
    before, head = stored(ledger), as_chained(ledger.recorder).chain_head()
    clash = [*rows_for(5), kept[3], *rows_for(5)]  # a re-sent event, in the middle

    with pytest.raises(IntegrityError):
        insert_rows(ledger, clash)

    assert stored(ledger) == before
    assert as_chained(ledger.recorder).chain_head() == head
    insert_rows(ledger, rows_for(4))  # the next batch goes on after the gap it left
    verification = verify_chain(as_chained(ledger.recorder))
    assert verification.ok and verification.events == 14


def test_a_row_the_server_refuses_half_way_rolls_the_whole_batch_back(
        ledger: PracticeLedger) -> None:
    insert_rows(ledger, rows_for(3))
    bad = [*rows_for(5), (b"too short", 1, TOPIC, b"{}"), *rows_for(5)]  # not a uuid

    with pytest.raises(PersistenceError):
        insert_rows(ledger, bad)

    assert len(stored(ledger)) == 3 and len(chain(ledger)) == 3
    assert verify_chain(as_chained(ledger.recorder)).ok


def test_a_chain_ahead_of_the_log_is_refused_and_nothing_recorded(
        ledger: PracticeLedger, postgres_schema: str) -> None:
    insert_rows(ledger, rows_for(9))
    sql(f"DELETE FROM \"{postgres_schema}\".practice_events WHERE notification_id > 6")
    sql("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), 6)",
        f'"{postgres_schema}".practice_events')  # as if the last events had never been

    with pytest.raises(ChainBroken, match="already covers position 7"):
        insert_rows(ledger, rows_for(2))

    assert len(stored(ledger)) == 6 and len(chain(ledger)) == 9


def test_an_empty_batch_records_nothing(ledger: PracticeLedger) -> None:
    assert insert_rows(ledger, []) == []
    assert stored(ledger) == [] and chain(ledger) == []


def test_bulk_and_single_writers_at_once_never_interleave_a_batch(
        ledger: PracticeLedger, postgres_schema: str) -> None:
    """Two other ledgers on the same store write at the same time as this one: every
    batch keeps consecutive positions (the table lock), and the chain verifies."""
    batches = [rows_for(200) for _ in range(6)]
    singles = [rows_for(1) for _ in range(60)]
    errors: list[BaseException] = []

    def run(work: Any) -> None:
        other = open_ledger(postgres_schema)
        try:
            work(other)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            other.close()

    positions: list[list[int]] = []
    threads = [
        threading.Thread(target=run, args=(lambda app: positions.extend(
            insert_rows(app, batch) for batch in batches),)),
        threading.Thread(target=run, args=(lambda app: [
            app.recorder.insert_events(as_stored(one)) for one in singles],)),
    ]
    for thread in threads:
        thread.start()
    for _ in range(2):  # and this one too, in bulk
        positions.append(insert_rows(ledger, rows_for(100)))
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(p == list(range(p[0], p[0] + len(p))) for p in positions)
    verification = verify_chain(as_chained(ledger.recorder))
    assert verification.ok and verification.events == 6 * 200 + 60 + 2 * 100


def page_plan(schema: str, after: int, stop: int) -> str:
    """How the server reads one page of the log, as the projection runner asks for it."""
    rows = sql(f'EXPLAIN SELECT * FROM "{schema}".practice_events WHERE notification_id > %s '
               "AND notification_id <= %s AND topic = ANY(%s) ORDER BY notification_id "
               "LIMIT 2000", after, stop, [TOPIC])
    return "\n".join(line for line, in rows)


def test_after_a_bulk_import_a_page_of_the_log_is_read_in_order_not_sorted(
        ledger: PracticeLedger, postgres_schema: str) -> None:
    """Not the whole rest of the log fetched and sorted for each page (the plan without
    statistics, right after an import), but read along the position index."""
    for _ in range(4):
        insert_rows(ledger, rows_for(5000))

    ledger.recorder.end_bulk()  # type: ignore[attr-defined]

    plan = page_plan(postgres_schema, 1000, 20_000)
    assert "Sort" not in plan and "practice_events_notification_id_idx" in plan
