"""Reading an export: which file is which part, its encoding, its header, its rows (streamed).

Every file is checked before anything is recorded (a file that cannot be read at all stops the
import with exit code 2 and an empty ledger); rows are then read one at a time, so memory stays
flat however large the file.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cached_property
from pathlib import Path

from practice_es.domain.errors import InvalidInput
from practice_es.domain.events import UNSTORABLE
from practice_es.migration.mapping import Mapping, Part

CHUNK = 1 << 20
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig",
             "windows-1252": "cp1252", "cp1252": "cp1252", "latin-1": "latin-1",
             "iso-8859-1": "latin-1"}
Progress = Callable[[int], None]  # bytes read so far in the current file


class UnreadableFile(InvalidInput):
    """A file of the export cannot be read at all: nothing is recorded (exit code 2)."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__("PATH", f"{path}: {message}")


@dataclass(frozen=True)
class ExportFile:
    path: Path
    part: Part
    encoding: str
    header: tuple[str, ...]
    # Whether its text holds a character the ledger refuses (a control character): only
    # then are its rows checked one by one (`Importer.rows`); most files hold none.
    unstorable: bool = True

    @cached_property
    def name(self) -> str:  # asked for every row (the actor names the file)
        return self.path.name

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def column(self, name: str) -> int:
        return self.header.index(name)

    def rows(self, progress: Progress | None = None) -> Iterator[tuple[int, list[str]]]:
        """(row number as a spreadsheet shows it, the header being row 1; the fields)."""
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            reader = csv.reader(text)
            next(reader, None)
            try:
                for number, row in enumerate(reader, start=2):
                    if row:
                        yield number, row
                    if progress is not None and number % 2000 == 0:
                        progress(raw.tell())
            except (csv.Error, UnicodeDecodeError) as error:
                raise UnreadableFile(self.path, f"row {reader.line_num}: {error}") from None
        if progress is not None:
            progress(self.size)


# csv's default limit (128 KiB a field) made one oversized field stop the whole import; a
# field up to this size is read, and its row rejected (`check_field_lengths`).
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))


def expand(paths: Sequence[Path]) -> list[Path]:
    """The export's files: each PATH is a file or a folder of .csv files."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir()
                                if p.is_file() and p.suffix.lower() == ".csv"))
        elif path.is_file():
            files.append(path)
        else:
            raise UnreadableFile(path, "no such file or folder")
    return list(dict.fromkeys(files))


def open_export(paths: Sequence[Path], mapping: Mapping,
                encoding: str | None) -> tuple[list[ExportFile], list[Path]]:
    """Each part of the mapping with its file, checked; and the files no part reads."""
    wanted = encoding or mapping.encoding
    headers = {path: read_header(path, wanted) for path in expand(paths)}
    found: list[ExportFile] = []
    unclaimed = dict(headers)
    for _, part in mapping.parts():
        path = _claim(part, unclaimed)
        if path is None:
            continue
        encoding_used, header, unstorable = unclaimed.pop(path)
        _check_columns(path, part, header)
        if UNSTORABLE.search(path.name):  # the events' actor names the file
            raise UnreadableFile(path, "its name holds a control character, which the ledger "
                                 "cannot store: rename the file")
        found.append(ExportFile(path, part, encoding_used, header, unstorable))
    if not any(f.part is mapping.clients for f in found):
        raise InvalidInput("PATH", f"no clients file ({', '.join(mapping.clients.file)}) among "
                           f"the files given, for the {mapping.name} layout")
    return found, list(unclaimed)


def _claim(part: Part, files: dict[Path, tuple[str, tuple[str, ...], bool]]) -> Path | None:
    """The file a part reads: by name first, else the one whose header has its columns."""
    for pattern in part.file:
        for path in files:
            if fnmatch(path.name.lower(), pattern.lower()):
                return path
    for path, (_, header, _) in files.items():
        if not missing_columns(part, header):
            return path
    return None


def mapped_columns(part: Part) -> set[str]:
    """Every column the part's mapping names (they must all be in the file's header)."""
    names: set[str] = set()
    for field, value in part:
        if field == "file":
            continue
        if isinstance(value, str) and field not in ("join", "list_separator"):
            names.add(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            names.update(value)
    status = getattr(part, "status", None)
    if status is not None:
        names.update(c for c in (status.column, status.reason, status.cancelled_at) if c)
        names.update(rule.column for rule in status.rules)
    for source in getattr(part, "measures", {}).values():
        names.update(c for c in (source.column, source.code_column) if c)
    return names


def missing_columns(part: Part, header: Sequence[str]) -> list[str]:
    return sorted(mapped_columns(part) - set(header))


def _check_columns(path: Path, part: Part, header: tuple[str, ...]) -> None:
    missing = missing_columns(part, header)
    if missing:
        raise UnreadableFile(path, f"has no column {missing[0]!r}, which the mapping names "
                             f"(its columns: {', '.join(header)})")


def read_header(path: Path, wanted: str) -> tuple[str, tuple[str, ...], bool]:
    """The file's encoding (the whole file is checked), its header row, and whether its
    text holds a character the ledger refuses."""
    encoding, unstorable = detect_encoding(path, wanted)
    with path.open(encoding=encoding, newline="") as text:
        try:
            header = next(csv.reader(text), None)
        except csv.Error as error:
            raise UnreadableFile(path, f"is not CSV: {error}") from None
    if not header or not any(h.strip() for h in header):
        raise UnreadableFile(path, "is empty (no header row)")
    return encoding, tuple(h.strip() for h in header), unstorable


def detect_encoding(path: Path, wanted: str) -> tuple[str, bool]:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else Windows-1252;
    and whether the decoded text holds a character the ledger refuses."""
    if wanted.lower() != "auto":
        name = ENCODINGS.get(wanted.lower())
        if name is None:
            raise InvalidInput("encoding", f"'{wanted}' is not one of utf-8, windows-1252, "
                               "latin-1 (or auto)")
        if name == "utf-8" and _starts_with_bom(path):
            name = "utf-8-sig"
        unstorable = _scan(path, name)
        if unstorable is None:
            raise UnreadableFile(path, f"is not {wanted} text")
        return name, unstorable
    if (unstorable := _scan(path, "utf-8")) is not None:
        return "utf-8-sig" if _starts_with_bom(path) else "utf-8", unstorable
    if (unstorable := _scan(path, "cp1252")) is not None:
        return "cp1252", unstorable
    raise UnreadableFile(path, "is neither UTF-8 nor Windows-1252 text (is it a spreadsheet "
                         "or a binary file? export it as CSV)")


def _starts_with_bom(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(3) == codecs.BOM_UTF8


def _scan(path: Path, encoding: str) -> bool | None:
    """None if the file is not text in that encoding; else whether the text holds a
    character the ledger refuses (found while decoding: no second read)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    found = False
    try:
        with path.open("rb") as raw:
            while chunk := raw.read(CHUNK):
                if b"\x00" in chunk:
                    return None  # no text file holds NUL bytes
                text = decoder.decode(chunk)
                found = found or UNSTORABLE.search(text) is not None
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    except OSError as error:
        raise UnreadableFile(path, f"cannot be read ({error.strerror or error})") from None
    return found


MAX_FIELD = 100_000  # characters in one field of a row


def check_field_lengths(raw: list[str]) -> None:
    """A field longer than anyone types (a pasted file, a corrupt export): that row is
    rejected, the import goes on."""
    longest = max(map(len, raw), default=0)
    if longest > MAX_FIELD:
        raise ValueError(f"a field of {longest:,} characters (at most {MAX_FIELD:,}): not a "
                         "value of a record")
