"""Recording from the front desk: refusals shown beside the form, a form sent twice records
once, a concurrent change asks to try again."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from practice_es.domain.errors import ConcurrentChange
from tests.web.conftest import Practice, sign_in, soon

HTMX = {"HX-Request": "true"}


def test_a_rule_refusal_is_shown_beside_the_form_and_records_nothing(
        web: TestClient, practice: Practice) -> None:
    csrf = sign_in(web, "practitioner")
    before = practice.events()
    answer = web.post(f"/visits/{practice.visit_id}/complete", headers=HTMX,
                      data={"client_id": str(practice.booked), "csrf_token": csrf,
                            "pain": "11"})
    assert answer.status_code == 200
    assert 'class="refusal" role="alert"' in answer.text and "pain" in answer.text
    assert practice.events() == before


def test_closing_a_visit_twice_is_refused_by_the_rule(web: TestClient,
                                                      practice: Practice) -> None:
    csrf = sign_in(web, "front-desk")
    data = {"client_id": str(practice.booked), "csrf_token": csrf}
    assert web.post(f"/visits/{practice.visit_id}/cancel", data=data).status_code == 303
    before = practice.events()
    again = web.post(f"/visits/{practice.visit_id}/no-show", data=data, headers=HTMX)
    assert "Refused by rule" in again.text
    assert practice.events() == before


def test_without_htmx_a_refusal_is_a_page_that_says_why(web: TestClient,
                                                        practice: Practice) -> None:
    csrf = sign_in(web, "front-desk")
    answer = web.post(f"/clients/{practice.client_id}/book",
                      data={"at": "not a time", "csrf_token": csrf})
    assert answer.status_code == 422
    assert "at: not a date and time" in answer.text


def test_a_form_sent_twice_records_once(web: TestClient, practice: Practice) -> None:
    csrf = sign_in(web, "front-desk")
    data = {"at": soon(), "csrf_token": csrf, "form_id": "form-1"}
    before = practice.events()
    first = web.post(f"/clients/{practice.client_id}/book", data=data)
    second = web.post(f"/clients/{practice.client_id}/book", data=data)
    assert first.status_code == second.status_code == 303
    assert practice.events() == before + 1


def test_a_concurrent_change_asks_to_try_again(web: TestClient, app: Starlette,
                                               practice: Practice,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    csrf = sign_in(web, "front-desk")

    def conflict(*args: object, **kwargs: object) -> None:
        raise ConcurrentChange("someone else changed the same record")

    monkeypatch.setattr(app.state.desk.ledger, "cancel_visit", conflict)
    answer = web.post(f"/visits/{practice.visit_id}/cancel", headers=HTMX,
                      data={"client_id": str(practice.booked), "csrf_token": csrf})
    assert "Try again" in answer.text


def test_after_an_action_htmx_reloads_the_page(web: TestClient, practice: Practice) -> None:
    csrf = sign_in(web, "front-desk")
    answer = web.post(f"/clients/{practice.client_id}/recall", headers=HTMX,
                      data={"channel": "sms", "csrf_token": csrf})
    assert answer.status_code == 204 and answer.headers["HX-Refresh"] == "true"


def test_back_never_leads_off_the_site(web: TestClient, practice: Practice) -> None:
    csrf = sign_in(web, "front-desk")
    answer = web.post(f"/clients/{practice.client_id}/recall",
                      data={"channel": "sms", "csrf_token": csrf,
                            "back": "//evil.example/"})
    assert answer.headers["location"] == "/"


def test_an_intake_opens_the_new_clients_card(web: TestClient, practice: Practice) -> None:
    csrf = sign_in(web, "front-desk")
    answer = web.post("/clients", headers=HTMX,
                      data={"name": "Cy Young", "date_of_birth": "1990-02-03",
                            "source": "walk-in", "csrf_token": csrf, "form_id": "intake-1"})
    card = answer.headers["HX-Redirect"]
    assert card.startswith("/clients/") and "Cy" not in card
    assert "Cy Young" in web.get(card).text
    again = web.post("/clients", headers=HTMX,
                     data={"name": "Cy Young", "csrf_token": csrf, "form_id": "intake-1"})
    assert again.headers["HX-Redirect"] == card  # sent twice: one client


def test_an_intake_of_a_client_on_record_is_refused_by_d1(web: TestClient,
                                                           practice: Practice) -> None:
    csrf = sign_in(web, "front-desk")
    before = practice.events()
    answer = web.post("/clients", headers=HTMX,
                      data={"name": "Ada Twin", "email": "ada@example.org",
                            "csrf_token": csrf, "form_id": "intake-d1"})
    assert "D1" in answer.text and "HX-Redirect" not in answer.headers
    assert practice.events() == before


def test_a_contact_change_records_only_what_changed(web: TestClient,
                                                    practice: Practice) -> None:
    csrf = sign_in(web, "front-desk")
    path = f"/clients/{practice.client_id}/contact"
    unchanged = {"name": "Ada Lovelace", "was_name": "Ada Lovelace", "csrf_token": csrf}
    before = practice.events()
    assert "nothing was changed" in web.post(path, data=unchanged, headers=HTMX).text
    assert practice.events() == before
    web.post(path, data={**unchanged, "phone": "555-0999", "was_phone": "555-0101"})
    assert practice.events() == before + 1
    assert "555-0999" in web.get(f"/clients/{practice.client_id}").text


def test_a_referral_received_at_the_desk_shows_in_the_referrals_report(
        web: TestClient, practice: Practice) -> None:
    desk = sign_in(web, "front-desk")
    assert 'action="/referrals"' in web.get("/clients").text
    before = practice.events()
    empty = web.post("/referrals", headers=HTMX, data={"source": "doctor", "referrer": "dr b",
                                                       "csrf_token": desk})
    assert "prospect" in empty.text and practice.events() == before
    web.post("/referrals", data={"source": "doctor", "referrer": "Dr Bell",
                                 "prospect": "Di Evans", "csrf_token": desk})
    assert practice.events() == before + 1
    web.post("/logout", data={"csrf_token": desk})
    sign_in(web, "owner")
    report = web.get("/reports/referrals").text
    assert "dr bell" in report.lower()
