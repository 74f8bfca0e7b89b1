"""The export's clients: one per person, merges listed, keys and names resolved."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from practice_es.domain.keys import derived_id
from practice_es.migration.clients import ClientIndex
from practice_es.migration.dates import DateReader
from practice_es.migration.rows import ClientRow

CONTEXT = {"dates": DateReader(ZoneInfo("UTC"), None)}


def _row(legacy_id: str, name: str, **fields: Any) -> ClientRow:
    data = {"legacy_id": legacy_id, "key": fields.pop("key", legacy_id), "name": name,
            **fields}
    return ClientRow.model_validate(data, context=CONTEXT)


def test_the_same_legacy_id_twice_is_one_client() -> None:
    index = ClientIndex("generic", "clients.csv")
    assert index.add(2, _row("C1", "Ann Lee")) is None
    merge = index.add(9, _row("C1", "Ann Lee-Smith"))

    assert merge is not None and (merge.row, merge.into, merge.reason) == (
        9, "C1", "same legacy id")
    assert len(index) == 1 and index.is_first(2, _row("C1", "Ann Lee"))


def test_the_same_person_under_another_id_is_one_client_in_any_case() -> None:
    index = ClientIndex("generic", "clients.csv")
    index.add(2, _row("C1", "Lars Smith", date_of_birth="1977-11-11",
                      email="lars@example.org"))
    merge = index.add(3, _row("C9", "lars  smith", date_of_birth="1977-11-11",
                              email="LARS@EXAMPLE.ORG"))

    assert merge is not None and merge.reason == "same name, date of birth and e-mail"
    found = index.find("C9")
    assert found is not None and found.client_id == derived_id("generic", "C1")


def test_without_an_email_two_people_of_one_name_and_birthday_stay_two() -> None:
    index = ClientIndex("generic", "clients.csv")
    index.add(2, _row("C1", "Ann Lee", date_of_birth="1980-01-01"))
    assert index.add(3, _row("C2", "Ann Lee", date_of_birth="1980-01-01")) is None
    assert len(index) == 2
    assert index.named("ann lee") is None  # two of that name: no referrer is guessed


def test_other_files_find_a_client_by_the_key_they_use() -> None:
    index = ClientIndex("openemr", "patient_data.csv")
    index.add(2, _row("C1003", "Lars Smith", key="4"))
    entry = index.find("4")
    assert entry is not None and entry.legacy_id == "C1003"
    assert index.find("C1003") is None  # appointments name patients by pid only
