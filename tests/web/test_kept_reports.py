"""The report pages' reports kept by the front desk (ADR 34): built once as the server starts,
then brought up to date by what is recorded, never shown stale."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from practice_es.web.kept_reports import warm_up
from tests.web.conftest import Practice, sign_in


def test_the_warm_up_builds_the_pages_reports_and_the_pages_use_them(
        app: Starlette, web: TestClient) -> None:
    desk = app.state.desk
    warm_up(desk, days=1).join(timeout=60)
    built = {key[0]: keeper for key, (keeper, _, _) in desk.kept.items()}
    assert sorted(built) == ["referrals", "retention", "worklists"]
    sign_in(web, "owner")
    for path in ("/worklists", "/reports/retention", "/reports/referrals"):
        assert web.get(path).status_code == 200
    again = {key[0]: keeper for key, (keeper, _, _) in desk.kept.items()}
    assert all(again[name] is built[name] for name in built)  # none built afresh


def test_a_kept_report_page_shows_what_was_just_recorded(web: TestClient,
                                                         practice: Practice) -> None:
    csrf = sign_in(web, "owner")
    before = web.get("/reports/referrals").text
    assert "dr quill" not in before.lower()
    web.post("/referrals", data={"source": "doctor", "referrer": "Dr Quill",
                                 "prospect": "Flo Grant", "csrf_token": csrf})
    assert "dr quill" in web.get("/reports/referrals").text.lower()


def test_the_warm_up_builds_the_days_worklists_and_stops_with_the_server(app: Starlette) -> None:
    desk = app.state.desk
    thread = warm_up(desk)  # builds today's worklists, then waits for tomorrow
    desk.closing.set()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert ("worklists", desk.now().date()) in desk.kept
