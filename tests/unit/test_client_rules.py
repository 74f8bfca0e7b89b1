"""Client rules C1–C6 and V1: given events, when an action, then events or the rule's refusal."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from practice_es.domain.client import Client
from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.program import ProgramOfCare
from tests.unit.given import (
    active_program,
    assessed,
    at,
    day,
    intake,
    recommend,
    replayed,
    stamp,
    then,
)


def refused(rule: str, action: object, *args: object, **kwargs: object) -> RuleRefused:
    """Run the action, expecting the rule to refuse it; returns the error for more checks."""
    assert callable(action)
    with pytest.raises(RuleRefused) as caught:
        action(*args, **kwargs)
    assert caught.value.rule == rule
    return caught.value


def walk_in(client: Client, on: str, program: ProgramOfCare | None = None,
            measures: dict[str, float] | None = None) -> None:
    """A visit completed with no booking."""
    client.complete_visit(stamp(on), uuid4(), program, measures or {}, None, booked=False)


def booked(client: Client, when: str, on: str = "2026-01-05") -> UUID:
    visit_id = uuid4()
    client.schedule_visit(stamp(on), visit_id, at(when), None)
    return visit_id


# -- C1: a client exists from IntakeRecorded -------------------------------------------------

def test_c1_a_client_exists_from_its_intake_as_a_prospect() -> None:
    client = replayed(intake(email="ann@example.org", reasons=["neck pain"]))
    assert (client.email, client.reasons, client.status) == (
        "ann@example.org", ["neck pain"], "prospect")
    client = intake(email="ann@example.org")
    events = client.collect_events()
    assert [type(e).__name__ for e in events] == ["IntakeRecorded"]
    rebuilt = events[0].mutate(None)
    assert isinstance(rebuilt, Client)
    assert (rebuilt.version, rebuilt.status, rebuilt.name) == (1, "prospect", "Ann Smith")


@pytest.mark.parametrize("name", ["", "   "])
def test_c1_an_intake_needs_a_name(name: str) -> None:
    with pytest.raises(InvalidInput, match="name"):
        intake(name=name)


def test_c1_an_intake_rejects_a_birth_date_after_the_intake() -> None:
    with pytest.raises(InvalidInput, match="dob"):
        intake(date_of_birth=day("2026-02-01"))


def test_c1_an_intake_rejects_an_unknown_source_kind() -> None:
    with pytest.raises(InvalidInput, match="source"):
        intake(referral_source="billboard")


# -- C2: an open contraindication blocks completing a visit ----------------------------------

def test_c2_a_contraindication_from_intake_blocks_completing_a_visit_and_names_it() -> None:
    client = replayed(intake(contraindications=["Recent fracture"]))
    error = refused("C2", walk_in, client, "2026-01-06")
    assert "Recent fracture" in error.message
    assert then(client) == []


def test_c2_a_contraindication_found_at_assessment_blocks_a_booked_visit() -> None:
    client = intake()
    visit = booked(client, "2026-01-08T10:00")
    assessed(client, contraindications=["DVT"])
    client = replayed(client)
    with pytest.raises(RuleRefused, match="DVT"):
        client.complete_visit(stamp("2026-01-08"), visit, None, {}, None,
                              booked=True)
    assert then(client) == []


def test_c2_a_contraindication_added_to_the_health_history_blocks_a_visit() -> None:
    client = intake()
    client.update_health_history(stamp(), [], [], ["anticoagulants"])
    refused("C2", walk_in, replayed(client), "2026-01-06")


def test_c2_clearing_it_whatever_its_case_allows_the_visit() -> None:
    client = replayed(intake(contraindications=["Recent fracture"]))
    client.clear_contraindication(stamp("2026-01-06"), " recent FRACTURE ", "Dr Jones")
    assert then(client) == ["ContraindicationCleared"]
    walk_in(client, "2026-01-07")
    assert then(client) == ["VisitCompleted"]


def test_c2_one_cleared_of_two_still_blocks_and_names_the_other() -> None:
    client = intake(contraindications=["fracture", "DVT"])
    client.clear_contraindication(stamp(), "fracture", "Dr Jones")
    error = refused("C2", walk_in, replayed(client), "2026-01-06")
    assert "DVT" in error.message
    assert "fracture" not in error.message


def test_c2_clearing_a_contraindication_that_is_not_open_is_refused() -> None:
    client = replayed(intake(contraindications=["fracture"]))
    refused("C2", client.clear_contraindication, stamp(), "DVT", "Dr Jones")
    assert then(client) == []


def test_c2_clearing_needs_to_say_who_cleared_it() -> None:
    client = replayed(intake(contraindications=["fracture"]))
    with pytest.raises(InvalidInput, match="by"):
        client.clear_contraindication(stamp(), "fracture", "  ")


# -- C3: no visit before the intake; a program visit is for an active program ----------------

def test_c3_a_visit_cannot_be_scheduled_before_the_intake_day() -> None:
    client = replayed(intake(on="2026-01-05T15:00"))
    error = refused("C3", client.schedule_visit, stamp(), uuid4(), at("2026-01-04T10:00"), None)
    assert "2026-01-04" in error.message
    client.schedule_visit(stamp(), uuid4(), at("2026-01-05T09:00"), None)  # same day is fine
    assert then(client) == ["VisitScheduled"]


def test_c3_a_visit_cannot_be_completed_or_rescheduled_before_the_intake() -> None:
    client = intake()
    visit = booked(client, "2026-01-09T10:00")
    client = replayed(client)
    refused("C3", walk_in, client, "2026-01-04")
    refused("C3", client.reschedule_visit, stamp(), visit, at("2026-01-01T10:00"))
    assert then(client) == []


def test_c3_an_assessment_or_a_recall_cannot_precede_the_intake() -> None:
    client = replayed(intake())
    refused("C3", client.record_assessment, stamp("2026-01-01"), uuid4(), "x", {}, [])
    refused("C3", client.send_recall, stamp("2026-01-01"), uuid4(), "sms")
    assert then(client) == []


def test_c3_a_program_visit_needs_an_accepted_program() -> None:
    client = intake()
    assessed(client)
    client = replayed(client)
    program = replayed(recommend(client))  # recommended, not accepted
    error = refused("C3", client.schedule_visit, stamp(), uuid4(), at("2026-01-08"), program)
    assert "recommended" in error.message
    refused("C3", walk_in, client, "2026-01-08", program=program)


def test_c3_a_program_visit_cannot_be_for_a_finished_program() -> None:
    client = intake()
    assessed(client)
    client = replayed(client)
    program = active_program(client)
    program.complete(stamp(), "done")
    error = refused("C3", walk_in, client, "2026-01-08", program=program)
    assert "completed" in error.message


def test_c3_a_program_visit_cannot_be_for_another_clients_program() -> None:
    other = intake(name="Bob Brown")
    assessed(other)
    other = replayed(other)
    client = replayed(intake())
    error = refused("C3", walk_in, client, "2026-01-08", program=active_program(other))
    assert str(client.id) in error.message


def test_c3_a_visit_for_an_active_program_records_the_program() -> None:
    client = intake()
    assessed(client)
    client = replayed(client)
    program = active_program(client)
    walk_in(client, "2026-01-08", program=program, measures={"pain": 4})
    [event] = client.collect_events()
    assert isinstance(event, Client.VisitCompleted)
    assert event.program_id == program.id
    assert event.measures == {"pain": 4}


def test_c3_a_booked_program_visit_is_completed_for_its_program() -> None:
    client = intake()
    assessed(client)
    client = replayed(client)
    program = active_program(client)
    visit = uuid4()
    client.schedule_visit(stamp(), visit, at("2026-01-08T10:00"), program)
    assert then(client) == ["VisitScheduled"]
    client.complete_visit(stamp("2026-01-08"), visit, None, {}, "ok", booked=True)
    [event] = client.collect_events()
    assert isinstance(event, Client.VisitCompleted)
    assert (event.visit_id, event.program_id, event.notes) == (visit, program.id, "ok")


# -- C4: lapse, as of a sweep date -----------------------------------------------------------

def client_with_visit_on(visit_day: str) -> Client:
    client = intake()
    walk_in(client, visit_day)
    return replayed(client)


def test_c4_exactly_lapse_after_days_since_the_last_visit_is_not_lapsed() -> None:
    client = client_with_visit_on("2026-01-10")
    assert client.record_lapse(stamp("2026-04-10"), day("2026-04-10"), 90) is False  # 90 days
    assert then(client) == []
    assert client.status == "active"


def test_c4_one_day_more_is_lapsed_and_records_lapsed_once() -> None:
    client = client_with_visit_on("2026-01-10")
    assert client.record_lapse(stamp("2026-04-11"), day("2026-04-11"), 90) is True  # 91 days
    [event] = client.collect_events()
    assert isinstance(event, Client.Lapsed)
    assert (event.as_of, event.after_days, event.last_visit_on) == (
        day("2026-04-11"), 90, day("2026-01-10"))
    assert client.status == "lapsed"
    assert client.record_lapse(stamp("2026-05-01"), day("2026-05-01"), 90) is False
    assert then(client) == []


def test_c4_the_lapse_after_days_is_configurable() -> None:
    client = client_with_visit_on("2026-01-10")
    assert client.record_lapse(stamp("2026-02-09"), day("2026-02-09"), 30) is False
    assert client.record_lapse(stamp("2026-02-10"), day("2026-02-10"), 30) is True


def test_c4_a_visit_scheduled_on_the_sweep_date_prevents_the_lapse() -> None:
    client = intake()
    walk_in(client, "2026-01-10")
    booked(client, "2026-06-01T16:00", on="2026-01-10")
    client = replayed(client)
    assert client.record_lapse(stamp("2026-06-01"), day("2026-06-01"), 90) is False
    assert then(client) == []


def test_c4_a_visit_scheduled_after_the_sweep_date_prevents_the_lapse() -> None:
    client = intake()
    walk_in(client, "2026-01-10")
    booked(client, "2026-07-15T10:00", on="2026-01-10")
    assert replayed(client).record_lapse(stamp("2026-06-01"), day("2026-06-01"), 90) is False


def test_c4_a_visit_scheduled_before_the_sweep_date_does_not_prevent_it() -> None:
    client = intake()
    walk_in(client, "2026-01-10")
    booked(client, "2026-05-31T10:00", on="2026-01-10")  # booked, never completed
    assert replayed(client).record_lapse(stamp("2026-06-01"), day("2026-06-01"), 90) is True


def test_c4_a_cancelled_future_visit_does_not_prevent_it() -> None:
    client = intake()
    walk_in(client, "2026-01-10")
    visit = booked(client, "2026-07-15T10:00", on="2026-01-10")
    client.cancel_visit(stamp("2026-01-11"), visit, "moved away")
    assert replayed(client).record_lapse(stamp("2026-06-01"), day("2026-06-01"), 90) is True


def test_c4_a_prospect_with_no_visit_lapses_after_days_after_the_intake() -> None:
    client = replayed(intake(on="2026-01-05"))
    assert client.record_lapse(stamp("2026-04-05"), day("2026-04-05"), 90) is False  # 90 days
    assert client.record_lapse(stamp("2026-04-06"), day("2026-04-06"), 90) is True
    [event] = client.collect_events()
    assert isinstance(event, Client.Lapsed)
    assert event.last_visit_on is None


def test_c4_the_latest_visit_counts_even_when_recorded_out_of_order() -> None:
    client = intake()
    walk_in(client, "2026-03-01")
    walk_in(client, "2026-01-10")  # recorded late, happened earlier
    client = replayed(client)
    assert client.record_lapse(stamp("2026-05-30"), day("2026-05-30"), 90) is False


def test_c4_after_a_reactivation_the_client_can_lapse_again_once() -> None:
    client = client_with_visit_on("2026-01-10")
    client.record_lapse(stamp("2026-05-01"), day("2026-05-01"), 90)
    walk_in(client, "2026-05-10")
    assert then(client) == ["Lapsed", "VisitCompleted", "Reactivated"]
    assert client.record_lapse(stamp("2026-09-01"), day("2026-09-01"), 90) is True
    assert client.record_lapse(stamp("2026-09-02"), day("2026-09-02"), 90) is False
    assert then(client) == ["Lapsed"]


# -- C5: the first visit after a lapse reactivates -------------------------------------------

def lapsed_client() -> Client:
    client = intake()
    walk_in(client, "2026-01-10")
    client.record_lapse(stamp("2026-05-01"), day("2026-05-01"), 90)
    return client


def test_c5_the_first_visit_after_a_lapse_records_reactivated_with_it() -> None:
    client = replayed(lapsed_client())
    assert client.lapsed_on == day("2026-05-01")
    walk_in(client, "2026-05-20")
    events = client.collect_events()
    assert [type(e).__name__ for e in events] == ["VisitCompleted", "Reactivated"]
    completed, reactivated = events
    assert isinstance(reactivated, Client.Reactivated)
    assert isinstance(completed, Client.VisitCompleted)
    assert reactivated.visit_id == completed.visit_id
    assert reactivated.lapsed_on == day("2026-05-01")
    assert reactivated.recall_id is None  # no recall was sent
    assert client.status == "active"


def test_c5_the_reactivation_names_the_recall_sent_after_the_lapse() -> None:
    client = lapsed_client()
    recall = uuid4()
    client.send_recall(stamp("2026-05-05"), recall, "sms")
    client = replayed(client)
    walk_in(client, "2026-05-20")
    reactivated = client.collect_events()[-1]
    assert isinstance(reactivated, Client.Reactivated)
    assert reactivated.recall_id == recall


def test_c5_the_latest_recall_since_the_lapse_is_the_one_named() -> None:
    client = lapsed_client()
    first, second = uuid4(), uuid4()
    client.send_recall(stamp("2026-05-05"), first, "letter")
    client.send_recall(stamp("2026-05-12"), second, "phone")
    client = replayed(client)
    walk_in(client, "2026-05-20")
    assert client.collect_events()[-1].recall_id == second  # type: ignore[attr-defined]


def test_c5_a_recall_sent_before_the_lapse_is_not_named() -> None:
    client = intake()
    walk_in(client, "2026-01-10")
    client.send_recall(stamp("2026-03-01"), uuid4(), "email")
    client.record_lapse(stamp("2026-05-01"), day("2026-05-01"), 90)
    client = replayed(client)
    walk_in(client, "2026-05-20")
    reactivated = client.collect_events()[-1]
    assert isinstance(reactivated, Client.Reactivated)
    assert reactivated.recall_id is None


def test_c5_only_the_first_visit_after_the_lapse_reactivates() -> None:
    client = lapsed_client()
    walk_in(client, "2026-05-20")
    client = replayed(client)
    walk_in(client, "2026-05-27")
    assert then(client) == ["VisitCompleted"]


def test_c5_a_booked_visit_after_the_lapse_also_reactivates() -> None:
    client = lapsed_client()
    visit = booked(client, "2026-05-20T10:00", on="2026-05-02")
    client = replayed(client)
    client.complete_visit(stamp("2026-05-20"), visit, None, {}, None,
                          booked=True)
    assert then(client) == ["VisitCompleted", "Reactivated"]


def test_c5_a_prospect_lapsed_without_any_visit_is_reactivated_by_its_first() -> None:
    client = intake()
    client.record_lapse(stamp("2026-06-01"), day("2026-06-01"), 90)
    client = replayed(client)
    walk_in(client, "2026-06-10")
    assert then(client) == ["VisitCompleted", "Reactivated"]


# -- C6 and status: visits outside any program are normal ------------------------------------

def test_c6_a_visit_outside_any_program_counts_and_makes_the_client_active() -> None:
    client = replayed(intake())
    assert client.status == "prospect"
    walk_in(client, "2026-01-06")
    [event] = client.collect_events()
    assert isinstance(event, Client.VisitCompleted)
    assert event.program_id is None
    assert (client.status, client.completed_visits) == ("active", 1)


def test_status_is_what_was_recorded_not_a_guess_from_today() -> None:
    client = intake(on="2019-12-01")
    walk_in(client, "2020-01-10")  # years ago, but no sweep has recorded a lapse
    assert replayed(client).status == "active"


# -- V1: only a scheduled visit can be rescheduled, cancelled, missed or completed -----------

@pytest.mark.parametrize("close", ["cancel", "miss", "complete"])
def test_v1_a_closed_visit_cannot_be_changed_again(close: str) -> None:
    client = intake()
    visit = booked(client, "2026-01-08T10:00")
    closing = {
        "cancel": lambda c: c.cancel_visit(stamp("2026-01-07"), visit, "ill"),
        "miss": lambda c: c.miss_visit(stamp("2026-01-08"), visit, None),
        "complete": lambda c: c.complete_visit(stamp("2026-01-08"), visit, None, {}, None,
                                               booked=True),
    }
    closing[close](client)
    client = replayed(client)
    refused("V1", client.reschedule_visit, stamp(), visit, at("2026-01-09T10:00"))
    refused("V1", client.cancel_visit, stamp(), visit, None)
    refused("V1", client.miss_visit, stamp(), visit, None)
    refused("V1", client.complete_visit, stamp("2026-01-09"), visit, None, {}, None, booked=True)
    assert then(client) == []


def test_v1_a_scheduled_visit_can_be_rescheduled_then_missed() -> None:
    client = intake()
    visit = booked(client, "2026-01-08T10:00")
    client = replayed(client)
    client.reschedule_visit(stamp("2026-01-06"), visit, at("2026-01-09T11:00"))
    client.miss_visit(stamp("2026-01-09"), visit, "forgot")
    assert then(client) == ["VisitRescheduled", "VisitMissed"]
    assert client.scheduled == {}


def test_an_unknown_visit_id_is_invalid_input_not_a_rule() -> None:
    client = replayed(intake())
    with pytest.raises(InvalidInput, match="visit"):
        client.cancel_visit(stamp(), uuid4(), None)


def test_a_recall_goes_by_a_known_channel() -> None:
    client = replayed(intake())
    with pytest.raises(InvalidInput, match="channel"):
        client.send_recall(stamp(), uuid4(), "pigeon")
    client.send_recall(stamp(), uuid4(), "letter")
    assert then(client) == ["RecallSent"]


def test_a_contact_update_needs_something_to_update() -> None:
    client = replayed(intake())
    with pytest.raises(InvalidInput):
        client.update_contact(stamp(), None, None, None)
    with pytest.raises(InvalidInput, match="email"):
        client.update_contact(stamp(), None, "not-an-address", None)
    client.update_contact(stamp(), None, "ann@example.org", "555-0101")
    assert then(client) == ["ContactUpdated"]
    assert (client.name, client.email, client.phone) == ("Ann Smith", "ann@example.org",
                                                         "555-0101")
