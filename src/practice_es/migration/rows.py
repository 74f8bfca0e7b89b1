"""Row models: what one legacy row says, validated (pydantic) before anything is recorded.

The mapping picks the row's fields (`extract.py`); these models check and convert them. A row
that fails is rejected with the field and the rule it broke, and nothing of it is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import Any, Literal, NamedTuple, Protocol, Self, TypeVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from practice_es.domain.errors import InvalidInput
from practice_es.domain.events import has_unstorable
from practice_es.domain.measures import read_number, validate_measure
from practice_es.migration.dates import DateReader


class RowType(Protocol):
    """A row model: read from a row's mapped fields, or refused with a ValidationError."""

    @classmethod
    def read(cls, data: dict[str, Any], context: dict[str, Any]) -> Self: ...


TRow = TypeVar("TRow", bound=RowType)

RowStatus = Literal["completed", "cancelled", "no-show", "scheduled", "open"]
ROW_STATUSES = frozenset(get_args(RowStatus))


def _reader(info: ValidationInfo) -> DateReader:
    dates: DateReader = info.context["dates"]  # type: ignore[index]
    return dates


def _blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class LegacyRow(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    @classmethod
    def read(cls, data: dict[str, Any], context: dict[str, Any]) -> Self:
        """The row, validated; ValidationError (or ValueError) says what is wrong."""
        return cls.model_validate(data, context=context)

    @staticmethod
    def read_day(value: Any, info: ValidationInfo) -> date | None:
        value = _blank(value)
        return None if value is None else _reader(info).day(value)

    @staticmethod
    def read_moment(value: Any, info: ValidationInfo, clock: str = "") -> datetime | None:
        value = _blank(value)
        return None if value is None else _reader(info).moment(value, clock or "")


class ClientRow(LegacyRow):
    legacy_id: str
    key: str
    name: str
    date_of_birth: date | None = None
    died_on: date | None = None
    email: str | None = None
    phone: str | None = None
    since: datetime | None = None
    source_label: str | None = None
    referred_by: str | None = None
    conditions: list[str] = []
    medications: list[str] = []
    contraindications: list[str] = []

    @field_validator("legacy_id", "key", "name")
    @classmethod
    def _present(cls, value: str) -> str:
        if not value:
            raise ValueError("is empty")
        return " ".join(value.split())

    @field_validator("date_of_birth", "died_on", mode="before")
    @classmethod
    def _day(cls, value: Any, info: ValidationInfo) -> date | None:
        return cls.read_day(value, info)

    @field_validator("since", mode="before")
    @classmethod
    def _since(cls, value: Any, info: ValidationInfo) -> datetime | None:
        return cls.read_moment(value, info)

    @field_validator("email", "phone", "source_label", "referred_by", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return _blank(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and "@" not in value:
            raise ValueError(f"'{value}' is not an e-mail address")
        return value

    @field_validator("date_of_birth")
    @classmethod
    def _born(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError(f"{value} is in the future")
        return value


class AppointmentRow(LegacyRow):
    """One appointment. The hot path of a large import: its dates and measures are read in
    one step before the fields are checked (fewer validator calls per row)."""

    legacy_id: str = Field(min_length=1)
    client_key: str = Field(min_length=1)
    start: datetime
    booked_on: datetime | None = None
    status: RowStatus
    reason: str | None = None
    cancelled_at: datetime | None = None
    kind: str | None = None
    notes: str | None = None
    measures: dict[str, float] = {}

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        dates, data = _reader(info), dict(data)
        for name in _OPTIONAL:
            if data.get(name) == "":
                data[name] = None
        data["start"] = _field("start", lambda: dates.moment(data["start"] or "",
                                                             data.pop("start_time", "") or ""))
        for name in ("booked_on", "cancelled_at"):
            if data.get(name):
                data[name] = _field(name, partial(dates.moment, data[name]))
        booked, start = data.get("booked_on"), data["start"]
        if booked is not None and booked.date() > start.date():
            raise ValueError(f"booked_on: {booked.date()} is after the appointment "
                             f"({start.date()})")
        data["measures"] = _field("measures", lambda: read_measures(data.get("measures") or {}))
        return data


_OPTIONAL = ("booked_on", "cancelled_at", "reason", "kind", "notes")


class Appointment(NamedTuple):
    """A valid appointment row: the values of its `AppointmentRow`, in a plain tuple.

    A large import reads a million of these. Most rows are plainly valid, and `quick` checks
    them the plain way; whatever it is not sure of, `AppointmentRow` validates (with its
    reasons for the rejects file). A test holds the two to the same values."""

    legacy_id: str
    client_key: str
    start: datetime
    booked_on: datetime | None
    status: RowStatus
    reason: str | None
    cancelled_at: datetime | None
    kind: str | None
    notes: str | None
    measures: dict[str, float]

    @classmethod
    def read(cls, data: dict[str, Any], context: dict[str, Any]) -> Self:
        found = cls.quick(data, context["dates"])
        if found is not None:
            return found
        row = AppointmentRow.model_validate(data, context=context)
        return cls(**{name: getattr(row, name) for name in cls._fields})

    @classmethod
    def quick(cls, data: dict[str, Any], dates: DateReader) -> Self | None:
        """The row's values if it passes every check of `AppointmentRow` the plain way (its
        text already stripped, its dates readable); None if the model must say."""
        get = data.get
        legacy_id: Any = get("legacy_id")
        client_key: Any = get("client_key")
        status: Any = get("status")
        reason, kind, notes = get("reason"), get("kind"), get("notes")
        if not (_stripped(legacy_id) and _stripped(client_key) and status in ROW_STATUSES
                and _none_or_stripped(reason) and _none_or_stripped(kind)
                and _none_or_stripped(notes)):
            return None
        booked, cancelled = get("booked_on"), get("cancelled_at")
        try:
            start = dates.moment(get("start") or "", get("start_time") or "")
            booked = dates.moment(booked) if booked else None
            cancelled = dates.moment(cancelled) if cancelled else None
            measures = read_measures(get("measures") or {})
        except ValueError:
            return None
        if booked is not None and booked.date() > start.date():
            return None
        return cls(legacy_id, client_key, start, booked, status, reason, cancelled, kind,
                   notes, measures)


def _stripped(text: Any) -> bool:
    """Text the model would keep as it is: a string, not empty, nothing to strip."""
    return isinstance(text, str) and text != "" and text == text.strip()


def _none_or_stripped(text: Any) -> bool:
    return text is None or _stripped(text)


def _field(name: str, read: Callable[[], Any]) -> Any:
    """Read one field; its error names it (`start: '02/31/2025' is not a date`)."""
    try:
        return read()
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


class DetailRow(LegacyRow):
    """Notes or measures for a visit, from a file joined to the appointments."""

    key: str
    day: date | None = None
    notes: str | None = None
    measures: dict[str, float] = {}

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, value: Any, info: ValidationInfo) -> date | None:
        return cls.read_day(value, info)

    def join_key(self) -> str:
        """The appointment id, or `client|day` for a note of the client's visit that day."""
        return self.key if self.day is None else visit_day_key(self.key, self.day)

    @field_validator("notes", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return _blank(value)

    @field_validator("measures", mode="before")
    @classmethod
    def _measures(cls, value: dict[str, str]) -> dict[str, float]:
        return read_measures(value)


class HistoryRow(LegacyRow):
    client_key: str
    on: datetime
    conditions: list[str] = []
    medications: list[str] = []
    contraindications: list[str] = []

    @field_validator("on", mode="before")
    @classmethod
    def _on(cls, value: Any, info: ValidationInfo) -> datetime:
        moment = cls.read_moment(value, info)
        if moment is None:
            raise ValueError("is empty")
        return moment


class ProgramRow(LegacyRow):
    legacy_id: str
    client_key: str
    start: date
    stop: date | None = None
    description: str | None = None
    reason: str | None = None

    @field_validator("start", "stop", mode="before")
    @classmethod
    def _day(cls, value: Any, info: ValidationInfo) -> date | None:
        return cls.read_day(value, info)

    @field_validator("description", "reason", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return _blank(value)

    @field_validator("stop")
    @classmethod
    def _after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")
        if value is not None and start is not None and value < start:
            raise ValueError(f"{value} is before the start ({start})")
        return value


def check_storable(row: Any) -> None:
    """ValueError naming the first field of a valid row whose text the ledger refuses, as it
    refuses it from the command line (`DomainEvent._storable`): a control character other
    than tab and line breaks. The message never repeats the text (it may be a health detail)."""
    values: dict[str, Any] = row._asdict() if isinstance(row, Appointment) else vars(row)
    for name, value in values.items():
        if has_unstorable(value):
            raise ValueError(f"{name}: contains a character that cannot be stored (a control "
                             "character other than tab and line breaks)")


def visit_day_key(client_key: str, day: date) -> str:
    return f"{client_key}|{day.isoformat()}"


def read_measures(raw: dict[str, str]) -> dict[str, float]:
    """Each measure as a number within its range (SPEC §3: pain is 0-10)."""
    measures: dict[str, float] = {}
    for name, text in raw.items():
        value = _READ.get((name, text))
        if value is None:
            value = _read_measure(name, text)
            if len(_READ) < _READ_LIMIT:
                _READ[name, text] = value
        measures[name] = value
    return measures


# Measures read so far: an export repeats the same few values (pain 0-10) a million times.
_READ: dict[tuple[str, str], float] = {}
_READ_LIMIT = 10_000


def _read_measure(name: str, text: str) -> float:
    try:
        value = read_number(text)
    except ValueError as error:
        raise ValueError(f"{name} {error}") from None
    try:
        return validate_measure(name, value)
    except InvalidInput as error:
        raise ValueError(f"{name} {error.message}") from None


def reason_of(error: ValidationError) -> str:
    """The first problem, as `field: what is wrong` (the rejects file's reason)."""
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if not first["loc"]:
        return message  # a check of the whole row: its message names the field
    return f"{'.'.join(str(p) for p in first['loc'])}: {message}"
