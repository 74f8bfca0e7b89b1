"""Day arithmetic that stays inside the calendar: a report or sweep at the edges of what a
date can hold (0001-01-01, 9999-12-31, a window of 99,999,999 days) answers, never overflows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta


def start_of_next_day(day: date) -> datetime:
    """The first moment after `day` (naive); the last moment there is after 9999-12-31."""
    if day >= date.max:
        return datetime.max
    return datetime.combine(day + timedelta(days=1), time.min)


def days_before(day: date, days: int) -> date:
    """`days` days before `day`, or the first day there is."""
    if days >= (day - date.min).days:
        return date.min
    return day - timedelta(days=days)


def days_after(day: date, days: int) -> date:
    """`days` days after `day`, or the last day there is."""
    if days >= (date.max - day).days:
        return date.max
    return day + timedelta(days=days)
