"""A group of practices on one PostgreSQL database: one schema per practice (its own log, hash
chain and read models, so no clinic's writes wait on another's insert lock), and a registry
table naming them, kept in the schema the URL names (`public` by default). ADR 29."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from practice_es.domain.errors import InvalidInput
from practice_es.infrastructure.store import (
    StoreLocation,
    admin_connection,
    parse_store_url,
    server_name,
    with_schema,
)

NAME_RULE = "a slug: lowercase letters, digits and dashes, at most 40, starting with a letter " \
            "or digit"
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
REGISTRY = "practice_registry"
_MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names


@dataclass(frozen=True)
class Practice:
    name: str
    schema: str
    added_at: datetime
    url: str  # the database URL that selects its schema


def check_name(name: str) -> str:
    if not _SLUG.fullmatch(name):
        raise InvalidInput("practice", f"'{name}' is not {NAME_RULE}")
    return name


def group_location(db_url: str) -> StoreLocation:
    """The group's database: PostgreSQL only (on SQLite a practice is a file)."""
    location = parse_store_url(db_url)
    if location.backend != "postgres":
        raise InvalidInput("practice", "on SQLite a practice is a file: give each practice its "
                           "own --db sqlite:///FILE (groups of practices need PostgreSQL)")
    return location


def schema_for(base: str | None, name: str) -> str:
    """The schema of a practice: its name with underscores, after the group's own schema when
    the URL names one (so test groups stay apart), shortened by a digest past 63 bytes."""
    stem = name.replace("-", "_")
    schema = f"practice_{stem}" if base in (None, "public") else f"{base}_{stem}"
    if len(schema) > _MAX_IDENTIFIER:
        digest = hashlib.sha1(schema.encode()).hexdigest()[:10]
        schema = f"{schema[:_MAX_IDENTIFIER - 11]}_{digest}"
    return schema


def _registry(location: StoreLocation) -> Any:
    from psycopg import sql

    return sql.SQL("{}.{}").format(sql.Identifier(location.schema or "public"),
                                   sql.Identifier(REGISTRY))


def _ensure_registry(conn: Any, location: StoreLocation) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
        sql.Identifier(location.schema or "public")))
    conn.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, schema_name text NOT NULL UNIQUE,"
        " added_at timestamptz NOT NULL DEFAULT now())").format(_registry(location)))


def add_practice(db_url: str, name: str) -> Practice:
    """Register the practice and create its schema (its tables are the ledger's to create)."""
    import psycopg
    from psycopg import sql

    location = group_location(db_url)
    check_name(name)
    schema = schema_for(location.schema, name)
    try:
        with admin_connection(location) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(7302)")  # two adds take turns
            _ensure_registry(conn, location)
            found = conn.execute(sql.SQL("SELECT 1 FROM {} WHERE name = %s").format(
                _registry(location)), (name,)).fetchone()
            if found:
                raise InvalidInput("practice", f"'{name}' is already in the group")
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(schema)))
            row = conn.execute(sql.SQL(
                "INSERT INTO {} (name, schema_name) VALUES (%s, %s) RETURNING added_at").format(
                _registry(location)), (name, schema)).fetchone()
    except psycopg.Error as error:
        raise InvalidInput("db", f"cannot add practice {name} on {server_name(location)}: "
                           f"{type(error).__name__}") from None
    return Practice(name, schema, row[0], with_schema(db_url, schema))


def list_practices(db_url: str) -> list[Practice]:
    """Every practice of the group, by name (none before the first `group add`)."""
    import psycopg
    from psycopg import sql

    location = group_location(db_url)
    try:
        with admin_connection(location) as conn:
            exists = conn.execute("SELECT to_regclass(%s)", (
                f'"{location.schema or "public"}".{REGISTRY}',)).fetchone()
            if exists is None or exists[0] is None:
                return []
            rows = conn.execute(sql.SQL(
                "SELECT name, schema_name, added_at FROM {} ORDER BY name").format(
                _registry(location))).fetchall()
    except psycopg.Error as error:
        raise InvalidInput("db", f"cannot read the practices on {server_name(location)}: "
                           f"{type(error).__name__}") from None
    return [Practice(name, schema, added, with_schema(db_url, schema))
            for name, schema, added in rows]


def practice_url(db_url: str, name: str) -> str:
    """The URL of the named practice's schema; an unknown name is exit 2."""
    check_name(name)
    for practice in list_practices(db_url):
        if practice.name == name:
            return practice.url
    location = parse_store_url(db_url)
    raise InvalidInput("practice", f"no practice '{name}' in the group at "
                       f"{server_name(location)}: `practice group add {name}` adds it")
