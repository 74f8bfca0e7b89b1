"""Parameter types: turn what a user typed into domain values, or say which option is wrong."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import click

from practice_es.domain.errors import InvalidInput
from practice_es.domain.measures import parse_measure
from practice_es.domain.moments import check_known_day


class DateTimeParam(click.ParamType):  # type: ignore[type-arg]
    """ISO 8601: `2026-03-01` or `2026-03-01T09:30` (local to PRACTICE_TZ) or with an offset."""

    name = "datetime"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is not an ISO 8601 date or date-time (2026-03-01 or "
                      "2026-03-01T09:30)", param, ctx)
        if problem := _too_early(moment.date()):
            self.fail(problem, param, ctx)
        return moment


class DateParam(click.ParamType):  # type: ignore[type-arg]
    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is not an ISO 8601 date (2026-03-01)", param, ctx)
        if problem := _too_early(day):
            self.fail(problem, param, ctx)
        return day


def _too_early(day: date) -> str | None:
    """Why a date typed on the command line cannot be (before 1900), or None."""
    try:
        check_known_day("date", day)
    except InvalidInput as error:
        return error.message
    return None


class IdParam(click.ParamType):  # type: ignore[type-arg]
    name = "id"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> UUID:
        if isinstance(value, UUID):
            return value
        try:
            return UUID(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is not an id (ids look like 3f2b…, 32 hex digits)", param, ctx)


class MeasureParam(click.ParamType):  # type: ignore[type-arg]
    name = "NAME=VALUE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, float]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_measure(str(value))
        except InvalidInput as error:
            self.fail(str(error), param, ctx)


DATETIME = DateTimeParam()
DATE = DateParam()
ID = IdParam()
MEASURE = MeasureParam()


def measures_dict(pairs: tuple[tuple[str, float], ...]) -> dict[str, float]:
    return dict(pairs)
