"""D1: one person, one client. A second intake with the same name and date of birth as a
client not erased, or the same e-mail, is refused unless the user says it is another person
(`--allow-duplicate`: namesakes born the same day, a shared family e-mail)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from practice_es.domain.errors import RuleRefused


@dataclass(frozen=True)
class KnownClient:
    """A client on record, as the client directory lists them."""

    client_id: UUID
    name: str
    date_of_birth: date | None
    email: str | None


def short_id(ident: UUID) -> str:
    """The first 8 hex digits of an id: what tables show, and every command accepts."""
    return ident.hex[:8]


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and " ".join(str(a).split()).casefold() == " ".join(
        str(b).split()).casefold()


def same_person(known: KnownClient, name: str, date_of_birth: date | None,
                email: str | None) -> bool:
    same_birth = date_of_birth is not None and known.date_of_birth == date_of_birth
    return (same_birth and _same(known.name, name)) or _same(known.email, email)


def check_not_duplicate(name: str, date_of_birth: date | None, email: str | None,
                        known: Iterable[KnownClient]) -> None:
    """D1: refused, naming the existing client's short id, if it is the same person."""
    for other in known:
        if same_person(other, name, date_of_birth, email):
            why = ("the same e-mail" if _same(other.email, email)
                   else "the same name and date of birth")
            raise RuleRefused("D1", f"client {short_id(other.client_id)} has {why}; record "
                                    "the intake with --allow-duplicate if this is another "
                                    "person")
