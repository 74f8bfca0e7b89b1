"""What an import did: the summary (SPEC §6 JSON) and the rejects file."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from practice_es.infrastructure.formats import csv_safe
from practice_es.infrastructure.outputs import Replacement, check_output

REJECT_COLUMNS = ("file", "row", "legacy_id", "reason")
# A legacy row's fields whose value is personal or health text, as the row readers name them
# (not the events' fields): a reason about one never copies the value into the rejects file
# (it names the field and the rule; the export has the value).
PERSONAL_ROW_FIELDS = frozenset({
    "name", "first_name", "last_name", "email", "phone", "notes", "conditions", "medications",
    "contraindications", "referred_by", "date_of_birth", "kind", "reason", "findings"})
QUOTED = re.compile(r"'[^']*'")


def without_personal_text(reason: str) -> str:
    field = reason.split(":", 1)[0].strip()
    if field in PERSONAL_ROW_FIELDS:
        return QUOTED.sub("the value", reason)
    return reason


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

    @property
    def accounted(self) -> int:
        return (self.imported + self.already_present + self.rejected + self.skipped
                + self.merged_duplicates)

    def check_accounted(self) -> None:
        """Every row read is imported, already present, rejected, skipped or merged: an
        import that lost one fails loudly rather than report a clean run."""
        if self.accounted != self.rows:
            raise RowsUnaccounted(self)

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


class RowsUnaccounted(RuntimeError):
    """A bug of ours: the import lost track of a row. What was committed stays (a re-run
    records nothing twice); the summary says what was counted."""

    tells_the_user = True  # its message names counts only: the CLI prints it

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__(
            f"the import lost track of {summary.rows - summary.accounted} of {summary.rows} "
            f"rows read ({summary.imported} imported, {summary.already_present} already "
            f"present, {summary.rejected} rejected, {summary.skipped} skipped, "
            f"{summary.merged_duplicates} merged; {summary.events} events recorded): "
            "please report it")


class Rejects:
    """The rejects CSV: created on the first rejected row, so a clean import leaves none."""

    def __init__(self, path: Path, summary: ImportSummary, inputs: Sequence[Path] = ()) -> None:
        self.path = check_output("rejects", path, inputs)  # before anything is recorded
        self.summary = summary
        self._replacement: Replacement | None = None
        self._file: IO[str] | None = None
        self._writer: Any = None

    def add(self, file: str, row: int, legacy_id: str, reason: str) -> None:
        if self._writer is None:
            # Owner-only, like the ledger, and renamed over the path when the import ends.
            self._replacement = Replacement(self.path)
            self._file = open(self._replacement.path, "w", encoding="utf-8",  # noqa: SIM115
                              newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(REJECT_COLUMNS)
            self.summary.rejects_file = str(self.path)
        # A legacy id or a quoted value may start like a formula (`=cmd|…`): escape it.
        cells = (file, row, legacy_id, without_personal_text(reason))
        self._writer.writerow([csv_safe(cell) for cell in cells])
        self.summary.rejected += 1

    def close(self) -> None:
        """Close the file and put it in place, with the rows rejected so far (an import
        that failed half way keeps the rejects of what it read)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._replacement is not None:
            self._replacement.commit()
            self._replacement = None
