"""The event store under the ledger: opening it, its keys and mapper, and its snapshots.

`LedgerStore` is the eventsourcing `Application` configured for this practice: what the read
side (projections, audit) needs. `AggregateStore` (aggregates.py) loads and saves aggregates
over it, and the service (`practice_es.application.PracticeLedger`) builds on that with one
method per user action.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import EventStore, PersistenceError, Recording
from eventsourcing.utils import Environment, EnvType

from practice_es.domain.errors import InvalidInput
from practice_es.domain.events import PracticeAggregate
from practice_es.infrastructure.chain import RECORDER_TOPICS
from practice_es.infrastructure.crypto import LedgerCipher, parse_master_key
from practice_es.infrastructure.keystore import KeyStore
from practice_es.infrastructure.sealing import Sealer
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.snapshots import CurrentSnapshots, project
from practice_es.infrastructure.store import (
    NoLedger,
    StoreLocation,
    cannot_write,
    holds_ledger,
    opened_read_only,
    parse_store_url,
    prepare_sqlite_file,
)
from practice_es.infrastructure.transcoding import OrjsonTranscoder, PydanticMapper

DDL_ATTEMPTS = 5  # processes that collide on the store's DDL when they start retry (__init__)
_DDL_COLLISIONS = ("concurrently updated", "pg_type_typname_nsp_index")


def _ddl_collision(error: Exception) -> bool:
    return any(words in str(error) for words in _DDL_COLLISIONS)


class StoreUnavailable(InvalidInput):
    """The database cannot be opened or reached (exit code 2, nothing written)."""


def existing_ledger(location: StoreLocation, shown: str) -> StoreLocation:
    """The location of a ledger that exists (read-only if this process cannot write it)."""
    if not holds_ledger(location):
        path = location.path
        if path is not None and not path.parent.is_dir():
            raise NoLedger(path, f" (the folder {path.parent} does not exist)")
        raise NoLedger(path if path is not None else shown)
    if location.path is not None and cannot_write(location.path):
        return opened_read_only(location)
    return location


class LedgerStore(Application):  # type: ignore[type-arg]
    def __init__(self, settings: Settings | None = None, *, check_key: bool = True,
                 create: bool = True) -> None:
        """`check_key=False` opens the store without the master-key check, for `audit verify`:
        it hashes stored bytes and decodes nothing, so an auditor needs no key (ADR 8).
        `create=False` opens only a ledger that exists (SPEC §9: a mistyped path creates none);
        an SQLite ledger this process cannot write is then opened read-only (ADR 33)."""
        self.settings = settings or Settings.from_env()
        self._saving: dict[UUID, PracticeAggregate] = {}  # the aggregates `save` is saving
        self._due: list[PracticeAggregate] | None = None  # those its save snapshots
        self.location: StoreLocation = parse_store_url(self.settings.db_url)
        master = parse_master_key(self.settings.cipher_key) if self.settings.cipher_key else None
        if not create:
            self.location = existing_ledger(self.location, self._safe_url())
        elif self.location.path is not None:
            prepare_sqlite_file(self.location.path)
        # Every start re-runs the store's idempotent DDL (eventsourcing's tables, type and
        # function, the snapshots, the key tables). On PostgreSQL processes starting at once can
        # collide on it: CREATE OR REPLACE FUNCTION ("tuple concurrently updated"), or two
        # CREATE TYPE/TABLE IF NOT EXISTS in a fresh schema (the loser's row in pg_type's unique
        # index). Running it again is safe (the winner's objects exist by then): retried.
        for attempt in range(1, DDL_ATTEMPTS + 1):
            try:
                super().__init__(env=self.location.env)
                self.keys = self._open_keys(master, check_key)
                return
            except (PersistenceError, sqlite3.DatabaseError) as error:
                self._close_partly_open()
                if attempt < DDL_ATTEMPTS and _ddl_collision(error):
                    continue
                # sqlite3's own error escapes eventsourcing when the file is not a database.
                raise StoreUnavailable("db", f"cannot open {self._safe_url()}: {error}; "
                                       "nothing was recorded") from None

    def touched_since(self, position: int, head: int, most: int) -> set[str] | None:
        """The ids of the aggregates with an event recorded after `position` up to `head`,
        or None when there may be more than `most` such events (then read everything)."""
        if head <= position:
            return set()
        if head - position > most:
            return None
        found = self.recorder.select_notifications(start=position + 1, limit=most, stop=head)
        return {str(notification.originator_id) for notification in found}

    def _close_partly_open(self) -> None:
        """Close what an open that failed half way had opened (its connection pools)."""
        for part in ("recorder", "snapshots"):
            store = getattr(self, part, None)
            recorder = getattr(store, "recorder", store)
            datastore = getattr(recorder, "datastore", None)
            if datastore is not None:
                with contextlib.suppress(Exception):
                    datastore.close()

    def _safe_url(self) -> str:
        """The URL without its password, for messages."""
        url = self.location.url
        return url.split("@", 1)[-1] if "@" in url else url

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Only what the URL says: a stray variable in the shell must not move the ledger.
        settings = dict(env or {})
        settings["IS_SNAPSHOTTING_ENABLED"] = "y"
        if self.settings.catch_up == "off":
            settings["CREATE_TABLE"] = "n"  # a read-only standby: no DDL (ADR 31)
        # The recorder keeps the audit hash chain in the insert transaction (ADR 0008).
        settings["APPLICATION_RECORDER_TOPIC"] = RECORDER_TOPICS[self.location.backend]
        if self.settings.cipher_key:
            # eventsourcing's `cryptography` AES-GCM, keyed by the ledger key (ADR 19).
            settings["CIPHER_TOPIC"] = "practice_es.infrastructure.crypto:LedgerCipher"
            settings["CIPHER_KEY"] = self.settings.cipher_key
        return Environment(name, settings)

    def _open_keys(self, master: bytes | None, check_key: bool = True) -> KeyStore:
        """Check the master key, then seal personal fields under per-person keys (ADR 9)."""
        datastore = self.recorder.datastore  # type: ignore[attr-defined]
        keys = KeyStore(datastore, self.location.backend, master)
        if not check_key:
            return keys  # no sealer either: this ledger reads stored bytes, never payloads
        try:
            keys.open(has_events=bool(self.recorder.max_notification_id()))
        except BaseException:
            self.close()
            raise
        mapper = cast(PydanticMapper, self.mapper)
        if isinstance(mapper.cipher, LedgerCipher) and keys.ledger_key is not None:
            mapper.cipher.use(keys.ledger_key)
        mapper.sealer = Sealer(keys, self._first_state)
        return keys

    def _first_state(self, ident: UUID) -> tuple[str, dict[str, Any]] | None:
        """The topic and stored state of an aggregate's first event (it names the client)."""
        stored = self.recorder.select_events(ident, limit=1)
        if not stored:
            return None
        return stored[0].topic, cast(PydanticMapper, self.mapper).decode_state(stored[0])

    def construct_mapper(self) -> PydanticMapper:
        return PydanticMapper(
            transcoder=OrjsonTranscoder(),
            cipher=self.factory.cipher(),
            compressor=self.factory.compressor(),
        )

    def construct_snapshot_store(self) -> EventStore[UUID]:
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return CurrentSnapshots(cast(PydanticMapper, self.mapper), recorder, self.events)

    def take_snapshot(self, aggregate_id: UUID, version: int | None = None,
                      projector_func: Any = project) -> None:
        """Snapshot the aggregate: as it was just saved when the snapshot is due on a save
        (no reload), and in place of its older snapshots (`CurrentSnapshots.replace`)."""
        aggregate: Any = self._saving.get(aggregate_id)
        if aggregate is None or aggregate.version != version:
            aggregate = self.repository.get(aggregate_id, version=version,
                                            projector_func=projector_func)
        if self._due is not None:
            self._due.append(aggregate)  # written as the save ends
        else:
            self._current_snapshots().replace([aggregate], self.location.backend)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save every pending event in one transaction, then the snapshots due, all in one
        more (a lapse sweep saves 500 clients at once)."""
        self._saving = {obj.id: obj for obj in objs if isinstance(obj, PracticeAggregate)}
        self._due = []
        try:
            recordings = super().save(*objs, **kwargs)
            self._current_snapshots().replace(self._due, self.location.backend)
            return recordings
        finally:
            self._saving, self._due = {}, None

    def _current_snapshots(self) -> CurrentSnapshots:
        assert self.snapshots is not None  # (construct_env always enables snapshotting)
        return cast(CurrentSnapshots, self.snapshots)
