"""Corrections: which recorded entries of a client can be corrected, and what a correction says.

Nothing recorded is ever changed: `EntryCorrected` names the entry it corrects (the client's
event at `corrected_version`, its event name and, for visits and assessments, their id), the
corrected values (`changes`), the values as originally recorded (`original`) and why. The
aggregate and every read model use the corrected values; history shows both.

Correctable fields, by entry (`changes` keys):
- IntakeRecorded: name, email, phone, date_of_birth
- ContactUpdated: name, email, phone
- AssessmentRecorded: findings, measures (`measures.NAME=VALUE`: merged into the entry's measures)
- VisitCompleted: notes, occurred_on (ISO 8601), measures (merged likewise)
A later correction of the same field of the same entry wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from practice_es.domain.errors import InvalidInput
from practice_es.domain.events import DomainEvent
from practice_es.domain.measures import parse_measure
from practice_es.domain.personal import personal_fields

CONTACT_FIELDS = ("name", "email", "phone", "date_of_birth")
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "IntakeRecorded": CONTACT_FIELDS,
    "ContactUpdated": ("name", "email", "phone"),
    "AssessmentRecorded": ("findings", "measures"),
    "VisitCompleted": ("notes", "occurred_on", "measures"),
}
MEASURE_PREFIX = "measures."


def build_correction(original: DomainEvent, raw: Mapping[str, str],
                     zone: tzinfo | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(changes, original values), JSON-safe, from `field=value` texts; raises InvalidInput
    naming the field when the entry or the field cannot be corrected or a value is invalid."""
    name = type(original).__name__
    allowed = CORRECTABLE.get(name)
    if allowed is None:
        kinds = ", ".join(CORRECTABLE)
        raise InvalidInput("version", f"a {name} entry cannot be corrected (only {kinds})")
    if not raw:
        raise InvalidInput("set", "give at least one FIELD=VALUE to correct")
    recorded = original.model_dump(mode="json")
    changes: dict[str, Any] = {}
    for field, text in raw.items():
        key = "measures" if field.startswith(MEASURE_PREFIX) else field
        if key not in allowed:
            raise InvalidInput(field, f"cannot be corrected on {name} (fields: "
                                      f"{', '.join(_shown(allowed))})")
        if key == "measures":
            measure = field[len(MEASURE_PREFIX):]
            changes.setdefault("measures", {}).update(_measure(measure, text))
        else:
            changes[key] = _value(key, text, zone)
    return changes, {key: recorded.get(key) for key in changes}


def _shown(allowed: tuple[str, ...]) -> list[str]:
    return [f"{MEASURE_PREFIX}NAME" if f == "measures" else f for f in allowed]


def _measure(measure: str, text: str) -> dict[str, float]:
    name, value = parse_measure(f"{measure}={text}")
    return {name: value}


def _value(field: str, text: str, zone: tzinfo | None) -> Any:
    text = text.strip()
    if field in ("name", "findings"):
        if not text:
            raise InvalidInput(field, "cannot be corrected to nothing")
        return text
    if field == "occurred_on":
        return _moment(text, zone).isoformat()
    if field == "date_of_birth":
        return _day(text).isoformat() if text else None
    return text or None  # email, phone, notes: an empty value removes them


def _moment(text: str, zone: tzinfo | None) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("occurred_on", f"'{text}' is not an ISO 8601 date-time") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("date_of_birth", f"'{text}' is not an ISO 8601 date") from None


def personal_corrections(events: Mapping[str, Any]) -> dict[str, Any]:
    """The correctable fields that are personal in the entries they belong to (`events`: the
    event classes by name), each with its type in the first of them: a correction's
    `changes` and `original` seal exactly those."""
    found: dict[str, Any] = {}
    for name, allowed in CORRECTABLE.items():
        event = events[name]
        for field in allowed:
            if field in personal_fields(event):
                found.setdefault(field, event.model_fields[field].annotation)
    return found
