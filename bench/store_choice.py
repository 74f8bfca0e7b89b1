"""Event-store write/read throughput: eventsourcing's recorders vs eventsourcing-sqlalchemy.

Evidence for docs/adr/0003-event-store.md. Run from the repository root:

    python bench/store_choice.py [--events N] [--repeats R] [--single-events M]

Needs eventsourcing 9.5.x, eventsourcing-sqlalchemy, SQLAlchemy 2, psycopg 3 and orjson.
PostgreSQL figures use a scratch database ``bench_store_<pid>`` created through
``--pg-dsn`` (default: 127.0.0.1:5432, user postgres, database test) and dropped
afterwards; they are skipped when that server cannot be reached.

What is timed:
* raw baseline writes: inserting pre-built rows (same topic, uuid4 IDs, orjson
  state of the same size) in ONE transaction (sqlite3 executemany; psycopg
  executemany and binary COPY) on the same table layout as option 1;
* application writes: only ``app.save(*aggregates)`` (event collection, the
  orjson transcoder, the recorder's insert and commit); building the aggregates
  is not timed;
* reads: paging through the whole log, 10,000 notifications a page, with
  ``app.notification_log.select`` (and then ``app.mapper.to_domain_event``),
  against raw ``SELECT ... WHERE id >= ? ORDER BY id LIMIT ?`` pages.
Each trial starts on an empty store; trials run round-robin ``--repeats``
times and the best run of each figure is reported, all runs alongside.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import itertools
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version as dist_version
from pathlib import Path
from time import perf_counter
from types import TracebackType
from typing import Any, Protocol
from uuid import UUID, uuid4

import orjson
import psycopg
import psycopg.conninfo
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    Mapper,
    Transcoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from sqlalchemy.engine import URL

EVENTS_PER_AGGREGATE = 5
PAGE_SIZE = 10_000
OPTION_1 = "eventsourcing"  # eventsourcing.sqlite / eventsourcing.postgres
OPTION_2 = "eventsourcing-sqlalchemy"
DEFAULT_PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"

# A practice-ledger-like entry; with the event's timestamp it encodes to ~360 bytes.
ENTRY: dict[str, Any] = {
    "account": "practice:expenses:premises:rent",
    "counter_account": "practice:assets:bank:current",
    "amount_minor": 125_000,
    "currency": "GBP",
    "vat_minor": 25_000,
    "reference": "INV-2026-000123",
    "memo": "Monthly rent, consulting rooms 2 and 3 (Q4)",
    "tags": ["rent", "premises", "q4"],
}


# --------------------------------------------------------------------------- domain


class OrjsonTranscoder(Transcoder):
    """orjson-based replacement for JSONTranscoder, using the same tagged-dict format.

    orjson has no ``object_hook``, so decoding walks the result for
    ``{"_type_": ..., "_data_": ...}`` dicts; it skips the walk when no tag is present.
    orjson serialises UUID natively without calling ``default``, so UUID-valued
    event attributes come back as ``str`` (originator IDs are unaffected: the
    recorder stores them in their own column).
    """

    def __init__(self) -> None:
        self._by_type: dict[type, Transcoding] = {}
        self._by_name: dict[str, Transcoding] = {}

    def register(self, transcoding: Transcoding) -> None:
        self._by_type[transcoding.type] = transcoding
        self._by_name[transcoding.name] = transcoding

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._tag, option=orjson.OPT_PASSTHROUGH_DATETIME)

    def decode(self, data: bytes) -> Any:
        obj = orjson.loads(data)
        return self._untag(obj) if b'"_type_"' in data else obj

    def _tag(self, obj: Any) -> dict[str, Any]:
        try:
            transcoding = self._by_type[type(obj)]
        except KeyError:
            msg = f"No transcoding registered for {type(obj)}"
            raise TranscodingNotRegisteredError(msg) from None
        return {"_type_": transcoding.name, "_data_": transcoding.encode(obj)}

    def _untag(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
                return self._by_name[obj["_type_"]].decode(self._untag(obj["_data_"]))
            return {key: self._untag(value) for key, value in obj.items()}
        if isinstance(obj, list):
            return [self._untag(value) for value in obj]
        return obj


def new_orjson_transcoder() -> OrjsonTranscoder:
    transcoder = OrjsonTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


class Ledger(Aggregate):
    @event("Opened")
    def __init__(self, entry: dict[str, Any]) -> None:
        self.entries = [entry]

    @event("Posted")
    def post(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)


class BenchApp(Application[UUID]):
    log_section_size = PAGE_SIZE  # lets notification_log.select() return whole pages

    def construct_transcoder(self) -> Transcoder:
        return new_orjson_transcoder()


def new_ledgers(count: int) -> Iterator[Ledger]:
    for _ in range(count):
        ledger = Ledger(ENTRY)
        for _ in range(EVENTS_PER_AGGREGATE - 1):
            ledger.post(ENTRY)
        yield ledger


def chunks(items: Iterable[Ledger], size: int) -> Iterator[list[Ledger]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def mean_state_size() -> float:
    mapper: Mapper[UUID] = Mapper(transcoder=new_orjson_transcoder())
    events = next(new_ledgers(1)).collect_events()
    return sum(len(mapper.to_stored_event(e).state) for e in events) / len(events)


RawRow = tuple[UUID, int, str, bytes]


def raw_rows(count: int) -> Iterator[RawRow]:
    """Rows shaped like the applications' stored events (same topic and state sizes)."""
    topic = f"{__name__}:Ledger.Posted"  # as the applications record it
    for _ in range(count // EVENTS_PER_AGGREGATE):
        originator_id = uuid4()
        for version in range(1, EVENTS_PER_AGGREGATE + 1):
            timestamp = {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()}
            yield (
                originator_id,
                version,
                topic,
                orjson.dumps({"timestamp": timestamp, "entry": ENTRY}),
            )


# --------------------------------------------------------------------------- timing


class Stopwatch:
    """Accumulates the time spent inside ``with stopwatch:`` blocks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __enter__(self) -> Stopwatch:
        self._started = perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.seconds += perf_counter() - self._started


@dataclass(frozen=True)
class Sample:
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


Measurements = dict[str, Sample]  # figure key -> sample, as returned by one trial


Trial = Callable[[], Measurements]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    baseline: str  # key of the raw figure this one is compared with


@dataclass
class Results:
    samples: dict[str, list[Sample]] = field(default_factory=dict)

    def add(self, measurements: Measurements) -> None:
        for key, sample in measurements.items():
            self.samples.setdefault(key, []).append(sample)

    def best(self, key: str) -> Sample | None:
        runs = self.samples.get(key)
        return max(runs, key=lambda s: s.rate) if runs else None


def run_round_robin(trials: Sequence[Trial], repeats: int) -> Results:
    """Runs every trial ``repeats`` times, interleaved so machine noise is spread out."""
    results = Results()
    for round_number in range(1, repeats + 1):
        started = perf_counter()
        for trial in trials:
            gc.collect()
            results.add(trial())
        print(
            f"  round {round_number}/{repeats} took {perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    return results


# --------------------------------------------------------------------------- stores


class Backend(Protocol):
    name: str
    raw_write_methods: tuple[str, ...]

    def scratch(self) -> AbstractContextManager[str]:
        """A fresh, empty store (SQLite file path or PostgreSQL schema), removed on exit."""

    def app_env(self, option: str, scratch: str) -> dict[str, str]:
        """Application environment that puts the option's recorder on the scratch store."""

    def raw_create(self, scratch: str) -> None:
        """Creates the raw table (same layout as option 1's) in the scratch store."""

    def raw_write(self, scratch: str, rows: Sequence[RawRow], method: str) -> None:
        """Inserts the rows in one transaction."""

    def raw_pages(self, scratch: str) -> Iterator[int]:
        """Reads the raw table back in pages, yielding the size of each page."""


RAW_TABLE_SQLITE = (
    "CREATE TABLE events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, "
    "PRIMARY KEY (originator_id, originator_version))"  # same layout as eventsourcing.sqlite
)
RAW_TABLE_POSTGRES = (  # same layout as eventsourcing.postgres
    "CREATE TABLE {schema}.events (originator_id uuid NOT NULL, "
    "originator_version bigint NOT NULL, topic text, state bytea, notification_id bigserial, "
    "PRIMARY KEY (originator_id, originator_version)); "
    "CREATE UNIQUE INDEX ON {schema}.events (notification_id)"
)


class SqliteBackend:
    name = "sqlite"
    raw_write_methods: tuple[str, ...] = ("executemany, 1 txn",)

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counter = itertools.count(1)

    @contextmanager
    def scratch(self) -> Iterator[str]:
        path = self.directory / f"run{next(self.counter)}.sqlite"
        try:
            yield str(path)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def app_env(self, option: str, scratch: str) -> dict[str, str]:
        if option == OPTION_1:
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": scratch}
        return {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": f"sqlite:///{scratch}",
        }

    def _connect(self, scratch: str) -> sqlite3.Connection:
        connection = sqlite3.connect(scratch, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        return connection

    def raw_create(self, scratch: str) -> None:
        connection = self._connect(scratch)
        try:
            connection.execute(RAW_TABLE_SQLITE)
        finally:
            connection.close()

    def raw_write(self, scratch: str, rows: Sequence[RawRow], method: str) -> None:
        connection = self._connect(scratch)
        try:
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO events VALUES (?,?,?,?)", ((i.hex, v, t, s) for i, v, t, s in rows)
            )
            connection.execute("COMMIT")
        finally:
            connection.close()

    def raw_pages(self, scratch: str) -> Iterator[int]:
        connection = self._connect(scratch)
        try:
            start = 1
            while rows := connection.execute(
                "SELECT rowid, * FROM events WHERE rowid >= ? ORDER BY rowid LIMIT ?",
                (start, PAGE_SIZE),
            ).fetchall():
                start = rows[-1][0] + 1
                yield len(rows)
        finally:
            connection.close()


class PostgresBackend:
    name = "postgres"
    raw_write_methods: tuple[str, ...] = ("executemany, 1 txn", "COPY binary, 1 txn")

    def __init__(self, admin: psycopg.Connection[Any], dsn: str, dbname: str) -> None:
        self.admin = admin  # autocommit connection to the scratch database
        self.conninfo = psycopg.conninfo.make_conninfo(dsn, dbname=dbname)
        params = psycopg.conninfo.conninfo_to_dict(self.conninfo)
        self.params = {key: str(value) for key, value in params.items() if value is not None}
        self.counter = itertools.count(1)

    def setting(self, name: str) -> str:
        row = self.admin.execute(f"SHOW {name}").fetchone()
        return str(row[0]) if row else "?"

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo)

    @contextmanager
    def scratch(self) -> Iterator[str]:
        schema = f"run{next(self.counter)}"
        self.admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield schema
        finally:
            self.admin.execute(f"DROP SCHEMA {schema} CASCADE")

    def app_env(self, option: str, scratch: str) -> dict[str, str]:
        p = self.params
        if option == OPTION_1:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": p["dbname"],
                "POSTGRES_HOST": p.get("host", "127.0.0.1"),
                "POSTGRES_PORT": p.get("port", "5432"),
                "POSTGRES_USER": p.get("user", "postgres"),
                "POSTGRES_PASSWORD": p.get("password", ""),
                "POSTGRES_SCHEMA": scratch,
            }
        url = URL.create(
            "postgresql+psycopg",
            username=p.get("user"),
            password=p.get("password") or None,
            host=p.get("host"),
            port=int(p.get("port", "5432")),
            database=p["dbname"],
        )
        return {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": url.render_as_string(hide_password=False),
            "SQLALCHEMY_SCHEMA": scratch,
        }

    def raw_create(self, scratch: str) -> None:
        self.admin.execute(RAW_TABLE_POSTGRES.format(schema=scratch))

    def raw_write(self, scratch: str, rows: Sequence[RawRow], method: str) -> None:
        with self.connect() as connection, connection.cursor() as cursor:  # one transaction
            columns = f"{scratch}.events (originator_id, originator_version, topic, state)"
            if method.startswith("COPY"):
                with cursor.copy(f"COPY {columns} FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea"])
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO {columns} VALUES (%s, %s, %s, %s)", rows)

    def raw_pages(self, scratch: str) -> Iterator[int]:
        with self.connect() as connection, connection.cursor() as cursor:
            start = 1
            query = (
                f"SELECT * FROM {scratch}.events WHERE notification_id >= %s "
                "ORDER BY notification_id LIMIT %s"
            )
            while rows := cursor.execute(query, (start, PAGE_SIZE)).fetchall():
                start = rows[-1][4] + 1
                yield len(rows)


# --------------------------------------------------------------------------- trials


def raw_trial(backend: Backend, events: int, method: str, *, read_back: bool) -> Measurements:
    write, read = Stopwatch(), Stopwatch()
    rows = list(raw_rows(events))  # not timed, like building the aggregates below
    with backend.scratch() as scratch:
        backend.raw_create(scratch)
        with write:
            backend.raw_write(scratch, rows, method)
        result = {f"raw write {method}": Sample(events, write.seconds)}
        if read_back:
            pages = backend.raw_pages(scratch)
            with read:
                count = sum(pages)
            assert count == events, (count, events)
            result["raw read"] = Sample(count, read.seconds)
    return result


def close_app(app: Application[UUID]) -> None:
    app.close()
    # SQLAlchemyFactory (eventsourcing-sqlalchemy 1.0.1) does not implement close(),
    # so Application.close() leaves its engine's connection pool open.
    engine = getattr(getattr(app.factory, "datastore", None), "engine", None)
    dispose = getattr(engine, "dispose", None)
    if callable(dispose):
        dispose()


def app_trial(
    backend: Backend, option: str, events: int, per_save: int, *, read_back: bool
) -> Measurements:
    write, select, decode = Stopwatch(), Stopwatch(), Stopwatch()
    with backend.scratch() as scratch:
        app = BenchApp(env=backend.app_env(option, scratch))
        try:
            for ledgers in chunks(new_ledgers(events // EVENTS_PER_AGGREGATE), per_save):
                with write:  # building the ledgers (above) is not timed
                    app.save(*ledgers)
            result = {f"{option} write {per_save}/save": Sample(events, write.seconds)}
            if read_back:
                count, start = 0, 1
                while True:
                    with select:
                        page = app.notification_log.select(start=start, limit=PAGE_SIZE)
                    if not page:
                        break
                    with decode:
                        for notification in page:
                            app.mapper.to_domain_event(notification)
                    count += len(page)
                    start = page[-1].id + 1
                assert count == events, (count, events)
                result[f"{option} read"] = Sample(count, select.seconds)
                result[f"{option} read+decode"] = Sample(count, select.seconds + decode.seconds)
        finally:
            close_app(app)
    return result


def plan(
    backend: Backend, options: Sequence[str], events: int, single_events: int
) -> tuple[list[Trial], list[Figure]]:
    """The trials to run on one backend, and the figures to print from them."""
    trials: list[Trial] = []
    figures: list[Figure] = []
    raw_write_key = f"raw write {backend.raw_write_methods[0]}"
    for i, method in enumerate(backend.raw_write_methods):
        trials.append(partial(raw_trial, backend, events, method, read_back=i == 0))
        figures.append(Figure(f"raw write {method}", f"raw write: {method}", raw_write_key))
    for option in options:
        for per_save, count, read_back in ((1000, events, True), (1, single_events, False)):
            trials.append(partial(app_trial, backend, option, count, per_save, read_back=read_back))
            what = "1,000 aggregates/save" if per_save > 1 else "1 aggregate/save"
            figures.append(
                Figure(f"{option} write {per_save}/save", f"{option} write: {what}", raw_write_key)
            )
    figures.append(Figure("raw read", "raw read: SELECT pages", "raw read"))
    for option in options:
        figures.append(
            Figure(f"{option} read", f"{option} read: notification_log.select", "raw read")
        )
        figures.append(
            Figure(f"{option} read+decode", f"{option} read: + mapper.to_domain_event", "raw read")
        )
    return trials, figures


# --------------------------------------------------------------------------- report


def print_table(backend: str, figures: Sequence[Figure], results: Results) -> None:
    print(f"\n{backend}")
    print(f"  {'figure':<58} {'events':>8} {'best ev/s':>10} {'x raw':>6}   all runs (ev/s)")
    for figure in figures:
        best, baseline = results.best(figure.key), results.best(figure.baseline)
        if best is None or baseline is None:
            continue
        runs = ", ".join(f"{s.rate:,.0f}" for s in results.samples[figure.key])
        ratio = best.rate / baseline.rate
        print(f"  {figure.label:<58} {best.events:>8,} {best.rate:>10,.0f} {ratio:>6.2f}   {runs}")


@contextmanager
def postgres_backend(dsn: str) -> Iterator[PostgresBackend | None]:
    """A scratch database on the server at ``dsn``; None when it is unreachable."""
    try:
        server = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError as error:
        print(f"PostgreSQL not reachable, skipping it: {str(error).strip()}", file=sys.stderr)
        yield None
        return
    dbname = f"bench_store_{os.getpid()}"
    with server:
        server.execute(f"CREATE DATABASE {dbname}")
        try:
            with psycopg.connect(dsn, dbname=dbname, autocommit=True) as admin:
                yield PostgresBackend(admin, dsn, dbname)
        finally:
            server.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--events", type=int, default=200_000, help="events per batched-write trial"
    )
    parser.add_argument(
        "--single-events", type=int, default=20_000, help="events per one-aggregate-per-save trial"
    )
    parser.add_argument(
        "--repeats", type=int, default=2, help="runs of each trial (best is reported)"
    )
    parser.add_argument(
        "--pg-dsn",
        default=DEFAULT_PG_DSN,
        help="libpq conninfo of a server we may create a database on",
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)

    options = [OPTION_1]
    if importlib.util.find_spec("eventsourcing_sqlalchemy"):
        options.append(OPTION_2)
    else:
        print("eventsourcing-sqlalchemy not installed: option 2 skipped", file=sys.stderr)
    events = args.events // EVENTS_PER_AGGREGATE * EVENTS_PER_AGGREGATE
    single = min(args.single_events, events) // EVENTS_PER_AGGREGATE * EVENTS_PER_AGGREGATE

    versions = ", ".join(
        f"{name} {dist_version(name)}"
        for name in ("eventsourcing", "eventsourcing-sqlalchemy", "SQLAlchemy", "psycopg", "orjson")
        if importlib.util.find_spec(name.replace("-", "_").lower())
    )
    print(
        f"store_choice: {events:,} events per batched trial, {single:,} per 1-aggregate/save trial,"
    )
    print(
        f"  {EVENTS_PER_AGGREGATE} events/aggregate, "
        f"mean state {mean_state_size():.0f} B (orjson), best of {args.repeats} runs; "
        "ratio = events/s / raw write (or raw read) events/s"
    )
    print(
        f"  Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"{versions} (psycopg {psycopg.pq.__impl__})"
    )

    with tempfile.TemporaryDirectory(prefix="store_choice_") as directory:
        sqlite = SqliteBackend(Path(directory))
        trials, figures = plan(sqlite, options, events, single)
        print_table(
            "SQLite (file, WAL, default synchronous)",
            figures,
            run_round_robin(trials, args.repeats),
        )

    if args.no_postgres:
        return
    with postgres_backend(args.pg_dsn) as postgres:
        if postgres is not None:
            trials, figures = plan(postgres, options, events, single)
            results = run_round_robin(trials, args.repeats)
            title = (
                f"PostgreSQL {postgres.setting('server_version')} "
                f"(synchronous_commit {postgres.setting('synchronous_commit')})"
            )
            print_table(title, figures, results)


if __name__ == "__main__":
    main()
