"""Row models: a valid row becomes typed values; an invalid one says which field and why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from practice_es.domain.client import Client
from practice_es.migration.dates import DateReader
from practice_es.migration.rows import (
    Appointment,
    AppointmentRow,
    ClientRow,
    check_storable,
    reason_of,
)

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


# Per field: values the model takes as they are, and values it changes or refuses.
FIELDS: dict[str, tuple[list[Any], list[Any]]] = {
    "legacy_id": (["A1", "a b"], ["", " ", " A1", "A1 ", "\t"]),
    "client_key": (["C1", "a b"], ["", " C1", "C1\n"]),
    "start": (["11/30/2024", "2024-11-30", "11/30/2024 9:00"],
              ["02/31/2025", " 11/30/2024", "2024-11-30T10:00:00Z", "", "x"]),
    "start_time": (["", "10:00", "9:00 PM"], ["25:00", " 10:00"]),
    "booked_on": ([None, "", "11/28/2024", "11/30/2024"], ["12/01/2024", "x", " 11/28/2024"]),
    "cancelled_at": ([None, "11/30/2024"], ["", "x", "2024-11-30T10:00:00Z"]),
    "status": (["completed", "cancelled", "no-show", "scheduled", "open"], ["x", ""]),
    "reason": ([None, "x", "a b"], ["", " ", " x", "x\n"]),
    "kind": ([None, "x"], ["", " x"]),
    "notes": ([None, "a b"], ["", "a b "]),
    "measures": ([{}, {"pain": "4"}, {"pain": "4.5", "rom_deg": "90"}],
                 [{"pain": " 3"}, {"pain": "12"}, {"pain": "x"}, {"Pain": "4"}, {"pain": "nan"}]),
}


@st.composite
def appointments(draw: st.DrawFn) -> dict[str, Any]:
    """A valid row with up to two of its fields spoiled (the edges the quick path must see)."""
    row = {name: draw(st.sampled_from(good)) for name, (good, _) in FIELDS.items()}
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=2)):
        spoilt = st.sampled_from(FIELDS[name][1])
        row[name] = draw(spoilt if name == "measures" else spoilt | st.text(max_size=3))
    return row


APPOINTMENT = appointments()


@given(APPOINTMENT)
def test_the_quick_read_of_an_appointment_is_its_model_s(data: dict[str, Any]) -> None:
    """The import's quick path takes a row only if the model would, with the same values;
    a row it is not sure of is read by the model (same values, or the model's error)."""
    try:
        row = AppointmentRow.model_validate(data, context=CONTEXT)
        expected: Appointment | None = Appointment(
            **{name: getattr(row, name) for name in Appointment._fields})
    except ValidationError:
        expected = None
    quick = Appointment.quick(data, CONTEXT["dates"])
    assert quick is None or quick == expected
    if expected is None:
        with pytest.raises(ValidationError):
            Appointment.read(data, CONTEXT)
    else:
        assert Appointment.read(data, CONTEXT) == expected


def test_a_plain_valid_appointment_takes_the_quick_path() -> None:
    data = {**GOOD, "reason": None, "kind": None, "cancelled_at": None}
    assert Appointment.quick(data, CONTEXT["dates"]) == Appointment.read(GOOD, CONTEXT)


@given(st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0x7f) | st.characters()))
def test_a_row_s_text_is_refused_exactly_when_the_domain_refuses_it(text: str) -> None:
    """The import applies the domain's own rule on text (a control character other than tab
    and line breaks), naming the field; its message never repeats the text."""
    row = Appointment.read(GOOD, CONTEXT)._replace(notes=text)
    now = datetime.now(UTC)
    try:
        Client.VisitCompleted(originator_id=uuid4(), originator_version=2, timestamp=now,
                              occurred_on=now, actor="tester", visit_id=uuid4(), notes=text)
        refused = False
    except ValidationError:
        refused = True
    if refused:
        with pytest.raises(ValueError, match=r"^notes: contains a character that cannot be "
                           "stored") as caught:
            check_storable(row)
        assert text not in str(caught.value) or not text.strip()
    else:
        check_storable(row)
    check_storable(ClientRow.model_validate(  # a pydantic row too
        {"legacy_id": "C1", "key": "C1", "name": "Ann Lee"}, context=CONTEXT))
