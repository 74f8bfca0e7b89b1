"""What an import did: the summary (SPEC §6 JSON) and the rejects file."""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from practice_es.infrastructure.formats import csv_safe

REJECT_COLUMNS = ("file", "row", "legacy_id", "reason")


@dataclass(frozen=True)
class Merge:
    """A row of the same person as an earlier one: its facts go to that one client."""

    file: str
    row: int
    legacy_id: str
    into: str  # the legacy id kept
    client_id: UUID
    reason: str


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    rejected: int = 0
    skipped: int = 0
    clients: int = 0
    visits: int = 0
    programs: int = 0
    merges: list[Merge] = field(default_factory=list)
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    files: dict[str, str] = field(default_factory=dict)  # file -> the part it was read as
    not_read: list[str] = field(default_factory=list)
    rejects_file: str | None = None
    dry_run: bool = False
    events: int = 0

    @property
    def merged_duplicates(self) -> int:
        return len(self.merges)

    def skip(self, reason: str, rows: int = 1) -> None:
        if rows:
            self.skipped += rows
            self.skipped_by_reason[reason] += rows

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "imported": self.imported,
            "already_present": self.already_present, "rejected": self.rejected,
            "skipped": self.skipped, "merged_duplicates": self.merged_duplicates,
            "clients": self.clients, "visits": self.visits, "programs": self.programs,
            "events": self.events, "dry_run": self.dry_run,
            "merges": [{"file": m.file, "row": m.row, "legacy_id": m.legacy_id,
                        "into": m.into, "client_id": str(m.client_id), "reason": m.reason}
                       for m in self.merges],
            "skipped_by_reason": dict(self.skipped_by_reason),
            "files": self.files, "not_read": self.not_read,
            "rejects_file": self.rejects_file,
        }

    def lines(self) -> list[str]:
        """The summary for a person (stderr)."""
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"{self.rows} rows read: {self.imported} {verb}, {self.already_present} already "
            f"present, {self.rejected} rejected, {self.skipped} skipped, "
            f"{self.merged_duplicates} merged duplicates",
            f"{self.clients} clients, {self.visits} visits, {self.programs} programs of care "
            f"from this export in the ledger{' (after a real run)' if self.dry_run else ''}",
        ]
        lines += [f"merged: {m.file} row {m.row} ({m.legacy_id}) into {m.into}: {m.reason}"
                  for m in self.merges]
        lines += [f"skipped {n}: {reason}" for reason, n in self.skipped_by_reason.items()]
        if self.not_read:
            lines.append(f"not read (no part of this layout): {', '.join(self.not_read)}")
        if self.rejects_file:
            lines.append(f"rejected rows, with the reason, are in {self.rejects_file}")
        return lines


class Rejects:
    """The rejects CSV: created on the first rejected row, so a clean import leaves none."""

    def __init__(self, path: Path, summary: ImportSummary) -> None:
        self.path = path
        self.summary = summary
        self._file: IO[str] | None = None
        self._writer: Any = None

    def add(self, file: str, row: int, legacy_id: str, reason: str) -> None:
        if self._writer is None:
            # Owner-only, like the ledger: a reason may quote a rejected value.
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._file = open(descriptor, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._file)
            self._writer.writerow(REJECT_COLUMNS)
            self.summary.rejects_file = str(self.path)
        # A legacy id or a quoted value may start like a formula (`=cmd|…`): escape it.
        self._writer.writerow([csv_safe(cell) for cell in (file, row, legacy_id, reason)])
        self.summary.rejected += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
