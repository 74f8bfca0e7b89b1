"""Each role on each page and each action (SPEC §10): allowed ones answer and record as the
signed-in user; refused ones are 403 and record nothing. The front desk sees no clinical text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from practice_es.web import roles
from tests.web.conftest import HEALTH_TEXT, ROLES, Practice, sign_in, soon


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The matrix of roles is the web layer's own logic: SQLite only (test_http and
    test_actions run on both backends)."""
    return f"sqlite:///{tmp_path / 'practice.db'}"


PAGE_PATHS = {
    "schedule": "/", "clients": "/clients?q=ada", "client": "/clients/{client}",
    "worklists": "/worklists", "retention": "/reports/retention",
    "referrals": "/reports/referrals", "audit": "/audit/{client}",
}
Form = Callable[[Practice], tuple[str, dict[str, str]]]
ACTIONS: dict[str, tuple[str, Form]] = {
    "book": ("book", lambda p: (f"/clients/{p.client_id}/book", {"at": soon()})),
    "complete": ("complete", lambda p: (f"/visits/{p.visit_id}/complete",
                                        {"client_id": str(p.booked)})),
    "complete with pain": ("measure", lambda p: (f"/visits/{p.visit_id}/complete",
                                                 {"client_id": str(p.booked), "pain": "4"})),
    "complete with notes": ("measure", lambda p: (f"/visits/{p.visit_id}/complete",
                                                  {"client_id": str(p.booked),
                                                   "notes": "tight hamstrings"})),
    "cancel": ("cancel", lambda p: (f"/visits/{p.visit_id}/cancel",
                                    {"client_id": str(p.booked)})),
    "no-show": ("no-show", lambda p: (f"/visits/{p.visit_id}/no-show",
                                      {"client_id": str(p.booked)})),
    "recall": ("recall", lambda p: (f"/clients/{p.client_id}/recall", {"channel": "phone"})),
    "intake": ("intake", lambda p: ("/clients", {"name": "Cy Young", "phone": "555-0199"})),
    "referral": ("referral", lambda p: ("/referrals", {"source": "doctor", "referrer": "dr b",
                                                       "prospect": "Di Evans"})),
    "contact": ("contact", lambda p: (f"/clients/{p.client_id}/contact",
                                      {"phone": "555-0999", "was_phone": "555-0101"})),
    "assess": ("assess", lambda p: (f"/clients/{p.client_id}/assess",
                                    {"findings": "tight hamstrings", "pain": "5"})),
}


@pytest.mark.parametrize("page", sorted(PAGE_PATHS))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_on_each_page(web: TestClient, practice: Practice, role: str,
                                page: str) -> None:
    sign_in(web, role)
    answer = web.get(PAGE_PATHS[page].format(client=practice.client_id))
    assert answer.status_code == (200 if roles.may_see(role, page) else 403)


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_on_each_action(web: TestClient, practice: Practice, role: str,
                                  action: str) -> None:
    csrf = sign_in(web, role)
    permission, form = ACTIONS[action]
    path, data = form(practice)
    before = practice.events()
    answer = web.post(path, data={**data, "csrf_token": csrf, "back": "/"})
    if roles.may_do(role, permission):
        assert answer.status_code == 303, answer.text
        assert practice.events() > before
    else:
        assert answer.status_code == 403
        assert practice.events() == before


def test_what_is_recorded_names_the_signed_in_user(web: TestClient,
                                                   practice: Practice) -> None:
    csrf = sign_in(web, "front-desk")
    web.post(f"/visits/{practice.visit_id}/cancel",
             data={"client_id": str(practice.booked), "csrf_token": csrf})
    web.cookies.clear()
    sign_in(web, "auditor")
    history = web.get(f"/audit/{practice.booked}").text
    row = history[history.index("VisitCancelled") - 400:history.index("VisitCancelled")]
    assert "<td>frontdesk</td>" in row


def test_the_front_desk_sees_no_clinical_text(web: TestClient, practice: Practice) -> None:
    sign_in(web, "front-desk")
    card = web.get(f"/clients/{practice.client_id}").text
    assert "Ada Lovelace" in card and "555-0101" in card
    assert HEALTH_TEXT not in card
    assert "pain" not in card.lower() and "Timeline" not in card
    schedule = web.get("/").text
    assert 'name="pain"' not in schedule and 'name="notes"' not in schedule


@pytest.mark.parametrize("role", ["practitioner", "owner", "auditor"])
def test_clinical_roles_see_the_findings_and_the_chart(web: TestClient, practice: Practice,
                                                       role: str) -> None:
    sign_in(web, role)
    card = web.get(f"/clients/{practice.client_id}").text
    assert HEALTH_TEXT in card
    assert card.count('class="point"') == 2  # pain 7 at the assessment, 6 at the visit


def test_the_auditor_is_offered_no_form_that_records(web: TestClient,
                                                     practice: Practice) -> None:
    sign_in(web, "auditor")
    for path in ("/", f"/clients/{practice.client_id}", "/worklists"):
        assert 'method="post" action="/visits' not in web.get(path).text
        assert "/book" not in web.get(path).text
