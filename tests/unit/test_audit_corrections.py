"""Corrections in the domain: given a client's recorded entries, when one is corrected, then
EntryCorrected says what, why and the original values, and the client uses the new values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest

from practice_es.domain.client import Client
from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.events import DomainEvent, Stamp


def stamp(text: str = "2026-01-05") -> Stamp:
    return Stamp(on=datetime.fromisoformat(text).replace(tzinfo=UTC), actor="front-desk")


class Given:
    """A client and every event recorded for them so far (what the ledger would hold)."""

    def __init__(self, **intake: Any) -> None:
        self.client = Client.record_intake(stamp(), uuid4(), **{"name": "Ann Smith", **intake})
        self.log: list[DomainEvent] = []
        self._collect()

    def _collect(self) -> None:
        self.log.extend(self.client.collect_events())  # type: ignore[arg-type]

    def do(self, action: str, *args: Any, on: str = "2026-01-05") -> Given:
        getattr(self.client, action)(stamp(on), *args)
        self._collect()
        return self

    def entry(self, version: int) -> DomainEvent:
        return self.log[version - 1]

    def correct(self, version: int, reason: str = "typed wrong", on: str = "2026-06-01",
                **changes: str) -> Any:
        """Corrected later than every entry of these tests: a correction is now (T1)."""
        self.do("correct_entry", self.entry(version), changes, reason, on=on)
        return self.log[-1]

    def replayed(self) -> Client:
        client: Any = None
        for event in self.log:
            client = event.mutate(client)  # type: ignore[attr-defined]
        return client  # type: ignore[no-any-return]


def visited(given: Given, on: str, **measures: float) -> Given:
    return given.do("complete_visit", uuid4(), None, measures, "first notes", False, on=on)


def test_a_corrected_visit_records_what_it_corrects_and_the_original_values() -> None:
    given = visited(Given(), "2026-01-10", pain=7, ndi=30)
    corrected = given.correct(2, **{"measures.pain": "5", "notes": "better notes"})
    assert type(corrected).__name__ == "EntryCorrected"
    assert (corrected.corrected_version, corrected.corrected_event) == (2, "VisitCompleted")
    assert corrected.entry_id == given.entry(2).visit_id  # type: ignore[attr-defined]
    assert corrected.changes == {"measures": {"pain": 5.0}, "notes": "better notes"}
    assert corrected.original == {"measures": {"pain": 7.0, "ndi": 30.0},
                                  "notes": "first notes"}
    assert corrected.reason == "typed wrong" and corrected.actor == "front-desk"


def test_a_corrected_visit_date_moves_the_last_completed_visit() -> None:
    given = visited(visited(Given(), "2026-01-10"), "2026-02-20")  # the second mistyped
    given.correct(3, occurred_on="2026-01-20T10:00")
    for client in (given.client, given.replayed()):
        assert client.last_completed_on == datetime(2026, 1, 20, 10, tzinfo=UTC)


def test_a_visit_cannot_be_corrected_to_before_the_intake() -> None:
    given = visited(Given(), "2026-01-10")
    with pytest.raises(RuleRefused, match="C3"):
        given.correct(2, occurred_on="2025-12-31")


def test_a_corrected_intake_name_is_the_clients_name() -> None:
    given = Given(email=None)
    given.correct(1, name="Anne Smith", email="anne@example.org", date_of_birth="1980-02-03")
    client = given.replayed()
    assert (client.name, client.email, client.date_of_birth) == (
        "Anne Smith", "anne@example.org", date(1980, 2, 3))


def test_correcting_an_old_contact_entry_does_not_undo_a_later_update() -> None:
    given = Given(email="ann@old.example").do("update_contact", None, "ann@new.example", None)
    given.correct(1, email="ann@typo-fixed.example", phone="555 0100")
    client = given.replayed()
    assert client.email == "ann@new.example"  # set again since, by version 2
    assert client.phone == "555 0100"  # never set since the intake


@pytest.mark.parametrize(("changes", "field"), [
    ({"pain": "3"}, "pain"),  # a measure is written measures.NAME
    ({"measures.pain": "11"}, "measure pain"),
    ({"measures.pain": "a lot"}, "measure pain"),
    ({"occurred_on": "yesterday"}, "occurred_on"),
    ({"email": "not-an-address"}, "email"),
    ({"notes": ""}, None),
    ({}, "set"),
])
def test_invalid_corrections_name_the_field(changes: dict[str, str], field: str | None) -> None:
    given = visited(Given(), "2026-01-10")
    if field is None:  # removing the notes is a valid correction
        assert given.correct(2, **changes).changes == {"notes": None}
        return
    with pytest.raises(InvalidInput) as refused:
        given.correct(2, **changes)
    assert refused.value.field == field


def test_an_entry_of_another_kind_cannot_be_corrected() -> None:
    given = Given().do("send_recall", uuid4(), "phone")
    with pytest.raises(InvalidInput, match="RecallSent entry cannot be corrected"):
        given.correct(2, channel="sms")


def test_a_correction_says_why() -> None:
    given = visited(Given(), "2026-01-10")
    with pytest.raises(InvalidInput) as refused:
        given.correct(2, reason="  ", notes="x")
    assert refused.value.field == "reason"


def test_an_entry_of_another_client_cannot_be_corrected() -> None:
    given, other = Given(), Given()
    with pytest.raises(InvalidInput):
        given.do("correct_entry", other.entry(1), {"name": "X"}, "mix-up")


def test_t1_a_visit_cannot_be_corrected_to_after_the_correction() -> None:
    given = visited(Given(), "2026-01-10")
    with pytest.raises(RuleRefused, match="T1"):
        given.correct(2, occurred_on="2026-06-02T09:00", on="2026-06-01T18:00")
