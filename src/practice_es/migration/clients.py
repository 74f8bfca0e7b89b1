"""The export's clients: one per person, whatever key another file names them by.

Built in a first pass over the clients file, holding a few fields per client (not per row of
the other files): the derived client id, the keys that lead to it, the date of death, and the
names that friend-and-family referrals are matched by. Duplicates (the same legacy id, or the
same name, date of birth and e-mail in any case) become one client, and each merge is listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from practice_es.domain.keys import derived_id, normalise_key
from practice_es.migration.rows import ClientRow
from practice_es.migration.summary import Merge

_AMBIGUOUS = object()
_SAME_ID = "same legacy id"


@dataclass(frozen=True, slots=True)
class ClientEntry:
    client_id: UUID
    legacy_id: str
    row: int
    died_on: date | None


class ClientIndex:
    def __init__(self, source: str, file: str) -> None:
        self.source = source
        self.file = file
        self._by_legacy: dict[str, ClientEntry] = {}
        self._by_key: dict[str, ClientEntry] = {}  # the key the other files name clients by
        self._by_person: dict[tuple[str, date, str], ClientEntry] = {}
        self._by_name: dict[str, ClientEntry | object] = {}
        self.merges: list[Merge] = []

    def __len__(self) -> int:
        return len(self._by_legacy)

    def add(self, number: int, row: ClientRow) -> Merge | None:
        """The client of a valid row; a duplicate is merged into the first (and returned)."""
        same = self._by_legacy.get(row.legacy_id)
        reason = _SAME_ID
        person = _person(row)
        if same is None and person is not None:
            same = self._by_person.get(person)
            reason = "same name, date of birth and e-mail"
        if same is not None:
            merge = Merge(self.file, number, row.legacy_id, same.legacy_id, same.client_id,
                          reason)
            self._by_key.setdefault(row.key, same)
            self.merges.append(merge)
            return merge
        entry = ClientEntry(derived_id(self.source, row.legacy_id), row.legacy_id, number,
                            row.died_on)
        self._by_legacy[row.legacy_id] = entry
        self._by_key[row.key] = entry
        if person is not None:
            self._by_person[person] = entry
        name = normalise_key(row.name)
        self._by_name[name] = entry if name not in self._by_name else _AMBIGUOUS
        return None

    def is_first(self, number: int, row: ClientRow) -> bool:
        """Whether this row is the one its client is recorded from (not a merged duplicate)."""
        entry = self._by_legacy.get(row.legacy_id)
        return entry is not None and entry.row == number

    def find(self, key: str) -> ClientEntry | None:
        return self._by_key.get(key.strip())

    def named(self, name: str) -> ClientEntry | None:
        """The one client of that name (None if none, or several)."""
        found = self._by_name.get(normalise_key(name))
        return found if isinstance(found, ClientEntry) else None


def _person(row: ClientRow) -> tuple[str, date, str] | None:
    if row.date_of_birth is None or not row.email:
        return None  # without all three, two people could look the same
    return (normalise_key(row.name), row.date_of_birth, row.email.strip().casefold())
