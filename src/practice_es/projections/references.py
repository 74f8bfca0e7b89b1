"""References as people type them (SPEC §9): a full id, a unique prefix of at least six hex
digits of it (dashes ignored, as git does), or for a client their exact name.

One place for every adapter: the CLI's parameters and the web's forms both resolve through
`resolve_reference` (the read models caught up first) or `resolve` (a connection already open),
and complete through `complete`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Connection, Table, select

from practice_es.domain.errors import InvalidInput
from practice_es.projections.clients import client_directory
from practice_es.projections.programs import programs
from practice_es.projections.referrals import referrals
from practice_es.projections.visits import visits

if TYPE_CHECKING:
    from practice_es.projections.runner import ProjectionRunner

KINDS = ("client", "program", "visit", "referral")
MIN_PREFIX = 6  # hex digits: fewer would match a good share of a large practice's ids
SHORT = 8  # hex digits of a short id, as tables print them
SHOWN = 10  # candidates listed when a reference is ambiguous
_DASHES = (8, 12, 16, 20)  # where the canonical text of a UUID has its dashes
_HEX = frozenset("0123456789abcdef")


def short_id(ident: UUID | str) -> str:
    """The first eight hex digits of an id: what tables print and every command accepts."""
    return str(ident).replace("-", "")[:SHORT]


@dataclass(frozen=True)
class Candidate:
    """Something a reference may mean: its id and a few words a person knows it by."""

    ident: str
    label: str
    by_name: bool = False  # found by the client's name, not by its id

    @property
    def short(self) -> str:
        return short_id(self.ident)


class UnknownReference(InvalidInput):
    """No client, program, visit or referral answers to what was typed (exit code 2)."""


class AmbiguousReference(InvalidInput):
    """More than one answers to it (exit code 2); the message lists the candidates."""

    def __init__(self, kind: str, text: str, candidates: list[Candidate]) -> None:
        shown = "\n".join(f"  {c.short}  {c.label}" for c in candidates[:SHOWN])
        more = "\n  … and more" if len(candidates) > SHOWN else ""
        super().__init__(kind, f"'{text}' matches more than one {kind}; give its id, or more of it:"
                               f"\n{shown}{more}")
        self.candidates = candidates


def full_id(text: str) -> UUID | None:
    """The id if the text is a whole one (any case, with or without dashes), else None."""
    try:
        return UUID(text.strip())
    except ValueError:
        return None


def hex_prefix(text: str) -> str | None:
    """The canonical (dashed, lower-case) prefix a run of hex digits stands for, or None."""
    digits = text.strip().lower().replace("-", "")
    if len(digits) < MIN_PREFIX or len(digits) > 32 or not set(digits) <= _HEX:
        return None
    return _dashed(digits)


def _dashed(digits: str) -> str:
    """Hex digits with the dashes the canonical text of an id has among them."""
    for at in reversed(_DASHES):
        if len(digits) > at:
            digits = digits[:at] + "-" + digits[at:]
    return digits


def resolve_reference(runner: ProjectionRunner, kind: str, text: str) -> UUID:
    """What `text` names, as a command takes it: a whole id at once (no read: an action
    stays quick and the aggregate's own load says if it exists), anything else from the read
    models, caught up first so what was recorded a moment ago is found."""
    ident = full_id(text)
    if ident is not None:
        return ident
    from practice_es.projections.engine import reading

    runner.catch_up()
    with reading(runner.engine) as conn:
        return resolve(conn, kind, text)


def resolve(conn: Connection, kind: str, text: str) -> UUID:
    """The id `text` names among the `kind`s in the read models (see the module's doc)."""
    if kind not in KINDS:
        raise ValueError(f"no such kind of reference: {kind}")
    ident = full_id(text)
    if ident is not None:
        return ident
    found: list[Candidate] = []
    prefix = hex_prefix(text)
    if prefix is not None:
        found = _by_prefix(conn, kind, prefix, SHOWN + 1)
    if not found and kind == "client":
        found = _by_name(conn, text)
    if len(found) == 1:
        return UUID(found[0].ident)
    if found:
        raise AmbiguousReference(kind, text, found)
    raise UnknownReference(kind, _unknown(kind, text, prefix))


def _unknown(kind: str, text: str, prefix: str | None) -> str:
    if prefix is not None:
        return f"no {kind} has an id starting {text.strip()}"
    if kind == "client":
        return (f"no client is named '{text.strip()}' and it is not an id (a full id, "
                f"at least {MIN_PREFIX} of its first hex digits, or the exact name)")
    return (f"'{text.strip()}' is not a {kind} id (a full id or at least {MIN_PREFIX} of "
            "its first hex digits)")


_KEYS: dict[str, tuple[Table, str]] = {
    "client": (client_directory, "client_id"),
    "program": (programs, "program_id"),
    "visit": (visits, "visit_id"),
    "referral": (referrals, "referral_id"),
}


def _by_prefix(conn: Connection, kind: str, prefix: str, limit: int) -> list[Candidate]:
    """Ids starting with the prefix, by a range over the key's index (both backends)."""
    table, key = _KEYS[kind]
    column = table.c[key]
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    query = (select(column).where(column >= prefix, column < upper)
             .order_by(column).limit(limit))
    idents = [row[0] for row in conn.execute(query)]
    return describe(conn, kind, idents)


def _by_name(conn: Connection, text: str) -> list[Candidate]:
    """Clients not erased whose name is the text, case aside. In Python: names may be
    sealed at rest (ADR 5), so SQL cannot compare them."""
    wanted = " ".join(text.split()).casefold()
    c = client_directory.c
    query = select(c.client_id, c.name).where(c.status != "erased").order_by(c.client_id)
    return [Candidate(row.client_id, row.name, by_name=True) for row in conn.execute(query)
            if " ".join((row.name or "").split()).casefold() == wanted]


def describe(conn: Connection, kind: str, idents: Iterable[str]) -> list[Candidate]:
    """Each id with the words a person knows it by: a client's name; a program's client and
    phase; a visit's client and time; a referral's client, provider or referrer."""
    wanted = list(idents)
    if not wanted:
        return []
    rows = _describing_rows(conn, kind, wanted)
    names = client_names(conn, {r["client_id"] for r in rows.values() if r.get("client_id")})
    return [Candidate(ident, _label(kind, rows.get(ident, {}), names)) for ident in wanted]


def _describing_rows(conn: Connection, kind: str, idents: list[str]
                     ) -> dict[str, dict[str, Any]]:
    table, key = _KEYS[kind]
    query = select(table).where(table.c[key].in_(idents))
    return {row._mapping[key]: dict(row._mapping) for row in conn.execute(query)}


def client_names(conn: Connection, client_ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(client_ids))
    c = client_directory.c
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        query = select(c.client_id, c.name).where(c.client_id.in_(wanted[start:start + 500]))
        found.update((row.client_id, row.name) for row in conn.execute(query))
    return found


def _label(kind: str, row: dict[str, Any], names: dict[str, str]) -> str:
    if kind == "client":
        return str(row.get("name") or "")
    if kind == "referral" and row.get("direction") == "in":
        client = names.get(row.get("converted_client_id") or "")
        source = f"from {row.get('source_kind')} {row.get('referrer')}"
        return f"{client}, {source}" if client else source
    name = names.get(row.get("client_id") or "", "")
    if kind == "program":
        return f"{name}, {row.get('phase')} program"
    if kind == "visit":
        at = row.get("at")
        return f"{name}, {at:%Y-%m-%d %H:%M} ({row.get('status')})" if at else name
    return f"{name}, to {row.get('provider')}"


def complete(conn: Connection, kind: str, incomplete: str, limit: int = 50
             ) -> list[Candidate]:
    """What a half-typed reference may become: ids starting with it, and for a client the
    names starting with it (case aside), for shell completion and the web's search box."""
    typed = incomplete.strip()
    table, key = _KEYS[kind]
    column = table.c[key]
    found: list[Candidate] = []
    digits = typed.lower().replace("-", "")
    if set(digits) <= _HEX and len(digits) <= 32 and (digits or kind != "client"):
        query = (select(column).where(column.startswith(_dashed(digits), autoescape=True))
                 .order_by(column).limit(limit))
        found = describe(conn, kind, [row[0] for row in conn.execute(query)])
    if kind == "client" and len(found) < limit:
        wanted = typed.casefold()
        c = client_directory.c
        query = select(c.client_id, c.name).where(c.status != "erased")
        named = sorted((row.name, row.client_id) for row in conn.execute(query)
                       if (row.name or "").casefold().startswith(wanted))
        found += [Candidate(ident, name, by_name=True)
                  for name, ident in named[:limit - len(found)]]
    return found
