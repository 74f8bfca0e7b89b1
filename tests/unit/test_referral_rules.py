"""Referrals, R1–R3: given events, when an action, then events or the rule's refusal."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.keys import normalise_key, outbound_referral_id
from practice_es.domain.referral import Referral
from tests.unit.given import intake, replayed, stamp, then


def received(referrer: str = "Dr Jones", kind: str = "doctor") -> Referral:
    return replayed(Referral.receive(stamp(), uuid4(), kind, referrer, "Ann Smith"))


def made_out(reason: str = "suspected fracture",
             contraindications: tuple[str, ...] = ("Suspected fracture",)) -> Referral:
    client = replayed(intake(contraindications=list(contraindications)))
    ident = outbound_referral_id(client.id, 1)
    return replayed(Referral.make(stamp(), ident, 1, client, "Dr Jones", reason))


def refused(rule: str, action: object, *args: object) -> RuleRefused:
    assert callable(action)
    with pytest.raises(RuleRefused) as caught:
        action(*args)
    assert caught.value.rule == rule
    return caught.value


# -- R1: an inbound referral converts once, into the client of an intake ---------------------

def test_r1_an_inbound_referral_converts_into_the_client() -> None:
    referral = received()
    client = intake(referral_id=referral.id, referral_source="doctor", referrer="dr jones")
    referral.convert(stamp(), client.id)
    [event] = referral.collect_events()
    assert isinstance(event, Referral.ReferralConverted)
    assert event.client_id == client.id
    [recorded] = client.collect_events()
    assert recorded.referral_id == referral.id  # type: ignore[attr-defined]


def test_r1_converting_twice_is_refused() -> None:
    referral = Referral.receive(stamp(), uuid4(), "client", "Bob Brown", "Ann Smith")
    referral.convert(stamp(), uuid4())
    referral = replayed(referral)
    error = refused("R1", referral.convert, stamp(), uuid4())
    assert "already converted" in error.message
    assert then(referral) == []


def test_r1_a_referral_made_out_cannot_be_converted() -> None:
    refused("R1", made_out().convert, stamp(), uuid4())


# -- R2: one referrer is one key -------------------------------------------------------------

def test_r2_dr_jones_however_typed_is_one_key() -> None:
    assert normalise_key(" Dr  Jones ") == normalise_key("dr jones") == "dr jones"
    assert received(" Dr  Jones ").referrer == received("dr jones").referrer


def test_r2_the_provider_referred_to_and_the_intakes_referrer_are_normalised() -> None:
    assert made_out().provider == "dr jones"
    client = intake(referral_source="doctor", referrer="  DR   Jones")
    assert client.referrer == "dr jones"


@given(st.text(max_size=30),
       st.sampled_from(["", " ", "  ", "\t", "\n "]))
def test_r2_a_key_ignores_case_and_surrounding_space(text: str, pad: str) -> None:
    key = normalise_key(text)
    assert normalise_key(pad + text.upper() + pad) == normalise_key(text.upper())
    assert normalise_key(key) == key  # normalising twice changes nothing
    assert key == key.strip()


# -- receiving ------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "referrer", "prospect", "field"), [
    ("billboard", "x", "Ann", "source"),
    ("doctor", "  ", "Ann", "referrer"),
    ("doctor", "Dr Jones", " ", "prospect"),
])
def test_a_received_referral_names_a_known_source_a_referrer_and_a_prospect(
    kind: str, referrer: str, prospect: str, field: str,
) -> None:
    with pytest.raises(InvalidInput, match=field):
        Referral.receive(stamp(), uuid4(), kind, referrer, prospect)


# -- R3: an outcome is recorded once, on a referral made out ---------------------------------

def test_r3_a_cleared_outcome_names_the_contraindication_it_clears() -> None:
    referral = made_out()
    assert referral.contraindications == ["Suspected fracture"]
    assert referral.record_outcome(stamp(), True, "x-ray clear") == ["Suspected fracture"]
    [event] = referral.collect_events()
    assert isinstance(event, Referral.ReferralOutcomeRecorded)
    assert (event.cleared, event.note) == (True, "x-ray clear")


def test_r3_a_not_cleared_outcome_clears_nothing() -> None:
    referral = made_out()
    assert referral.record_outcome(stamp(), False, None) == []
    assert then(referral) == ["ReferralOutcomeRecorded"]


def test_r3_a_reason_that_is_no_open_contraindication_links_none() -> None:
    referral = made_out(reason="second opinion")
    assert referral.contraindications == []


def test_r3_an_outcome_is_recorded_only_once() -> None:
    referral = made_out()
    referral.record_outcome(stamp(), False, None)
    assert then(referral) == ["ReferralOutcomeRecorded"]
    refused("R3", referral.record_outcome, stamp(), True, None)
    assert then(referral) == []


def test_r3_an_inbound_referral_has_no_outcome() -> None:
    referral = received()
    refused("R3", referral.record_outcome, stamp(), True, None)
    assert then(referral) == []


def test_a_care_report_goes_back_to_the_doctor_who_referred_the_client() -> None:
    referral = Referral.receive(stamp(), uuid4(), "doctor", "Dr Jones", "Ann Smith")
    referral.convert(stamp(), uuid4())
    referral = replayed(referral)
    referral.send_care_report(stamp("2026-02-01"), "pain down to 3")
    assert then(referral) == ["CareReportSent"]
    assert referral.care_reports_sent == 1


def test_r3_no_care_report_back_before_the_client_came_in_nor_to_a_campaign() -> None:
    error = refused("R3", received().send_care_report, stamp(), "progressing well")
    assert "has not come in" in error.message
    flyer = Referral.receive(stamp(), uuid4(), "advertising", "flyer", "Ann Smith")
    flyer.convert(stamp(), uuid4())
    flyer = replayed(flyer)
    error = refused("R3", flyer.send_care_report, stamp(), "progressing well")
    assert "not a provider" in error.message
    assert then(flyer) == []


def test_a_care_report_goes_to_the_provider_of_a_referral_made_out() -> None:
    referral = made_out()
    referral.send_care_report(stamp(), " pain down to 3 ")
    referral.send_care_report(stamp("2026-02-01"), "discharged")
    events = referral.collect_events()
    assert [type(e).__name__ for e in events] == ["CareReportSent", "CareReportSent"]
    assert events[0].summary == "pain down to 3"  # type: ignore[attr-defined]
    assert referral.care_reports_sent == 2
    with pytest.raises(InvalidInput, match="summary"):
        referral.send_care_report(stamp(), "  ")


@pytest.mark.parametrize(("provider", "reason", "field"),
                         [(" ", "x", "to"), ("Dr J", " ", "reason")])
def test_a_referral_out_names_a_provider_and_a_reason(provider: str, reason: str,
                                                      field: str) -> None:
    client = replayed(intake())
    with pytest.raises(InvalidInput, match=field):
        Referral.make(stamp(), uuid4(), 1, client, provider, reason)
