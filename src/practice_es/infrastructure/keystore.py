"""The key store: the data key of each person in one ledger, and the check of its master key.

The data keys live in `practice_data_keys`, in the ledger's own database, written through the
recorder's own pool of connections (no second engine), wrapped by the master key when there is
one (`crypto.wrap_data_key`). The ledger key and the key check live beside them (ADR 19).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from eventsourcing.persistence import PersistenceError

from practice_es.infrastructure.crypto import (
    CHECK_PLAINTEXT,
    LEDGER_KEY_AAD,
    CellCipher,
    WrongKey,
    forget_ciphers,
    new_key,
    seal,
    unseal,
    unwrap_data_key,
    wrap_data_key,
)


class KeyStore:
    """The data keys of the people in one ledger, and the check of its master key."""

    def __init__(self, datastore: Any, backend: str, master: bytes | None) -> None:
        self.datastore = datastore
        self.backend = backend
        self.master = master
        schema = getattr(datastore, "schema", None) if backend == "postgres" else None
        prefix = f'"{schema}".' if schema else ""
        self.keys_table = f"{prefix}practice_data_keys"
        self.check_table = f"{prefix}practice_key_check"
        self.ledger_table = f"{prefix}practice_ledger_key"
        # The key of the stored payloads and the read models' cells, wrapped by the master
        # key so a rotation re-wraps it and changes no event (ADR 19). None: not encrypted.
        self.ledger_key: bytes | None = master
        self._cache: dict[UUID, bytes | None] = {}
        self._absent: set[UUID] = set()  # owners seen with no key (yet)
        self.cells = CellCipher(master) if master else None

    # -- SQL on either backend ------------------------------------------------------------

    @contextmanager
    def transaction(self, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    @contextmanager
    def scrubbing_transaction(self) -> Iterator[Any]:
        """A committed transaction that, on SQLite, overwrites the bytes it frees."""
        with self.transaction(commit=True) as c:
            if self.backend == "sqlite":
                c.execute("PRAGMA secure_delete = ON")
            yield c

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.backend == "postgres" else statement

    def create_tables(self) -> None:
        blob = "bytea" if self.backend == "postgres" else "BLOB"
        with self.transaction(commit=True) as c:
            c.execute(f"CREATE TABLE IF NOT EXISTS {self.keys_table} (owner_id TEXT PRIMARY KEY,"
                      f" data_key {blob}, erased_at TEXT)")
            c.execute(f"CREATE TABLE IF NOT EXISTS {self.check_table} (id INTEGER PRIMARY KEY "
                      f"CHECK (id = 1), protected INTEGER NOT NULL, verifier {blob})")
            c.execute(self.ledger_table_ddl())

    def ledger_table_ddl(self) -> str:
        blob = "bytea" if self.backend == "postgres" else "BLOB"
        return (f"CREATE TABLE IF NOT EXISTS {self.ledger_table} (id INTEGER PRIMARY KEY "
                f"CHECK (id = 1), ledger_key {blob} NOT NULL)")

    # -- the master key ---------------------------------------------------------------------

    def open(self, has_events: bool) -> None:
        """Make the tables, and refuse a master key that is not the ledger's (WrongKey)."""
        try:
            row = self._check_row()
        except PersistenceError:
            self.create_tables()
            row = self._check_row()
        if row is None:
            row = self._write_check_row(has_events)
        self._verify(bool(row[0]), row[1])
        if self.master is not None:
            self.ledger_key = self.read_ledger_key(self.master) or self.master
            self.cells = CellCipher(self.ledger_key)

    def read_ledger_key(self, master: bytes) -> bytes | None:
        """The ledger key, unwrapped by `master`; None for a ledger made before ledger keys
        (its payloads are sealed by the master key itself). WrongKey if it does not open."""
        wrapped = self.wrapped_ledger_key()
        if wrapped is None:
            return None
        try:
            return unseal(master, wrapped, LEDGER_KEY_AAD)
        except InvalidTag:
            raise WrongKey("cannot open the ledger key: not the ledger's key") from None

    def wrapped_ledger_key(self) -> bytes | None:
        """The ledger key as stored; None for a ledger from before ADR 19 (no such table)."""
        try:
            with self.transaction(commit=False) as c:
                c.execute(f"SELECT ledger_key FROM {self.ledger_table} WHERE id = 1")
                row = c.fetchone()
        except PersistenceError:
            return None
        return None if row is None else bytes(row["ledger_key"])

    def _check_row(self) -> tuple[int, bytes | None] | None:
        with self.transaction(commit=False) as c:
            c.execute(f"SELECT protected, verifier FROM {self.check_table} WHERE id = 1")
            row = c.fetchone()
        return None if row is None else (row["protected"], _bytes(row["verifier"]))

    def _write_check_row(self, has_events: bool) -> tuple[int, bytes | None]:
        if has_events:
            # A ledger from before the check existed: it says nothing we could verify.
            raise WrongKey("this ledger has no key check; it was made by an older version")
        verifier = seal(self.master, CHECK_PLAINTEXT, b"") if self.master else None
        with self.transaction(commit=True) as c:
            c.execute(self.sql(f"INSERT INTO {self.check_table} (id, protected, verifier) "
                                "VALUES (1, ?, ?) ON CONFLICT DO NOTHING"),
                      (1 if self.master else 0, verifier))
            if self.master is not None:  # (in the same transaction: a racing process's wins)
                wrapped = seal(self.master, new_key(),
                               LEDGER_KEY_AAD)
                c.execute(self.sql(f"INSERT INTO {self.ledger_table} (id, ledger_key) "
                                    "VALUES (1, ?) ON CONFLICT DO NOTHING"), (wrapped,))
        row = self._check_row()
        assert row is not None  # written just now, by us or by a process that raced us
        return row

    def _verify(self, protected: bool, verifier: bytes | None) -> None:
        if protected and self.master is None:
            raise WrongKey("this ledger is encrypted: set it to the ledger's key")
        if not protected and self.master is not None:
            raise WrongKey("this ledger was created without encryption: unset it (encrypting "
                           "an existing ledger is not supported)")
        if self.master is not None and verifier is not None:
            try:
                unseal(self.master, verifier, b"")
            except InvalidTag:
                raise WrongKey("is not the key this ledger was written with") from None

    # -- data keys --------------------------------------------------------------------------

    def data_key(self, owner: UUID, create: bool) -> bytes | None:
        """The owner's data key; None if it was destroyed. `create` makes one if none yet."""
        cached = self._cache.get(owner, _MISSING)  # (one lookup: an import asks per field)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        found = self._select(owner)
        if found is _MISSING and create:
            found = self._insert(owner)
        if found is _MISSING:
            raise PersistenceError(f"no data key for {owner}: the key table is incomplete")
        key = None if found is None else self._unwrap(owner, found)
        self._cache[owner] = key
        return key

    def create_data_keys(self, owners: Sequence[UUID]) -> None:
        """`data_key(owner, create=True)` for many people in one transaction (an import
        records thousands of new clients per batch; a commit per person would dominate)."""
        missing = [owner for owner in dict.fromkeys(owners) if owner not in self._cache]
        if not missing:
            return
        rows = [(str(o), self._wrap(o, new_key())) for o in missing]
        with self.transaction(commit=True) as c:
            c.executemany(self.sql(f"INSERT INTO {self.keys_table} (owner_id, data_key) "
                                    "VALUES (?, ?) ON CONFLICT DO NOTHING"), rows)
            self._still_the_key(c)
        # Read back (a key made at the same moment elsewhere wins), 500 a query.
        self.load_data_keys(missing)

    def load_data_keys(self, owners: Sequence[UUID], chunk: int = 500) -> None:
        """Read many owners' data keys into the cache, `chunk` per query (a rebuild opens
        the events of thousands of people; one query each would dominate it). An owner with
        no row is left to `data_key`, which says so."""
        missing = [owner for owner in dict.fromkeys(owners) if owner not in self._cache]
        for start in range(0, len(missing), chunk):
            part = {str(owner): owner for owner in missing[start:start + chunk]}
            marks = ", ".join("?" * len(part))
            with self.transaction(commit=False) as c:
                c.execute(self.sql(f"SELECT owner_id, data_key FROM {self.keys_table} "
                                    f"WHERE owner_id IN ({marks})"), list(part))
                found = [(row["owner_id"], _bytes(row["data_key"])) for row in c.fetchall()]
            for text, stored in found:
                owner = part[text]
                self._cache[owner] = None if stored is None else self._unwrap(owner, stored)

    def _select(self, owner: UUID) -> Any:
        with self.transaction(commit=False) as c:
            c.execute(self.sql(f"SELECT data_key FROM {self.keys_table} WHERE owner_id = ?"),
                      (str(owner),))
            row = c.fetchone()
        return _MISSING if row is None else _bytes(row["data_key"])

    def _insert(self, owner: UUID) -> bytes | None:
        wrapped = self._wrap(owner, new_key())
        with self.transaction(commit=True) as c:
            # Two processes may create the same owner's key at once: the first one wins and
            # both read back the winner's.
            c.execute(self.sql(f"INSERT INTO {self.keys_table} (owner_id, data_key) "
                                "VALUES (?, ?) ON CONFLICT DO NOTHING"), (str(owner), wrapped))
            self._still_the_key(c)
            c.execute(self.sql(f"SELECT data_key FROM {self.keys_table} WHERE owner_id = ?"),
                      (str(owner),))
            return _bytes(c.fetchone()["data_key"])

    def _still_the_key(self, c: Any) -> None:
        """After wrapping a new key, inside its transaction: refuse it if the master key was
        rotated since this process opened the ledger (ADR 19), else the rotation would miss
        it. The write just made holds SQLite's lock; PostgreSQL's row lock holds the ledger
        key's row until the commit, so a rotation's first step waits for it."""
        if self.master is None or self.ledger_key is self.master:
            return  # not encrypted, or a ledger from before ledger keys: never rotated
        lock = " FOR SHARE" if self.backend == "postgres" else ""
        c.execute(f"SELECT ledger_key FROM {self.ledger_table} WHERE id = 1{lock}")
        row = c.fetchone()
        try:
            unseal(self.master, bytes(row["ledger_key"]), LEDGER_KEY_AAD)
        except InvalidTag:
            raise WrongKey("the ledger's master key was changed (`practice key rotate`) since "
                           "this process started: restart it with the new key") from None

    def _wrap(self, owner: UUID, key: bytes) -> bytes:
        return wrap_data_key(self.master, owner, key)

    def _unwrap(self, owner: UUID, stored: bytes) -> bytes:
        return unwrap_data_key(self.master, owner, stored)

    def destroy(self, owners: Sequence[UUID]) -> bool:
        """Destroy the owners' data keys (crypto-shredding). Returns False if, on SQLite, the
        old bytes may still sit in the write-ahead log (another process was reading)."""
        now = datetime.now(UTC).isoformat()
        with self.scrubbing_transaction() as c:
            for owner in owners:
                c.execute(self.sql(
                    f"INSERT INTO {self.keys_table} AS k (owner_id, data_key, erased_at) "
                    "VALUES (?, NULL, ?) ON CONFLICT (owner_id) DO UPDATE SET data_key = NULL, "
                    "erased_at = COALESCE(k.erased_at, excluded.erased_at)"), (str(owner), now))
        for owner in owners:
            self._cache[owner] = None
        forget_ciphers()
        return self.checkpoint()

    def checkpoint(self) -> bool:
        """SQLite: copy the WAL into the file and truncate it, so the key's old page leaves it."""
        if self.backend != "sqlite":
            return True
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cursor.fetchone()[0]
        return not busy

    def is_erased(self, owner: UUID) -> bool:
        """Whether the owner's key was destroyed; asked of the store once per owner (an import
        asks for every row)."""
        if owner not in self._cache and owner not in self._absent:
            found = self._select(owner)
            if found is _MISSING:
                self._absent.add(owner)  # no key yet: a new person
            else:
                self._cache[owner] = None if found is None else self._unwrap(owner, found)
        return owner in self._cache and self._cache[owner] is None


_MISSING = object()


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)
