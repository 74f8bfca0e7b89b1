"""One URL chooses the store: an SQLite file (the default) or a PostgreSQL server.

The URL is turned into the environment eventsourcing's own recorders read (ADR 0003).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from practice_es.domain.errors import InvalidInput

SQLITE_LOCK_TIMEOUT_SECONDS = "30"


@dataclass(frozen=True)
class StoreLocation:
    """A parsed database URL: which backend, and the eventsourcing settings for it."""

    backend: str  # "sqlite" or "postgres"
    url: str
    env: dict[str, str]
    path: Path | None = None  # the SQLite file, if any
    schema: str | None = None  # the PostgreSQL schema, if not the default

    def sqlalchemy_url(self) -> str:
        """The same database, as SQLAlchemy names it (read models live beside the events)."""
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


def prepare_sqlite_file(path: Path) -> None:
    """Create the ledger file readable and writable by its owner only (health records)."""
    if path.exists():
        return
    if not path.parent.exists():
        raise InvalidInput("db", f"the folder {path.parent} does not exist")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


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
