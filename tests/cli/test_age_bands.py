"""`report retention --by age-band` (SPEC §12), on both backends: clients are grouped by their
age band at their first visit, and the year of birth survives erasure (ClientErased keeps it,
outside the client's destroyed key), so an erased client stays in their band, incrementally
and after a rebuild."""

from __future__ import annotations

from typing import Any

import pytest

from practice_es.reports.age_bands import band_of
from tests.cli.helpers import Practice

AGE_BANDS = ("report", "retention", "--by", "age-band", "--format", "json")


def bands(report: dict[str, Any]) -> dict[str, tuple[int, list[int]]]:
    return {c["cohort"]: (c["clients"], c["retained"]) for c in report["cohorts"]}


def test_an_erased_client_stays_in_their_age_band(db_url: str) -> None:
    practice = Practice(db_url)
    for name, dob, visits in (("Ann", "1970-05-01", ("2016-01-11", "2016-03-11")),
                              ("Kit", "2004-05-01", ("2016-01-12",)),
                              ("Ned", None, ("2016-02-12",))):
        client = practice.new("client", "intake", "--name", name, "--on", "2016-01-10",
                              *(("--dob", dob) if dob else ()))
        for day in visits:
            practice.new("visit", "complete", client, "--on", day)
    before = practice.json(*AGE_BANDS)
    assert bands(before) == {"35-49": (1, [1, 0, 1]), "0-17": (1, [1]), "unknown": (1, [1])}

    erased = practice.json("client", "retention-sweep", "--years", "7", "--as-of",
                           "2026-01-01", "--json")["erased"]

    assert len(erased) == 3
    after = practice.json(*AGE_BANDS)
    assert bands(after) == bands(before)
    assert {c["cohort"]: c["erased"] for c in after["cohorts"]} == {
        "35-49": 1, "0-17": 1, "unknown": 1}
    practice.ok("projections", "rebuild")
    assert practice.json(*AGE_BANDS) == after  # a rebuild reads the kept year too


@pytest.mark.parametrize(("age", "band"), [(None, "unknown"), (0, "0-17"), (17, "0-17"),
                                           (18, "18-34"), (34, "18-34"), (35, "35-49"),
                                           (64, "50-64"), (65, "65+"), (101, "65+")])
def test_ages_fall_in_the_bands_their_labels_say(age: int | None, band: str) -> None:
    assert band_of(age) == band
