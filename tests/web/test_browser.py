"""The front desk in a real browser (headless Chromium, the system's own: nothing is
downloaded), as the clinic uses it. Screenshots of the main pages go to
tests/web/screenshots/ (kept after the run, not committed), for a person to look at.

No browser is a failure, not a skip: `.ci/run` installs the distribution's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from tests.web.conftest import CLIENT_NAME, PASSWORD, Practice

SHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = os.environ.get("PRACTICE_CHROMIUM", "/usr/bin/chromium")


def _chromium() -> str:
    for candidate in (CHROMIUM, "/usr/lib/chromium/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (the browser tests "
                "need it; .ci/run installs it)")


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The browser scenarios run on SQLite (the HTTP tests cover both backends)."""
    return f"sqlite:///{tmp_path / 'practice.db'}"


@pytest.fixture
def server(app: Starlette) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "the front desk did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), headless=True,
                                              args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    assert problems == [], f"the browser's console reported errors: {problems}"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def submit(page: Any, button: Any, double: bool = False) -> None:
    """Press a form's button and wait for the page htmx reloads after it recorded (a second
    press of a double click is dropped by htmx or answered without recording by the server)."""
    with page.expect_navigation():
        if double:
            button.dblclick()
        else:
            button.click()
    page.wait_for_load_state()


def sign_in(page: Any, name: str) -> None:
    page.goto("/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def test_front_desk_books_and_practitioner_completes(page: Any, practice: Practice) -> None:
    shot(page, "01-login")
    sign_in(page, "frontdesk")
    shot(page, "02-schedule-front-desk")
    page.get_by_role("link", name="Worklists").click()
    assert page.get_by_role("link", name=CLIENT_NAME).count() == 1  # due a recall
    # Find her by part of her name, open her card, book the next visit.
    page.get_by_role("link", name="Clients").click()
    page.get_by_label("Find a client").fill("lovel")
    page.keyboard.press("Enter")
    page.get_by_role("link", name=CLIENT_NAME).wait_for()
    shot(page, "02-clients-front-desk")
    page.get_by_role("link", name=CLIENT_NAME).click()
    assert page.locator("svg.chart").count() == 0  # the front desk: no measures
    shot(page, "03-card-front-desk")
    bookings = page.locator("text=scheduled").count()
    page.get_by_label("When").fill(_in_an_hour(practice))
    submit(page, page.get_by_role("button", name="Book", exact=True))
    assert page.locator("td >> text=scheduled").count() == bookings + 1
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "practitioner")
    page.goto(f"/clients/{practice.client_id}")
    points = page.locator("svg.chart circle.point").count()
    row = page.locator("tr", has=page.locator("text=scheduled")).first
    row.get_by_label("Pain 0–10").fill("4")
    submit(page, row.get_by_role("button", name="Complete"))
    assert page.locator("svg.chart circle.point").count() == points + 1
    shot(page, "04-card-practitioner")
    page.get_by_role("link", name="Worklists").click()
    assert page.get_by_role("link", name=CLIENT_NAME).count() == 0
    shot(page, "05-worklists")


def _in_an_hour(practice: Practice) -> str:
    """An hour from now in the practice's time (PRACTICE_TZ is UTC in the tests)."""
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def test_an_auditor_reads_the_history_and_cannot_record(page: Any,
                                                        practice: Practice) -> None:
    sign_in(page, "auditor")
    assert page.get_by_role("button", name="Complete").count() == 0
    page.goto(f"/clients/{practice.client_id}")
    page.get_by_role("link", name="Audit history").click()
    page.get_by_role("button", name="Verify the chain").click()
    assert page.locator("text=IntakeRecorded").count() >= 1
    assert page.get_by_role("status").count() == 1
    shot(page, "06-audit")
    before = practice.events()
    # Even a hand-made form is refused by the server.
    answer = page.request.post(f"/clients/{practice.client_id}/recall",
                               form={"channel": "phone", "csrf_token": "x"})
    assert answer.status == 403
    assert practice.events() == before


def test_a_double_click_records_once(page: Any, practice: Practice) -> None:
    sign_in(page, "frontdesk")
    before = practice.events()
    row = page.locator("tr", has=page.get_by_role("link", name="Ben Okafor"))
    submit(page, row.get_by_role("button", name="Book next"), double=True)
    assert practice.events() == before + 1


def test_reports_and_keyboard_use(page: Any, practice: Practice) -> None:
    sign_in(page, "owner")
    page.goto("/reports/retention")
    assert page.locator("svg.chart").count() == 1
    shot(page, "07-retention")
    page.goto("/reports/referrals")
    shot(page, "08-referrals")
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, upright
    shot(page, "09-schedule-tablet")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820, f"the schedule scrolls sideways on a tablet ({width}px)"
