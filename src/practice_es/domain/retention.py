"""When a client's record is due for destruction (SPEC §12): the legal period after the last
recorded activity, and for a minor not before they reach the age of majority plus that period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from practice_es.domain.client import Client
from practice_es.domain.errors import InvalidInput


@dataclass(frozen=True)
class RetentionRule:
    """Keep records `years` after the last activity; a minor's until `minors_until_age`
    plus `years` (None: no such rule)."""

    years: int
    minors_until_age: int | None = None

    def __post_init__(self) -> None:
        if self.years < 1:
            raise InvalidInput("years", f"must be at least 1, not {self.years}")
        if self.minors_until_age is not None and not 1 <= self.minors_until_age <= 30:
            raise InvalidInput("minors-until-age",
                               f"must be between 1 and 30, not {self.minors_until_age}")

    def cutoff(self, as_of: date) -> date:
        """Last activity before this day is more than `years` years before `as_of`."""
        return years_after(as_of, -self.years)

    def is_due(self, client: Client, last_activity: date, as_of: date) -> bool:
        """Whether the client's record is due for destruction on `as_of`: not erased yet,
        last activity more than `years` before it, no booking on or after it, and, for a
        minor, `as_of` on or after the day they reach the age plus `years`."""
        if client.status == "erased" or last_activity >= self.cutoff(as_of):
            return False
        if any(visit.at.date() >= as_of for visit in client.scheduled.values()):
            return False
        born = client.date_of_birth
        if self.minors_until_age is None or born is None:
            return True  # no date of birth: the adults' rule (nothing says they were a minor)
        return years_after(born, self.minors_until_age + self.years) <= as_of


@dataclass(frozen=True)
class Destruction:
    """One line of the destruction log."""

    client_id: UUID
    last_activity: date
    erased_on: date | None  # None in a dry run: nothing was erased


def years_after(day: date, years: int) -> date:
    """The same day `years` later (earlier if negative); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
