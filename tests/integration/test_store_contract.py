"""eventsourcing's own contract tests (`eventsourcing.tests.persistence`), run against the
stores exactly as PracticeLedger configures them: the recorders are taken from a constructed
ledger (the audit chain recorders of ADR 8, on an SQLite file and on a PostgreSQL schema),
with and without `PRACTICE_CIPHER_KEY`.

Run:
- ApplicationRecorderTestCase: `ledger.recorder` (the event log).
- AggregateRecorderTestCase: `ledger.snapshots.recorder` (the snapshot store).
- NonInterleavingNotificationIDsBaseCase: `ledger.recorder`.
- TrackingRecorderTestCase: the tracking recorder the ledger's own factory makes.
- TranscoderTestCase: our OrjsonTranscoder, for the cases that apply (see below).

Not run, and why:
- ProcessRecorderTestCase: the ledger has no process applications; read models are pulled
  into SQL tables with their positions in the same transaction (ADR 12), not tracked by a
  process recorder.
- `optional_test_insert_subscribe`: nothing subscribes (catch-up is pull-based, and
  eventsourcing's SQLite recorder has no `subscribe()`).
- InfrastructureFactoryTestCase: it tests eventsourcing's factory with its own JSON transcoder,
  not a store; that the factory builds our recorder classes is checked below instead.

The module `eventsourcing.tests.persistence` imports `eventsourcing.cipher`, whose AES needs
pycryptodome; we use the same AES-GCM from `cryptography` (`eventsourcing.cryptography`,
identical API and format), so that module name is pointed at it before the import.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any, ClassVar
from unittest import SkipTest

import eventsourcing.cryptography
import pytest

sys.modules.setdefault("eventsourcing.cipher", eventsourcing.cryptography)
contract: Any = importlib.import_module("eventsourcing.tests.persistence")

from practice_es.application import PracticeLedger  # noqa: E402
from practice_es.infrastructure.chain import RECORDER_TOPICS  # noqa: E402
from practice_es.infrastructure.settings import Settings  # noqa: E402
from practice_es.infrastructure.transcoding import OrjsonTranscoder  # noqa: E402
from tests.conftest import POSTGRES_URL, _admin_connect  # noqa: E402
from tests.soak import SOAK  # noqa: E402

QUICK = not SOAK
KEY = eventsourcing.cryptography.AESCipher.create_key(32)


class LedgerStores:
    """Fresh ledgers on one backend, with or without a master key; all removed afterwards."""

    __test__ = False  # the concrete classes below, one per backend and key setting, run
    backend: ClassVar[str] = "sqlite"
    encrypted: ClassVar[bool] = False

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.ledgers: list[PracticeLedger] = []
        self.schemas: list[str] = []
        self.folder = tempfile.mkdtemp(prefix="contract-")

    def tearDown(self) -> None:
        # The concurrency cases leave their reader threads to stop by themselves: closing the
        # connections under a thread still reading would crash SQLite's C library.
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and thread.name.startswith("Thread"):
                thread.join(timeout=10)
        for ledger in self.ledgers:
            ledger.close()
        if self.schemas:
            with _admin_connect() as conn:
                for schema in self.schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        shutil.rmtree(self.folder, ignore_errors=True)
        super().tearDown()  # type: ignore[misc]

    def new_ledger(self) -> PracticeLedger:
        ledger = PracticeLedger(Settings(db_url=self._url(), actor="contract",
                                         cipher_key=KEY if self.encrypted else None))
        self.ledgers.append(ledger)
        return ledger

    def _url(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder}/{uuid.uuid4().hex}.db"
        if not POSTGRES_URL:
            raise SkipTest("PostgreSQL tests skipped: PRACTICE_TEST_POSTGRES_URL is not set")
        schema = f"practice_contract_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with _admin_connect() as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return f"{POSTGRES_URL.split('?')[0]}?schema={schema}"


class EventLogContract(LedgerStores, contract.ApplicationRecorderTestCase):  # type: ignore[misc]
    def create_recorder(self) -> Any:
        recorder = self.new_ledger().recorder
        assert type(recorder).__name__.startswith("Chained"), "not the ledger's own recorder"
        return recorder

    @pytest.mark.slow
    def test_performance(self) -> None:
        if QUICK:
            raise SkipTest("prints timings only; run under `make soak`")
        super().test_performance()

    @pytest.mark.slow
    def test_concurrent_throughput(self) -> None:
        if QUICK:
            raise SkipTest("prints a rate only; run under `make soak`")
        super().test_concurrent_throughput()


class SnapshotStoreContract(LedgerStores, contract.AggregateRecorderTestCase):  # type: ignore[misc]
    def create_recorder(self) -> Any:
        snapshots = self.new_ledger().snapshots
        assert snapshots is not None  # the ledger snapshots clients (ADR 10)
        return snapshots.recorder

    @pytest.mark.slow
    def test_performance(self) -> None:
        if QUICK:
            raise SkipTest("prints timings only; run under `make soak`")
        super().test_performance()


class NonInterleavingContract(
        LedgerStores, contract.NonInterleavingNotificationIDsBaseCase):  # type: ignore[misc]
    def create_recorder(self) -> Any:
        return self.new_ledger().recorder


class TrackingContract(LedgerStores, contract.TrackingRecorderTestCase):  # type: ignore[misc]
    def create_recorder(self) -> Any:
        return self.new_ledger().factory.tracking_recorder()


CONTRACTS = (EventLogContract, SnapshotStoreContract, NonInterleavingContract, TrackingContract)

# One concrete TestCase per contract, backend and key setting (pytest collects these).
for _base in CONTRACTS:
    for _backend in ("sqlite", "postgres"):
        for _encrypted in (False, True):
            _name = (f"Test{_base.__name__}{_backend.title()}"
                     f"{'Encrypted' if _encrypted else 'Plain'}")
            globals()[_name] = type(_name, (_base,), {
                "backend": _backend, "encrypted": _encrypted, "__module__": __name__,
                "__test__": True})
del _base, _backend, _encrypted, _name


class TestOrjsonTranscoderContract(contract.TranscoderTestCase):  # type: ignore[misc]
    """Our transcoder only ever encodes a pydantic `model_dump()`: dicts of JSON values,
    UUIDs and datetimes (which orjson writes natively and pydantic reads back). Events never
    hold tuples, container subclasses or custom types — pydantic rebuilds every typed value
    from the model — so the cases for eventsourcing's registry of custom transcodings do not
    apply and are skipped with that reason."""

    NO_REGISTRY = "our transcoder has no custom-type registry: pydantic types the values"

    def construct_transcoder(self) -> Any:
        return OrjsonTranscoder()

    def _skip(self) -> None:
        raise SkipTest(self.NO_REGISTRY)

    test_tuple = test_dict_subclass = test_list_subclass = _skip
    test_str_subclass = test_int_subclass = test_mixed = _skip
    test_custom_type_in_dict = test_nested_custom_type = test_custom_type_error = _skip


def test_the_contract_ran_against_the_recorders_the_ledger_uses(db_url: str) -> None:
    """The recorders above are the ledger's own: the audit chain recorders (ADR 8)."""
    ledger = PracticeLedger(Settings(db_url=db_url, actor="contract"))
    try:
        topic = RECORDER_TOPICS[ledger.location.backend]
        assert type(ledger.recorder).__name__ == topic.rsplit(":", 1)[1]
    finally:
        ledger.close()


def test_a_bulk_insert_stores_and_chains_what_insert_events_would(
        db_url: str, tmp_path: Path) -> None:
    """Both ledger recorders' `insert_rows` (an import's batches: executemany on SQLite,
    binary COPY on PostgreSQL) against the same events through eventsourcing's own
    `insert_events`, into a second ledger on the same backend: the same log, the same head."""
    from eventsourcing.persistence import StoredEvent

    from practice_es.infrastructure.chain import as_chained

    rows = [(uuid.uuid4().bytes, version, f"practice:Client.Event{version}",
             b'{"n":%d}' % n + bytes(range(n % 50))) for n in range(300) for version in (1, 2)]
    if db_url.startswith("sqlite"):
        other = f"sqlite:///{tmp_path / 'other.db'}"
    else:
        schema = f"practice_contract_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with _admin_connect() as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        other = f"{POSTGRES_URL.split('?')[0]}?schema={schema}"
    bulk = PracticeLedger(Settings(db_url=db_url, actor="contract"))
    single = PracticeLedger(Settings(db_url=other, actor="contract"))
    try:
        half = len(rows) // 2  # in two batches, as an import sends them
        positions = bulk.recorder.insert_rows(rows[:half]) + bulk.recorder.insert_rows(
            rows[half:])
        single.recorder.insert_events([
            StoredEvent(originator_id=uuid.UUID(bytes=oid), originator_version=version,
                        topic=topic, state=state) for oid, version, topic, state in rows])
        logs = [[(n.id, n.originator_id, n.originator_version, n.topic, n.state)
                 for n in app.recorder.select_notifications(start=1, limit=10_000)]
                for app in (bulk, single)]
        heads = [as_chained(app.recorder).chain_head() for app in (bulk, single)]
    finally:
        bulk.close()
        single.close()
        if not db_url.startswith("sqlite"):
            with _admin_connect() as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    assert positions == list(range(1, len(rows) + 1))
    assert logs[0] == logs[1] and len(logs[0]) == len(rows)
    assert heads[0] == heads[1] and heads[0][0] == len(rows)
