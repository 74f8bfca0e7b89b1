"""One URL chooses the store: an SQLite file (the default) or a PostgreSQL server.

The URL is turned into the environment eventsourcing's own recorders read (ADR 0003).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit, urlunsplit

from practice_es.domain.errors import InvalidInput

SQLITE_LOCK_TIMEOUT_SECONDS = "30"
EVENTS_TABLE = {"sqlite": "stored_events", "postgres": "practice_events"}


@dataclass(frozen=True)
class StoreLocation:
    """A parsed database URL: which backend, and the eventsourcing settings for it."""

    backend: str  # "sqlite" or "postgres"
    url: str
    env: dict[str, str]
    path: Path | None = None  # the SQLite file, if any
    schema: str | None = None  # the PostgreSQL schema, if not the default
    read_only: bool = False  # an SQLite file this process cannot write: opened immutable

    def sqlalchemy_url(self) -> str:
        """The same database, as SQLAlchemy names it (read models live beside the events)."""
        if self.backend == "sqlite" and self.read_only and self.path:
            return f"sqlite:///{_read_only_uri(self.path)}&uri=true"
        if self.backend == "sqlite":
            return f"sqlite:///{self.path}" if self.path else "sqlite://"
        parts = urlsplit(self.url)
        return f"postgresql+psycopg://{parts.netloc}{parts.path}"


def parse_store_url(url: str) -> StoreLocation:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return _sqlite(url)
    if scheme in ("postgresql", "postgresql+psycopg", "postgres"):
        return _postgres(url)
    raise InvalidInput(
        "db", f"'{url}' is not a database URL (sqlite:///FILE or postgresql+psycopg://…)"
    )


def _sqlite(url: str) -> StoreLocation:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise InvalidInput("db", f"'{url}' is not an SQLite URL (sqlite:///FILE)")
    path = Path(unquote(url[len(prefix):]))
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": SQLITE_LOCK_TIMEOUT_SECONDS,
    }
    return StoreLocation(backend="sqlite", url=url, env=env, path=path)


def _postgres(url: str) -> StoreLocation:
    parts = urlsplit(url)
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not dbname:
        raise InvalidInput(
            "db", f"'{url}' needs a host and a database (postgresql+psycopg://USER@HOST/DB)"
        )
    query = parse_qs(parts.query)
    schema = query.get("schema", [None])[0]
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or os.environ.get("USER", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_LOCK_TIMEOUT": "30",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return StoreLocation(backend="postgres", url=url, env=env, schema=schema)


class NoLedger(InvalidInput):
    """A command other than those that create a ledger, on a database that holds none."""

    def __init__(self, where: object, why: str = "") -> None:
        super().__init__("db", f"no ledger at {where}{why}: practice init creates one")


def _read_only_uri(path: Path) -> str:
    """SQLite's URI for a file opened read-only and immutable: no lock, no WAL index, which a
    read-only mount or copy cannot hold (so nobody may write it meanwhile: it cannot)."""
    return f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"


def cannot_write(path: Path) -> bool:
    """An existing ledger file this process cannot change: on a read-only mount, or a copy
    without write permission (SQLite also needs its folder, for the WAL)."""
    return path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def opened_read_only(location: StoreLocation) -> StoreLocation:
    """The same SQLite ledger, opened read-only (commands that only read can still run)."""
    assert location.path is not None
    env = {**location.env, "SQLITE_DBNAME": _read_only_uri(location.path)}
    return dataclasses.replace(location, env=env, read_only=True)


def holds_ledger(location: StoreLocation) -> bool:
    """Whether the database holds a ledger (its events table), without creating anything.
    A database that cannot be asked counts as holding one: opening it then says why."""
    if location.backend == "sqlite":
        return location.path is not None and _sqlite_holds_ledger(location.path)
    return _postgres_holds_ledger(location)


def _sqlite_holds_ledger(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    # Immutable only where nobody can write: elsewhere the tables may still be in the WAL.
    uri = _read_only_uri(path) if cannot_write(path) else f"file:{quote(str(path))}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            return conn.execute(query, (EVENTS_TABLE["sqlite"],)).fetchone() is not None
    except sqlite3.Error:
        return True


def _postgres_holds_ledger(location: StoreLocation) -> bool:
    import psycopg

    table = EVENTS_TABLE["postgres"]
    name = f'"{location.schema}".{table}' if location.schema else table
    try:
        with admin_connection(location) as conn:
            row = conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()
    except psycopg.Error:
        return True
    return row is not None and row[0] is not None


def prepare_sqlite_file(path: Path) -> None:
    """Create the ledger file readable and writable by its owner only (health records), and
    already in WAL mode: SQLite switches a file to WAL without waiting on its busy timeout, so
    processes creating one ledger at once would otherwise fail with 'database is locked'."""
    if path.exists():
        return
    if not path.parent.exists():
        raise InvalidInput("db", f"the folder {path.parent} does not exist")
    draft = path.with_name(f".{path.name}.new-{os.getpid()}")
    try:
        os.close(os.open(draft, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
        with contextlib.closing(sqlite3.connect(draft)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        _publish(draft, path)
    except (OSError, sqlite3.Error) as error:
        raise InvalidInput("db", f"cannot create {path}: {error}; nothing was recorded") from None
    finally:
        for leftover in (draft, Path(f"{draft}-wal"), Path(f"{draft}-shm")):
            leftover.unlink(missing_ok=True)


def _publish(draft: Path, path: Path) -> None:
    """Give the draft file the ledger's name unless another process got there first."""
    try:
        os.link(draft, path)  # atomic: the first process's file wins, the others use it
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links: an empty file, switched to WAL later
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def admin_connection(location: StoreLocation) -> Any:
    """A plain autocommit psycopg connection to the server the URL names (DDL, registry)."""
    import psycopg

    env = location.env
    return psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=5, autocommit=True,
    )


def server_name(location: StoreLocation) -> str:
    env = location.env
    return f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"


def create_postgres_schema(location: StoreLocation) -> None:
    """`practice init` on a URL naming a schema creates it, so a new practice needs no psql."""
    if location.backend != "postgres" or not location.schema:
        return
    import psycopg
    from psycopg import sql

    try:
        with admin_connection(location) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(location.schema)))
    except psycopg.Error as error:
        raise InvalidInput("db", f"cannot create schema {location.schema} on "
                           f"{server_name(location)}: {type(error).__name__}") from None


def with_schema(url: str, schema: str) -> str:
    """The same PostgreSQL URL, naming another schema (`?schema=`)."""
    parts = urlsplit(url)
    query = {k: v for k, v in parse_qs(parts.query).items() if k != "schema"}
    query["schema"] = [schema]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
