"""What a browser hides: redirects, CSRF, headers, sessions, sign-in failures, the access log."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from practice_es.infrastructure import users
from tests.web.conftest import (
    CLIENT_NAME,
    HEALTH_TEXT,
    PASSWORD,
    Practice,
    csrf_of,
    sign_in,
)

PAGES = ("/", "/clients?q=ada", "/worklists", "/reports/retention", "/reports/referrals")


@pytest.mark.parametrize("path", [*PAGES, "/clients/{client}", "/audit/{client}"])
def test_a_page_without_sign_in_sends_to_the_login(web: TestClient, practice: Practice,
                                                    path: str) -> None:
    answer = web.get(path.format(client=practice.client_id))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def test_health_needs_no_sign_in_and_says_nothing_else(web: TestClient) -> None:
    answer = web.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_an_action_without_sign_in_records_nothing(web: TestClient, practice: Practice) -> None:
    before = practice.events()
    answer = web.post(f"/clients/{practice.client_id}/book", data={"at": "2030-01-01T10:00"})
    assert answer.status_code == 303
    assert practice.events() == before


def test_a_post_without_a_csrf_token_is_403_and_records_nothing(
        web: TestClient, practice: Practice) -> None:
    sign_in(web, "owner")
    before = practice.events()
    for token in ({}, {"csrf_token": "forged"}):
        answer = web.post(f"/visits/{practice.visit_id}/cancel",
                          data={"client_id": str(practice.booked), **token})
        assert answer.status_code == 403
    assert practice.events() == before


def test_the_sign_in_form_has_its_own_csrf_token(web: TestClient) -> None:
    answer = web.post("/login", data={"username": "owner", "password": PASSWORD})
    assert answer.status_code == 403
    assert "practice_session" not in web.cookies


def test_security_headers_on_every_page(web: TestClient, practice: Practice) -> None:
    sign_in(web, "owner")
    for path in (*PAGES, f"/clients/{practice.client_id}", "/login", "/health"):
        headers = web.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"


def test_pages_have_no_inline_script(web: TestClient, practice: Practice) -> None:
    sign_in(web, "owner")
    for path in (*PAGES, f"/clients/{practice.client_id}", f"/audit/{practice.client_id}"):
        html = web.get(path).text
        assert "<script>" not in html and " on" + "click=" not in html
        assert html.count("<script") == html.count('<script src="/static/')


def test_the_session_cookie_is_httponly_and_strict(web: TestClient) -> None:
    page = web.get("/login")
    answer = web.post("/login", data={"username": "owner", "password": PASSWORD,
                                      "csrf_token": csrf_of(page.text)})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # plain http here; over TLS it is Secure


def test_the_session_cookie_is_secure_over_tls(app: object) -> None:
    with TestClient(app, base_url="https://testserver",  # type: ignore[arg-type]
                    follow_redirects=False) as web:
        page = web.get("/login")
        answer = web.post("/login", data={"username": "owner", "password": PASSWORD,
                                          "csrf_token": csrf_of(page.text)})
        assert "secure" in answer.headers["set-cookie"].lower()
        assert "strict-transport-security" in answer.headers


def test_a_session_ends_after_30_minutes_idle(web: TestClient, practice: Practice) -> None:
    sign_in(web, "owner")
    practice.clock.advance(minutes=29)
    assert web.get("/").status_code == 200
    practice.clock.advance(minutes=29)  # 29 minutes since the last page: still in
    assert web.get("/").status_code == 200
    practice.clock.advance(minutes=31)
    assert web.get("/").headers.get("location") == "/login"


def test_sign_out_ends_the_session_at_once(web: TestClient) -> None:
    csrf = sign_in(web, "owner")
    cookie = web.cookies["practice_session"]
    assert web.post("/logout", data={"csrf_token": csrf}).status_code == 303
    web.cookies.set("practice_session", cookie)  # a copy kept of the old cookie
    assert web.get("/").headers.get("location") == "/login"


def test_failed_sign_ins_are_slowed_then_locked(web: TestClient, practice: Practice) -> None:
    answers = []

    def attempt(password: str) -> int:
        page = web.get("/login")
        answers.append(web.post("/login", data={"username": "owner", "password": password,
                                                "csrf_token": csrf_of(page.text)}))
        return answers[-1].status_code

    for _ in range(users.SLOW_AFTER - 1):
        assert attempt("wrong password") == 401
    assert practice.pauses == []
    assert attempt("wrong password") == 401
    assert practice.pauses == [1.0]
    for _ in range(users.LOCK_AFTER - users.SLOW_AFTER):
        attempt("wrong password")
    assert practice.pauses[-1] > 1.0
    assert attempt(PASSWORD) == 401  # locked: even the right password
    assert "locked" in answers[-1].text
    practice.clock.advance(minutes=16)
    assert attempt(PASSWORD) == 303


def test_a_disabled_user_is_signed_out(web: TestClient, practice: Practice) -> None:
    from practice_es.infrastructure.store import parse_store_url

    sign_in(web, "practitioner")
    book = users.UserBook(parse_store_url(practice.db_url))
    book.disable("practitioner")
    book.close()
    assert web.get("/").headers.get("location") == "/login"


def test_no_name_or_health_text_in_links_or_log_lines(
        web: TestClient, practice: Practice, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="practice.web.access")
    csrf = sign_in(web, "owner")
    pages = [web.get(path) for path in (*PAGES, f"/clients/{practice.client_id}",
                                        f"/audit/{practice.client_id}", "/clients?q=Lovelace")]
    web.post(f"/visits/{practice.visit_id}/complete",
             data={"client_id": str(practice.booked), "csrf_token": csrf, "pain": "4",
                   "notes": HEALTH_TEXT})
    import re

    for page in pages:
        for link in re.findall(r'(?:href|action|hx-post|src)="([^"]*)"', page.text):
            link = _outside_ids(link)  # (a random id may hold the letters "ada")
            assert "ada" not in link and "lovelace" not in link
            assert "sciatica" not in link
    log = _outside_ids(caplog.text)
    assert "get /clients " in log  # the search was logged, without what was searched
    assert "lovelace" not in log and "ada" not in log and "sciatica" not in log
    assert "?" not in log
    assert CLIENT_NAME in pages[1].text  # (the search did find her)


def _outside_ids(text: str) -> str:
    """The text in lower case with every UUID taken out."""
    import re

    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "",
                  text.lower())


def test_an_internal_error_logs_its_type_and_no_personal_text(
        web: TestClient, practice: Practice, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from practice_es.web import readings

    def broken(*args: object) -> None:
        raise ValueError(f"a bug that quotes {CLIENT_NAME}")

    sign_in(web, "owner")
    monkeypatch.delenv("PRACTICE_DEBUG", raising=False)
    monkeypatch.setattr(readings, "find", broken)
    caplog.set_level(logging.INFO)
    answer = web.get("/clients?q=ada")
    assert answer.status_code == 500 and "ValueError" in answer.text
    assert "ValueError" in caplog.text and CLIENT_NAME not in caplog.text
    assert CLIENT_NAME not in answer.text


@pytest.mark.parametrize(("path", "status", "words"), [
    ("/clients/123", 404, "no such client"),
    ("/clients/00000000-0000-0000-0000-000000000000", 404, "no such client"),
    ("/audit/00000000-0000-0000-0000-000000000000", 404, "no such client"),
    ("/?day=2026-13-01", 400, "day: not a date"),
    ("/audit/{client}?as_of=yesterday", 400, "as_of: not a date and time"),
    ("/reports/referrals?from=soon", 400, "from: not a date"),
    ("/reports/retention?from=2026-05-01&to=2026-01-01", 400, "before"),
])
def test_odd_addresses_answer_what_is_wrong(web: TestClient, practice: Practice, path: str,
                                            status: int, words: str) -> None:
    sign_in(web, "owner")
    answer = web.get(path.format(client=practice.client_id))
    assert answer.status_code == status
    assert words in answer.text


def test_pages_draw_without_matplotlib() -> None:
    """The pages' charts are SVG written by hand: answering every page loads no matplotlib
    (a second of start-up the CLI pays only when asked for a chart file)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import practice_es.web.app, practice_es.web.pages\n"
        "from practice_es.reports import retention, referrals, worklists, timeline, charts\n"
        "from practice_es.audit import api\n"
        "print(sorted(m for m in ('matplotlib', 'numpy') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
