"""`migrate import`: read an export part by part and record its history as facts.

The passes, in order: check every file (nothing is recorded if one cannot be read); settle the
date order; index the clients (merging duplicates); where the layout needs it, scan the
appointments for each client's first record and last outcome; index the joined notes and
measures; then record intakes, health history, visits and programs of care, in batches.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from pydantic import ValidationError

from practice_es.domain.keys import normalise_key, program_id
from practice_es.domain.moments import BOOKING_HORIZON_YEARS, booking_horizon
from practice_es.infrastructure.processes import rare_collections
from practice_es.infrastructure.store import parse_store_url
from practice_es.migration import facts
from practice_es.migration.clients import ClientEntry, ClientIndex
from practice_es.migration.dates import DateReader
from practice_es.migration.details import Detail, DetailIndex, combine, remove_leftovers
from practice_es.migration.extract import (
    AppointmentFields,
    ClientFields,
    DetailFields,
    HistoryFields,
    ProgramFields,
)
from practice_es.migration.mapping import Mapping, Part
from practice_es.migration.prepass import date_order, first_and_last
from practice_es.migration.reading import ExportFile, open_export
from practice_es.migration.recording import CAPACITY, FastWriter, Streams, Writer, writer_for
from practice_es.migration.rows import (
    Appointment,
    ClientRow,
    DetailRow,
    HistoryRow,
    ProgramRow,
    TRow,
    check_storable,
    reason_of,
    visit_day_key,
)
from practice_es.migration.summary import ImportSummary, Rejects

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger

BATCH_EVENTS = 10_000
MAX_FIELD = 100_000  # characters in one field of a row
PROCESS_FROM_BYTES = 4_000_000  # about 40,000 appointment rows: a second process pays off




class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def update(self, done: int) -> None: ...


class NoProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def update(self, done: int) -> None:
        pass


@dataclass(frozen=True)
class ImportRequest:
    paths: tuple[Path, ...]
    mapping: Mapping
    dry_run: bool = False
    rejects: Path = Path("rejects.csv")
    date_format: str | None = None
    encoding: str | None = None
    batch_events: int = BATCH_EVENTS
    fast: bool = True
    facts_in_memory: int = CAPACITY  # what is known of recorded aggregates, before re-reading
    # Record in a second process (None: when the export is large enough to repay starting it).
    recorder_process: bool | None = None


class _DryRun:
    """Records nothing: a dry run validates everything and counts what it would record."""

    pending = 0
    busy: tuple[UUID, ...] = ()

    def add(self, unit: facts.Unit, version: int) -> None:
        pass

    def flush(self) -> None:
        pass

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass


def import_export(ledger: PracticeLedger, request: ImportRequest,
                  progress: Progress | None = None) -> ImportSummary:
    importer = Importer(ledger, request, progress or NoProgress())
    try:
        with rare_collections(young=None):  # `_flush` collects once per batch
            return importer.run()
    finally:
        importer.close()


class Importer:
    def __init__(self, ledger: PracticeLedger, request: ImportRequest,
                 progress: Progress) -> None:
        self.ledger = ledger
        self.request = request
        self.mapping = request.mapping
        self.progress = progress
        self.summary = ImportSummary(dry_run=request.dry_run)
        self.rejects = Rejects(request.rejects, self.summary, request.paths)
        self.writer: Writer = _DryRun() if request.dry_run else writer_for(ledger, request.fast)
        self.streams = Streams(ledger, request.facts_in_memory)
        self.details: DetailIndex | None = None
        self.unrecorded: set[UUID] = set()  # clients whose intake was rejected late
        self._last_client: ClientEntry | None = None  # the last one `client` let through
        self.visit_id = facts.ids_under(self.mapping.source, "appointment")
        self.now = datetime.now(ledger.settings.zone)  # the import's today, for T1

    def close(self) -> None:
        self.writer.close()
        self.rejects.close()
        if self.details is not None:
            self.details.close()

    def run(self) -> ImportSummary:
        if (folder := scratch_folder(self.ledger.settings.db_url)) is not None:
            remove_leftovers(folder)
        files, ignored = open_export(self.request.paths, self.mapping, self.request.encoding)
        if isinstance(self.writer, FastWriter) and self._second_process(files):
            # It starts while the clients are read.
            self.writer.use_process(every_batch=bool(self.request.recorder_process))
        self.files = files
        self.summary.files = {f.name: role for role, part in self.mapping.parts()
                              for f in files if f.part is part}
        self.summary.not_read = [p.name for p in ignored]
        self.dates = DateReader(self.ledger.settings.zone,
                                date_order(files, self.mapping, self.request.date_format))
        self.context = {"dates": self.dates}
        self.clients = self._index_clients()
        self.first_seen, self.last_outcome = first_and_last(self, self.ledger.settings.zone)
        for part in self.mapping.details:
            self._index_details(part)
        self._record_intakes()
        self._record_history()
        self._record_visits()
        self._record_programs()
        self._flush()
        self.writer.sync()
        if self.details is not None:
            self.summary.skip("its visit is not a completed visit of this export",
                              self.details.unused())
        self.summary.check_accounted()
        return self.summary

    def _second_process(self, files: list[ExportFile]) -> bool:
        wanted = self.request.recorder_process
        if wanted is None:
            return sum(f.size for f in files) >= PROCESS_FROM_BYTES and spare_core()
        return wanted

    # -- reading ---------------------------------------------------------------------------

    def file_of(self, part: Part | None) -> ExportFile | None:
        return next((f for f in self.files if part is not None and f.part is part), None)

    def rows(self, file: ExportFile, model: type[TRow], fields: Any, label: str,
             counting: bool = True) -> Iterator[tuple[int, TRow]]:
        """The file's valid rows; when `counting`, an invalid one goes to the rejects file.
        A row holding text the ledger refuses is invalid (checked only in a file that
        holds such text somewhere)."""
        self.progress.start(f"{label} ({file.name})", file.size)
        for number, raw in file.rows(self.progress.update):
            if counting:
                self.summary.rows += 1
            try:
                check_field_lengths(raw)
                row = model.read(fields(raw), self.context)
                if file.unstorable:
                    check_storable(row)
            except (ValidationError, ValueError) as error:
                if counting:
                    reason = reason_of(error) if isinstance(error, ValidationError) else str(error)
                    self.reject(file, number, fields.own_id(raw), reason)
                continue
            yield number, row

    def reject(self, file: ExportFile, number: int, legacy_id: str, reason: str) -> None:
        self.rejects.add(file.name, number, legacy_id, reason)

    def client(self, file: ExportFile, number: int, own_id: str,
               client_key: str) -> ClientEntry | None:
        """The client a row is about, or None (the row is rejected, saying why)."""
        entry = self.clients.find(client_key)
        if entry is not None and entry is self._last_client:
            return entry  # the previous row's (an export lists a client's rows together)
        if entry is None or entry.client_id in self.unrecorded:
            self.reject(file, number, own_id, f"client: no client '{client_key}' in "
                        f"{self.clients.file} (or its row was rejected)")
            return None
        if self.ledger.keys.is_erased(entry.client_id):
            self.reject(file, number, own_id, "client: erased (rule E1): nothing more is "
                        "recorded for them")
            return None
        self._last_client = entry
        return entry

    # -- recording -------------------------------------------------------------------------

    def record(self, unit: facts.Unit) -> bool:
        """Record a unit unless the ledger already holds it. True if it is new."""
        stream = self.streams.get(unit.aggregate_id)
        key = unit.key
        if (stream.version > 0) if unit.creates else (key in stream.keys):
            self.summary.already_present += 1
            return False
        if not unit.creates and stream.version == 0:
            raise AssertionError(f"{unit.aggregate_id} is not recorded yet")
        self.writer.add(unit, stream.version)
        self.streams.note(stream, len(unit.changes), key)
        self.summary.imported += 1
        self.summary.events += len(unit.changes)
        if self.writer.pending >= self.request.batch_events:
            self._flush()
        return True

    def _flush(self) -> None:
        self.writer.flush()
        self.streams.committed(lambda: self.writer.busy)
        gc.collect(1)  # the few cycles this batch made: the rows make almost none

    # -- the passes ------------------------------------------------------------------------

    def _index_clients(self) -> ClientIndex:
        file = self.file_of(self.mapping.clients)
        assert file is not None  # open_export insists on it
        index = ClientIndex(self.mapping.source, file.name)
        fields = ClientFields(file, self.mapping.clients)
        for number, row in self.rows(file, ClientRow, fields, "clients"):
            if index.add(number, row) is not None:
                self.summary.merges.append(index.merges[-1])
        return index

    def _index_details(self, part: Any) -> None:
        file = self.file_of(part)
        if file is None:
            return
        if self.details is None:
            self.details = DetailIndex(scratch_folder(self.ledger.settings.db_url))
        fields = DetailFields(file, part)
        for number, row in self.rows(file, DetailRow, fields, "notes and measures"):
            if not row.key:
                self.summary.skip("names no visit (e.g. Synthea's QALY, DALY, QOLS)")
            elif not row.notes and not row.measures:
                self.summary.skip("carries no note or measure this ledger keeps")
            elif part.join == "appointment":
                self.details.add(row.key, number, Detail(row.notes, row.measures))
            elif row.day is None:
                self.reject(file, number, "", f"{part.date}: empty (the day of the visit)")
            elif (entry := self.client(file, number, "", row.key)) is not None:
                key = visit_day_key(str(entry.client_id), row.day)
                self.details.add(key, number, Detail(row.notes, row.measures))

    def _record_intakes(self) -> None:
        file = self.file_of(self.mapping.clients)
        assert file is not None
        fields = ClientFields(file, self.mapping.clients)
        for number, row in self.rows(file, ClientRow, fields, "intakes", counting=False):
            if not self.clients.is_first(number, row):
                continue  # a merged duplicate: counted, and listed, as such
            entry = self.clients.find(row.key)
            assert entry is not None
            on = row.since or self.first_seen.get(entry.client_id)
            problem = _intake_problem(row, on)
            if problem or on is None:
                self.unrecorded.add(entry.client_id)
                self._last_client = None  # (it may be this one)
                self.reject(file, number, row.legacy_id, problem or "since: no date the client "
                            "came (no 'since' value and no dated record of them)")
                continue
            self.summary.clients += 1
            self.record(self._intake(entry, row, on, facts.actor(file.name, number)))

    def _intake(self, entry: ClientEntry, row: ClientRow, on: datetime, who: str) -> facts.Unit:
        kind = self.mapping.source_kind(row.source_label or "")
        referrer = None
        if kind == "client" and row.referred_by:
            referring = self.clients.named(row.referred_by)
            referrer = str(referring.client_id) if referring else normalise_key(row.referred_by)
        elif kind == "doctor" and row.referred_by:
            referrer = normalise_key(row.referred_by)
        elif row.source_label and normalise_key(row.source_label) != kind:
            referrer = normalise_key(row.source_label)  # the original label, kept
        return facts.intake(
            entry.client_id, on, who, name=row.name, date_of_birth=row.date_of_birth,
            email=row.email, phone=row.phone, conditions=row.conditions,
            medications=row.medications, contraindications=row.contraindications,
            referral_source=kind, referrer=referrer, legacy_id=row.legacy_id)

    def about_clients(self, part: Any, model: type[TRow], fields_class: Any,
                      label: str) -> Iterator[tuple[ExportFile, int, TRow, ClientEntry]]:
        """A part's valid rows with their client (a row naming no known client is rejected)."""
        file = self.file_of(part)
        if file is None:
            return
        fields = fields_class(file, part)
        for number, row in self.rows(file, model, fields, label):
            key: str = getattr(row, "client_key")  # noqa: B009 - every such model has it
            entry = self.client(file, number, getattr(row, "legacy_id", key), key)
            if entry is not None:
                yield file, number, row, entry

    def _record_history(self) -> None:
        rows = self.about_clients(self.mapping.history, HistoryRow, HistoryFields,
                                  "health history")
        for file, number, row, entry in rows:
            if not (row.conditions or row.medications or row.contraindications):
                self.summary.skip("says no condition, medication or contraindication")
                continue
            self.record(facts.health_history(entry.client_id, row,
                                             facts.actor(file.name, number)))

    def _record_visits(self) -> None:
        rows = self.about_clients(self.mapping.appointments, Appointment, AppointmentFields,
                                  "appointments")
        for file, number, row, entry in rows:
            status = self._status(file, number, entry, row)
            if status is not None:
                self._record_visit(file, number, entry, row, status)

    def _status(self, file: ExportFile, number: int, entry: ClientEntry,
                row: Appointment) -> str | None:
        day = row.start.date()
        if (problem := self._out_of_time(row)) is not None:
            self.reject(file, number, row.legacy_id, problem)
            return None
        if entry.died_on is not None and day > entry.died_on:
            self.reject(file, number, row.legacy_id, f"start: {day} is after the client's "
                        f"death on {entry.died_on}: not a visit")
            return None
        if row.status != "open":
            return row.status
        later = self.last_outcome.get(entry.client_id)
        if later is not None and later > row.start:
            self.reject(file, number, row.legacy_id, "status: a past appointment with no "
                        "outcome (not cancelled, not arrived, not did-not-arrive; the client "
                        f"came back on {later.date()}): reported, not guessed")
            return None
        return "scheduled"

    def _out_of_time(self, row: Appointment) -> str | None:
        """A fact after the import's now (rule T1), or a booking past the diary's horizon."""
        if row.status in ("completed", "no-show") and row.start > self.now:
            return (f"start: {row.start.date()} is after today ({self.now.date()}): a visit "
                    "is not done before it happens (rule T1)")
        if row.status in ("scheduled", "open") and row.start > booking_horizon(self.now):
            return (f"start: {row.start.date()} is more than {BOOKING_HORIZON_YEARS} years ahead: "
                    "not a booking")
        return None

    def _record_visit(self, file: ExportFile, number: int, entry: ClientEntry,
                      row: Appointment, status: str) -> None:
        visit_id = self.visit_id(row.legacy_id)
        joined = self._details_of(row, entry) if status == "completed" else []
        kind, text = row.kind, row.notes
        own_notes = f"{kind}; {text}" if kind and text else kind or text or None
        notes, measures = combine(joined, own_notes, row.measures)
        unit = facts.visit(entry.client_id, visit_id, row, status,
                           facts.actor(file.name, number), notes, measures)
        self.summary.visits += 1
        new = self.record(unit)
        if new:
            self.summary.imported += len(joined)
        else:
            self.summary.already_present += len(joined)

    def _details_of(self, row: Appointment, entry: ClientEntry) -> list[Detail]:
        if self.details is None:
            return []
        found = self.details.take(row.legacy_id)
        found += self.details.take(visit_day_key(str(entry.client_id), row.start.date()))
        return found

    def _record_programs(self) -> None:
        numbers: dict[UUID, int] = {}
        zone = self.ledger.settings.zone
        rows = self.about_clients(self.mapping.programs, ProgramRow, ProgramFields,
                                  "programs of care")
        for file, number, row, entry in rows:
            nth = numbers[entry.client_id] = numbers.get(entry.client_id, 0) + 1
            self.summary.programs += 1
            self.record(facts.program(program_id(entry.client_id, nth), entry.client_id, nth,
                                      row, facts.actor(file.name, number), zone))


def check_field_lengths(raw: list[str]) -> None:
    """A field longer than anyone types (a pasted file, a corrupt export): that row is
    rejected, the import goes on."""
    longest = max(map(len, raw), default=0)
    if longest > MAX_FIELD:
        raise ValueError(f"a field of {longest:,} characters (at most {MAX_FIELD:,}): not a "
                         "value of a record")


def spare_core() -> bool:
    """Whether a second process would find CPU to run on: the machine was not oversubscribed
    over the last minute (load average below the number of cores; POSIX only: it talks
    through pipes). It adds work of its own (start-up, passing the batches), which only a
    free core repays (figures: docs/performance.md)."""
    return os.name == "posix" and os.getloadavg()[0] < (os.cpu_count() or 1)


def scratch_folder(db_url: str) -> Path | None:
    """Where an import keeps its scratch file: the SQLite ledger's folder (None: in memory)."""
    location = parse_store_url(db_url)
    if location.path is None:
        return None
    return location.path.resolve().parent


def _intake_problem(row: ClientRow, on: datetime | None) -> str | None:
    if on is not None and row.date_of_birth is not None and row.date_of_birth > on.date():
        return f"date_of_birth: {row.date_of_birth} is after the client came ({on.date()})"
    return None

