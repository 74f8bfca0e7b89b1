"""Programs of care, P1–P5 and re-evaluation: given events, when an action, then events or error."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from practice_es.domain.client import Client
from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.keys import program_id
from practice_es.domain.program import ProgramOfCare, expected_end
from tests.unit.given import active_program, assessed, intake, recommend, replayed, stamp, then


def assessed_client(**intake_fields: Any) -> Client:
    client = intake(**intake_fields)
    assessed(client)
    return replayed(client)


def refused(rule: str, **overrides: Any) -> RuleRefused:
    client = assessed_client()
    with pytest.raises(RuleRefused) as caught:
        recommend(client, **overrides)
    assert caught.value.rule == rule
    return caught.value


# -- P1: evidence-based ----------------------------------------------------------------------

def test_p1_a_program_needs_an_assessment_on_record() -> None:
    client = replayed(intake())
    with pytest.raises(RuleRefused) as caught:
        recommend(client)
    assert caught.value.rule == "P1"
    assert "assessment" in caught.value.message


def test_p1_the_recommendation_cites_the_latest_assessment_by_default() -> None:
    client = intake()
    assessed(client)
    latest = assessed(client, on="2026-01-06", findings="better")
    program = recommend(replayed(client))
    [event] = program.collect_events()
    assert isinstance(event, ProgramOfCare.ProgramRecommended)
    assert event.assessment_id == latest


def test_p1_a_cited_assessment_must_be_this_clients() -> None:
    client = intake()
    first = assessed(client)
    assessed(client, on="2026-01-06")
    client = replayed(client)
    assert recommend(client, assessment_id=first).assessment_id == first
    with pytest.raises(RuleRefused) as caught:
        recommend(client, assessment_id=uuid4())
    assert caught.value.rule == "P1"


# -- P2: specific ----------------------------------------------------------------------------

@pytest.mark.parametrize("overrides", [
    {"visits": 0},
    {"per_week": 0.0},
    {"per_week": -1.0},
    {"per_week": 7.5},
    {"goals": []},
    {"goals": ["  "]},
    {"reevaluate_after": 0},
    {"reevaluate_after": 7},  # after more visits than planned
])
def test_p2_a_program_is_specific(overrides: dict[str, object]) -> None:
    refused("P2", **overrides)


def test_p2_an_unknown_phase_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="phase"):
        recommend(assessed_client(), phase="miracle")


@pytest.mark.parametrize("phase", ["relief", "corrective", "maintenance"])
def test_p2_each_phase_of_care_can_be_recommended(phase: str) -> None:
    program = recommend(assessed_client(), phase=phase, per_week=7.0, visits=1)
    assert program.phase == phase


def test_p2_the_expected_end_and_reevaluation_follow_from_the_plan() -> None:
    program = replayed(recommend(assessed_client(), visits=6, per_week=2.0))
    assert program.reevaluate_after == 6  # default: after the last planned visit
    # 6 visits at 2 a week: the last falls 5 intervals of 3.5 days after the first.
    assert program.expected_end == date(2026, 1, 5 + 18)
    assert expected_end(date(2026, 1, 5), 1, 1.0) == date(2026, 1, 5)
    explicit = recommend(assessed_client(), visits=12, per_week=3.0, reevaluate_after=4)
    assert explicit.reevaluate_after == 4


# -- P3: honest ------------------------------------------------------------------------------

@pytest.mark.parametrize("rationale", ["", "   "])
def test_p3_a_recommendation_records_its_rationale(rationale: str) -> None:
    refused("P3", rationale=rationale)


# -- C2 on programs: an open contraindication blocks recommending ----------------------------

def test_c2_an_open_contraindication_blocks_recommending_and_is_named() -> None:
    client = intake(contraindications=["Recent whiplash"])
    assessed(client)
    client = replayed(client)
    with pytest.raises(RuleRefused) as caught:
        recommend(client)
    assert caught.value.rule == "C2"
    assert "Recent whiplash" in caught.value.message
    client.clear_contraindication(stamp(), "recent whiplash", "Dr Jones")
    assert then(recommend(client)) == ["ProgramRecommended"]


# -- P4: the client is free to decline -------------------------------------------------------

def test_p4_a_declined_program_stays_on_record_as_declined() -> None:
    program = replayed(recommend(assessed_client()))
    program.decline(stamp("2026-01-06"), "cannot afford it")
    [event] = program.collect_events()
    assert isinstance(event, ProgramOfCare.ProgramDeclined)
    assert event.reason == "cannot afford it"
    assert program.status == "declined"
    assert program.goals == ["turn the head freely"]  # the recommendation is still there


def test_p4_a_declined_program_cannot_then_be_accepted() -> None:
    program = recommend(assessed_client())
    program.decline(stamp(), None)
    program = replayed(program)
    with pytest.raises(RuleRefused) as caught:
        program.accept(stamp(), [])
    assert caught.value.rule == "P4"
    assert "declined" in caught.value.message


def test_p4_an_accepted_program_cannot_be_declined() -> None:
    program = active_program(assessed_client())
    with pytest.raises(RuleRefused) as caught:
        program.decline(stamp(), None)
    assert caught.value.rule == "P4"


def test_p4_a_recommendation_entered_by_mistake_is_withdrawn_not_declined() -> None:
    program = replayed(recommend(assessed_client()))
    program.withdraw(stamp("2026-01-06"), " entered twice ")
    [event] = program.collect_events()
    assert isinstance(event, ProgramOfCare.ProgramWithdrawn)
    assert (event.reason, program.status) == ("entered twice", "withdrawn")
    with pytest.raises(RuleRefused) as caught:
        program.accept(stamp(), [])
    assert caught.value.rule == "P4"
    with pytest.raises(InvalidInput, match="reason"):
        replayed(recommend(assessed_client())).withdraw(stamp(), "  ")


def test_p4_an_accepted_or_declined_program_cannot_be_withdrawn() -> None:
    declined = recommend(assessed_client())
    declined.decline(stamp(), None)
    for program in (active_program(assessed_client()), replayed(declined)):
        with pytest.raises(RuleRefused) as caught:
            program.withdraw(stamp(), "mistake")
        assert caught.value.rule == "P4"


def test_the_reason_a_client_accepts_is_kept_on_record() -> None:
    program = replayed(recommend(assessed_client()))
    program.accept(stamp(), [], " wants to run again ")
    [event] = program.collect_events()
    assert isinstance(event, ProgramOfCare.ProgramAccepted)
    assert event.reason == "wants to run again"


# -- P5: at most one active program ----------------------------------------------------------

def test_p5_a_second_active_program_is_refused() -> None:
    client = assessed_client()
    first = active_program(client, 1)
    second = replayed(recommend(client, 2))
    with pytest.raises(RuleRefused) as caught:
        second.accept(stamp(), [first, second])
    assert caught.value.rule == "P5"
    assert str(first.id) in caught.value.message
    assert then(second) == []


def test_p5_another_program_can_be_accepted_once_the_first_is_finished() -> None:
    client = assessed_client()
    declined = recommend(client, 1)
    declined.decline(stamp(), None)
    finished = recommend(client, 2)
    finished.accept(stamp(), [])
    finished.discontinue(stamp("2026-01-10"), "moved away")
    third = replayed(recommend(client, 3))
    third.accept(stamp("2026-01-11"), [replayed(declined), replayed(finished), third])
    assert then(third) == ["ProgramAccepted"]
    assert third.status == "active"


@pytest.mark.parametrize("action", ["complete", "discontinue", "reevaluate"])
def test_p5_only_an_active_program_is_completed_discontinued_or_reevaluated(
    action: str,
) -> None:
    program = replayed(recommend(assessed_client()))
    acts = {
        "complete": lambda: program.complete(stamp(), None),
        "discontinue": lambda: program.discontinue(stamp(), None),
        "reevaluate": lambda: program.reevaluate(stamp(), "better", {}, "continue"),
    }
    with pytest.raises(RuleRefused) as caught:
        acts[action]()
    assert caught.value.rule == "P5"
    assert "recommended" in caught.value.message


def test_p5_a_completed_program_cannot_be_completed_again() -> None:
    program = active_program(assessed_client())
    program.complete(stamp("2026-02-01"), "all visits done")
    assert then(program) == ["ProgramCompleted"]
    with pytest.raises(RuleRefused):
        program.complete(stamp("2026-02-02"), None)


# -- re-evaluation outcomes ------------------------------------------------------------------

def test_reevaluation_continue_keeps_the_program_active() -> None:
    program = active_program(assessed_client())
    program.reevaluate(stamp("2026-01-20"), "pain down", {"pain": 3}, "continue")
    [event] = program.collect_events()
    assert isinstance(event, ProgramOfCare.ProgramReevaluated)
    assert (event.findings, event.measures, event.outcome) == ("pain down", {"pain": 3},
                                                               "continue")
    assert program.status == "active"


@pytest.mark.parametrize("outcome", ["new-program", "discharge"])
def test_reevaluation_new_program_or_discharge_completes_it(outcome: str) -> None:
    program = active_program(assessed_client())
    program.reevaluate(stamp("2026-01-20"), "goals met", {}, outcome)
    events = program.collect_events()
    assert [type(e).__name__ for e in events] == ["ProgramReevaluated", "ProgramCompleted"]
    completed = events[1]
    assert isinstance(completed, ProgramOfCare.ProgramCompleted)
    assert completed.reason == outcome
    assert program.status == "completed"


def test_reevaluation_new_program_lets_the_next_program_be_accepted() -> None:
    client = assessed_client()
    first = active_program(client, 1)
    first.reevaluate(stamp("2026-01-20"), "progressing", {}, "new-program")
    second = replayed(recommend(client, 2, on="2026-01-20", phase="corrective"))
    second.accept(stamp("2026-01-20"), [first, second])
    assert then(second) == ["ProgramAccepted"]


@pytest.mark.parametrize(("outcome", "findings", "measures", "field"), [
    ("maybe", "fine", {}, "outcome"),
    ("continue", "  ", {}, "findings"),
    ("continue", "fine", {"pain": 11.0}, "pain"),
])
def test_reevaluation_input_is_checked(
    outcome: str, findings: str, measures: dict[str, float], field: str,
) -> None:
    program = active_program(assessed_client())
    with pytest.raises(InvalidInput, match=field):
        program.reevaluate(stamp(), findings, measures, outcome)
    assert then(program) == []


def test_a_clients_programs_have_derived_ids() -> None:
    client = assessed_client()
    assert recommend(client, 2).id == program_id(client.id, 2)
    assert program_id(client.id, 1) != program_id(client.id, 2)
