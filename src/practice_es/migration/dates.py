"""Legacy dates and times: MM/DD/YYYY, DD/MM/YYYY, ISO 8601, with times and offsets.

A value with an offset (`2024-03-05T09:00:00Z`) is converted to the practice's zone
(PRACTICE_TZ), so a UTC timestamp lands on the practice's business day; a value without one is
the practice's local time. Parsed values are cached: an export repeats its dates many times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from practice_es.domain.errors import InvalidInput
from practice_es.domain.moments import EARLIEST_YEAR
from practice_es.infrastructure.memo import remember

SLASHED = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[ T]+(.+?))?\s*$")
CLOCK = re.compile(r"^\s*(?:(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?)?\s*$")
KEPT = 200_000  # parsed values remembered, of each kind


class DateReader:
    """Reads the dates of one export, in one order for slashed dates (`MM/DD` or `DD/MM`)."""

    def __init__(self, zone: ZoneInfo, order: str | None) -> None:
        self.zone = zone
        self.order = order  # "MM/DD/YYYY", "DD/MM/YYYY", or None before detection
        self._dates: dict[str, date] = {}
        self._moments: dict[tuple[str, str], datetime] = {}

    def day(self, text: str) -> date:
        """A date; a date-time is read in the practice's zone and gives its business day."""
        found = self._dates.get(text)
        if found is None:
            found = self._moment(text, "").date() if _has_time(text) else self._date(text)
            _check_year(text, found)
            remember(self._dates, text, found, KEPT)
        return found

    def moment(self, text: str, clock: str = "") -> datetime:
        """A date and time (a date alone is the start of that day), aware, in the zone."""
        key = (text, clock)
        found = self._moments.get(key)
        if found is None:
            found = self._moment(text, clock)
            _check_year(text, found.date())
            remember(self._moments, key, found, KEPT)
        return found

    def _date(self, text: str) -> date:
        match = SLASHED.match(text)
        if match is None:
            try:
                return date.fromisoformat(text.strip())
            except ValueError:
                raise ValueError(f"'{text}' is not a date") from None
        first, second, year = (int(g) for g in match.group(1, 2, 3))
        if self.order is None:
            raise ValueError(f"'{text}' could be MM/DD or DD/MM: give --date-format")
        month, day = (first, second) if self.order.startswith("MM") else (second, first)
        try:
            return date(year, month, day)
        except ValueError as error:
            raise ValueError(f"'{text}' is not a date ({error}, read as {self.order})") from None

    def _moment(self, text: str, clock: str) -> datetime:
        match = SLASHED.match(text)
        if match is not None:
            day = self._date(text)
            clock = clock or (match.group(4) or "")
            return self._at(datetime.combine(day, _clock(clock, text)))
        if clock:
            return self._at(datetime.combine(self._date(text), _clock(clock, text)))
        try:
            return self._at(datetime.fromisoformat(text.strip()))
        except ValueError:
            raise ValueError(f"'{text}' is not a date or a date and time") from None

    def _at(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.zone)
        return moment.astimezone(self.zone)


def _check_year(text: str, day: date) -> None:
    """A date before 1900 is a typing or export mistake: the row is rejected (SPEC §9)."""
    if day.year < EARLIEST_YEAR:
        raise ValueError(f"'{text}' is before {EARLIEST_YEAR}")


def _has_time(text: str) -> bool:
    return ":" in text


def _clock(text: str, where: str) -> time:
    """`9:00`, `09:00:00`, `9:00 PM`; an empty time is the start of the day."""
    match = CLOCK.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a time of day (in {where!r})")
    hour, minute, second, half = match.groups()
    if not hour:
        return time()
    hours = int(hour) % 12 + (12 if half and half.lower() == "pm" else 0) if half else int(hour)
    try:
        return time(hours, int(minute), int(second or 0))
    except ValueError:
        raise ValueError(f"'{text}' is not a time of day (in {where!r})") from None


def slashed_order(values: Iterable[str]) -> str | None:
    """`MM/DD/YYYY` or `DD/MM/YYYY` if the values tell (a part over 12), else None.

    Stops at the first value that tells; a later value that reads otherwise is then not a
    date (its row is rejected, saying how it was read).
    """
    for value in values:
        match = SLASHED.match(value)
        if match is None:
            continue
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            return "DD/MM/YYYY"
        if second > 12 >= first:
            return "MM/DD/YYYY"
    return None


def check_order(order: str) -> str | None:
    """The order of `--date-format`, or None for ISO dates (no order to choose)."""
    known = ("MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "auto")
    if order not in known:
        raise InvalidInput("date-format", f"'{order}' is not one of {', '.join(known)}")
    return order if order in ("MM/DD/YYYY", "DD/MM/YYYY") else None
