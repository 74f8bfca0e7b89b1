"""Personal data is declared on the fields themselves (domain/personal.py): an aggregate's
state keeps a personal event field personal, and a correction seals what it corrects."""

from __future__ import annotations

import pytest

from practice_es.domain.client import Client
from practice_es.domain.events import DomainEvent, PracticeAggregate
from practice_es.domain.personal import personal_fields, personal_paths
from practice_es.domain.program import ProgramOfCare
from practice_es.domain.referral import Referral


@pytest.mark.parametrize("aggregate", [Client, ProgramOfCare, Referral],
                         ids=lambda a: a.__name__)
def test_a_state_field_named_as_a_personal_event_field_is_personal_in_snapshots_too(
        aggregate: type[PracticeAggregate]) -> None:
    events = [v for v in vars(aggregate).values()
              if isinstance(v, type) and issubclass(v, DomainEvent)]
    said = {field for event in events for field in personal_fields(event)}
    kept = set(aggregate.State.model_fields) & said
    assert kept  # (the check has something to check)
    assert kept <= set(personal_fields(aggregate.State))


def test_a_correction_seals_the_personal_fields_of_the_entries_it_corrects() -> None:
    paths = personal_paths(Client.EntryCorrected)
    for field in ("name", "email", "phone", "date_of_birth", "findings", "notes"):
        assert f"changes.{field}" in paths and f"original.{field}" in paths
    assert not any(p.endswith((".measures", ".occurred_on")) for p in paths)  # clear
