"""The practice's time: now by a clock tests can fix, in the practice's zone (PRACTICE_TZ),
and the stamp of a fact (never later than now: T1) or the time a visit is booked for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from practice_es.domain.events import Stamp
from practice_es.domain.moments import check_booking, check_not_future

Clock = Callable[[], datetime]


class BusinessTime:
    """`actor` says who is recording (it may change per web request)."""

    def __init__(self, zone: ZoneInfo, actor: Callable[[], str],
                 clock: Clock | None = None) -> None:
        self.zone = zone
        self.actor = actor
        self.clock: Clock = clock or partial(datetime.now, zone)

    def now(self) -> datetime:
        return self.clock().astimezone(self.zone)

    def stamp(self, on: datetime | None) -> Stamp:
        """Business time in the practice's zone (now, if not given) and the actor."""
        when = on or self.now()
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.zone)
        return Stamp(on=when.astimezone(self.zone), actor=self.actor())

    def fact(self, on: datetime | None) -> Stamp:
        """The stamp of a fact happening at `on` (now, if not given): T1, never later."""
        stamp = self.stamp(on)
        check_not_future("--on", stamp.on, self.now())
        return stamp

    def booking(self, at: datetime) -> datetime:
        """When a visit is booked for, in the practice's zone: at most two years ahead."""
        when = self.stamp(at).on
        check_booking("at", when, self.now())
        return when
