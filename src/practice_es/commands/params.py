"""Parameter types: turn what a user typed into domain values, or say which option is wrong."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import click

from practice_es.domain.errors import InvalidInput
from practice_es.domain.measures import parse_measure


class DateTimeParam(click.ParamType):  # type: ignore[type-arg]
    """ISO 8601: `2026-03-01` or `2026-03-01T09:30` (local to PRACTICE_TZ) or with an offset."""

    name = "datetime"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is not an ISO 8601 date or date-time (2026-03-01 or "
                      "2026-03-01T09:30)", param, ctx)


class DateParam(click.ParamType):  # type: ignore[type-arg]
    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"'{value}' is not an ISO 8601 date (2026-03-01)", param, ctx)


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
