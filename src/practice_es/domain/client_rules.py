"""The client's rules that need no state of theirs: what a given value may be, and what a
visit's program must be (C3)."""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from practice_es.domain.errors import InvalidInput
from practice_es.domain.keys import normalise_key

SOURCE_KINDS = ("client", "doctor", "advertising", "online", "walk-in", "other")
RECALL_CHANNELS = ("phone", "email", "sms", "letter")


class VisitProgram(Protocol):
    """What rule C3 reads of the program a visit is for (a `program.ProgramOfCare`)."""

    @property
    def id(self) -> UUID: ...

    @property
    def client_id(self) -> UUID: ...

    @property
    def status(self) -> str: ...


def check_email(email: str | None) -> None:
    if email is not None and email.strip() and "@" not in email:
        raise InvalidInput("email", f"'{email}' is not an e-mail address")


def check_source(intake: dict[str, Any]) -> None:
    kind = intake.get("referral_source")
    if kind is not None and kind not in SOURCE_KINDS:
        raise InvalidInput("source", f"'{kind}' is not one of {', '.join(SOURCE_KINDS)}")
    if intake.get("referrer"):
        intake["referrer"] = normalise_key(intake["referrer"])
