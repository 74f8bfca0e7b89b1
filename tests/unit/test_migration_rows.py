"""Row models: a valid row becomes typed values; an invalid one says which field and why."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from practice_es.migration.dates import DateReader
from practice_es.migration.rows import AppointmentRow, ClientRow, reason_of

CONTEXT = {"dates": DateReader(ZoneInfo("UTC"), "MM/DD/YYYY")}
GOOD = {"legacy_id": "A1", "client_key": "C1", "start": "11/30/2024", "start_time": "10:00",
        "booked_on": "11/28/2024", "status": "completed", "reason": "", "cancelled_at": "",
        "kind": "", "notes": "Focus on lumbar", "measures": {"pain": "4"}}


def _reason(model: Any, **changes: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**GOOD, **changes}, context=CONTEXT)
    return reason_of(caught.value)


def test_a_valid_appointment_row_is_typed() -> None:
    row = AppointmentRow.model_validate(GOOD, context=CONTEXT)
    assert row.start.isoformat() == "2024-11-30T10:00:00+00:00"
    assert (row.measures, row.notes, row.reason) == ({"pain": 4.0}, "Focus on lumbar", None)


@pytest.mark.parametrize(("changes", "reason"), [
    ({"measures": {"pain": "12"}}, "measures: pain 12 is outside its range 0–10"),
    ({"measures": {"pain": "a lot"}}, "measures: pain 'a lot' is not a number"),
    ({"start": "02/31/2025"}, "start: '02/31/2025' is not a date"),
    ({"booked_on": "12/01/2024"}, "booked_on: 2024-12-01 is after the appointment"),
    ({"legacy_id": ""}, "legacy_id"),
    ({"status": "maybe"}, "status"),
])
def test_an_invalid_appointment_row_names_the_field(changes: dict[str, Any],
                                                    reason: str) -> None:
    assert _reason(AppointmentRow, **changes).startswith(reason)


def test_a_client_row_needs_a_name_and_a_real_email() -> None:
    base = {"legacy_id": "C1", "key": "C1", "name": "Ann Lee", "email": "ann@example.org",
            "date_of_birth": "04/23/1980"}
    assert ClientRow.model_validate(base, context=CONTEXT).name == "Ann Lee"
    for changes, field in (({"name": "  "}, "name"), ({"email": "ann.example.org"}, "email"),
                           ({"date_of_birth": "01/01/2999"}, "date_of_birth")):
        with pytest.raises(ValidationError) as caught:
            ClientRow.model_validate({**base, **changes}, context=CONTEXT)
        assert reason_of(caught.value).startswith(field)
