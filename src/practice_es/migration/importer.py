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
from practice_es.infrastructure.processes import rare_collections
from practice_es.infrastructure.transcoding import Recorded
from practice_es.migration import facts
from practice_es.migration.appointments import VisitPass
from practice_es.migration.clients import ClientEntry, ClientIndex
from practice_es.migration.dates import DateReader
from practice_es.migration.details import Detail, DetailIndex, remove_leftovers, scratch_folder
from practice_es.migration.extract import (
    AppointmentFields,
    ClientFields,
    DetailFields,
    HistoryFields,
    ProgramFields,
)
from practice_es.migration.mapping import Mapping, Part
from practice_es.migration.prepass import date_order, first_and_last
from practice_es.migration.reading import ExportFile, check_field_lengths, open_export
from practice_es.migration.recording import (
    CAPACITY,
    DryRun,
    FastWriter,
    Streams,
    Writer,
    writer_for,
)
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


def import_export(ledger: PracticeLedger, request: ImportRequest,
                  progress: Progress | None = None,
                  recorded: Recorded | None = None) -> ImportSummary:
    """Import the export; `recorded` is told of each batch once it is committed (the read
    models are fed from it)."""
    importer = Importer(ledger, request, progress or NoProgress(), recorded)
    try:
        with rare_collections(young=None):  # `_flush` collects once per batch
            return importer.run()
    finally:
        importer.close()


class Importer:
    def __init__(self, ledger: PracticeLedger, request: ImportRequest,
                 progress: Progress, recorded: Recorded | None = None) -> None:
        self.ledger = ledger
        self.request = request
        self.mapping = request.mapping
        self.progress = progress
        self.summary = ImportSummary(dry_run=request.dry_run)
        self.rejects = Rejects(request.rejects, self.summary, request.paths)
        self.writer: Writer = (DryRun() if request.dry_run
                               else writer_for(ledger, request.fast, recorded))
        self.streams = Streams(ledger, request.facts_in_memory)
        self.details: DetailIndex | None = None
        self.unrecorded: set[UUID] = set()  # clients whose intake was rejected late
        self._last_client: ClientEntry | None = None  # the last one `client` let through
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
        visits = VisitPass(self.mapping.source, self.now, self.last_outcome, self.details,
                           self.summary, self.reject, self.record)
        for file, number, row, entry in rows:
            visits.take(file, number, entry, row)

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


def spare_core() -> bool:
    """Whether a second process would find CPU to run on: the machine was not oversubscribed
    over the last minute (load average below the number of cores; POSIX only: it talks
    through pipes). It adds work of its own (start-up, passing the batches), which only a
    free core repays (figures: docs/performance.md)."""
    return os.name == "posix" and os.getloadavg()[0] < (os.cpu_count() or 1)


def _intake_problem(row: ClientRow, on: datetime | None) -> str | None:
    if on is not None and row.date_of_birth is not None and row.date_of_birth > on.date():
        return f"date_of_birth: {row.date_of_birth} is after the client came ({on.date()})"
    return None

