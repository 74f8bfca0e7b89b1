"""Report windows (`--from/--to`, inclusive dates), periods (month, quarter) and ratios."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from practice_es.domain.days import start_of_next_day
from practice_es.domain.errors import InvalidInput

PERIODS = ("month", "quarter")


@dataclass(frozen=True)
class Window:
    """From the start of `start` to the end of `end`, both days included; either may be open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise InvalidInput("to", f"--to {self.end} is before --from {self.start}")

    @property
    def lower(self) -> datetime | None:
        return datetime.combine(self.start, time.min) if self.start else None

    @property
    def upper(self) -> datetime | None:
        """The first moment after the window (exclusive bound)."""
        return start_of_next_day(self.end) if self.end else None

    def __contains__(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        lower, upper = self.lower, self.upper
        return (lower is None or moment >= lower) and (upper is None or moment < upper)

    def until_end(self, moment: datetime | None) -> bool:
        """Whether `moment` is not after the window's end (however early)."""
        upper = self.upper
        return moment is not None and (upper is None or moment < upper)

    def as_json(self) -> dict[str, str | None]:
        return {"from": _iso(self.start), "to": _iso(self.end)}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def period_index(moment: date | datetime, by: str) -> int:
    """Months (or quarters) since year 0, so cohort + k is plain arithmetic."""
    if by == "quarter":
        return moment.year * 4 + (moment.month - 1) // 3
    return moment.year * 12 + moment.month - 1


def period_label(index: int, by: str) -> str:
    if by == "quarter":
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def check_period(by: str) -> str:
    if by not in PERIODS:
        raise InvalidInput("by", f"'{by}' is not one of {', '.join(PERIODS)}")
    return by


def ratio(part: float, whole: float) -> float | None:
    """part ÷ whole, or None (JSON null) when there is nothing to divide by."""
    return part / whole if whole else None


def number(value: float) -> float | int:
    """A measure as people write it: 7 rather than 7.0."""
    return int(value) if float(value).is_integer() else value
