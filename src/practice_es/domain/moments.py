"""When a fact may be said to happen: T1 (no fact in the future) and the bounds of a date.

A fact (`--on`, a lapse sweep's as-of day, a corrected visit date) is refused by rule T1 when
it is later than now in the practice's zone: recording it would let later facts answer it
out of order (a Lapsed dated after the visit that would reactivate it). A booking (`--at`)
is for the future, but not beyond the horizon a diary keeps. A date before 1900 or a booking
beyond the horizon is a typing mistake, not a rule's decision: invalid input.
"""

from __future__ import annotations

from datetime import date, datetime

from practice_es.domain.errors import InvalidInput, RuleRefused

EARLIEST_YEAR = 1900
BOOKING_HORIZON_YEARS = 2


def check_known_day(field: str, day: date) -> None:
    """A date a person typed: none before 1900 (exit 2, naming the field)."""
    if day.year < EARLIEST_YEAR:
        raise InvalidInput(field, f"{day.isoformat()} is before {EARLIEST_YEAR}")


def check_not_future(field: str, when: datetime, now: datetime) -> None:
    """T1: a fact happened at or before now."""
    check_known_day(field, when.date())
    if when > now:
        raise RuleRefused("T1", f"{field} {when.isoformat(timespec='minutes')} is later than "
                                f"now ({now.isoformat(timespec='minutes')}): no fact is "
                                "recorded before it happens")


def check_day_not_future(field: str, day: date, today: date) -> None:
    """T1 for a day (a lapse sweep's as-of): today at the latest."""
    check_known_day(field, day)
    if day > today:
        raise RuleRefused("T1", f"{field} {day.isoformat()} is after today ({today.isoformat()}):"
                                " no fact is recorded before it happens")


def booking_horizon(now: datetime) -> datetime:
    """The latest moment a visit may be booked for: two years from now (28 February for
    a 29 February)."""
    year = now.year + BOOKING_HORIZON_YEARS
    if year > datetime.max.year:
        return datetime.max.replace(tzinfo=now.tzinfo)
    try:
        return now.replace(year=year)
    except ValueError:
        return now.replace(year=year, day=28)


def check_booking(field: str, at: datetime, now: datetime) -> None:
    """A booking may be in the future, but not more than two years ahead (exit 2)."""
    check_known_day(field, at.date())
    if at > booking_horizon(now):
        raise InvalidInput(field, f"{at.isoformat(timespec='minutes')} is more than "
                                  f"{BOOKING_HORIZON_YEARS} years ahead")
