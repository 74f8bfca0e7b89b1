"""Normalised keys and deterministic ids (pure functions)."""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from practice_es.domain.errors import InvalidInput

# A fixed namespace: ids derived from it are the same on every machine and every run,
# which is what makes imports idempotent and lets a client's programs be found without a scan.
PRACTICE_NAMESPACE = UUID("6f1c1f9e-2b7a-4d0e-9a43-5be0c1a7d3e2")

_SPACES = re.compile(r"\s+")


def normalise_key(text: str) -> str:
    """R2: one doctor is one row, however their key was typed (case, surrounding space)."""
    return _SPACES.sub(" ", text.strip()).casefold()


PRACTITIONER_MAX = 100


def practitioner_key(text: str | None) -> str | None:
    """Who treats, as one key however it was spaced: surrounding and repeated spaces go, case
    stays (it is shown as written: "Dr. Helen Jones DC"); empty is nobody."""
    if text is None:
        return None
    key = _SPACES.sub(" ", text.strip())
    if len(key) > PRACTITIONER_MAX:
        raise InvalidInput("practitioner", f"at most {PRACTITIONER_MAX} characters")
    return key or None


def normalise_condition(text: str) -> str:
    return normalise_key(text)


def program_id(client_id: UUID, number: int) -> UUID:
    """The id of a client's n-th program of care (1-based)."""
    return uuid5(PRACTICE_NAMESPACE, f"{client_id}/program/{number}")


def outbound_referral_id(client_id: UUID, number: int) -> UUID:
    """The id of the n-th referral made out for a client (1-based)."""
    return uuid5(PRACTICE_NAMESPACE, f"{client_id}/referral-out/{number}")


def derived_id(*parts: str) -> UUID:
    """An id derived from its parts: the same parts always give the same id."""
    return uuid5(PRACTICE_NAMESPACE, "/".join(parts))
