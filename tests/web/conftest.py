"""A front desk over a real ledger: one user per role, a small practice recorded through the
service, the app with a clock the tests move and a pause that only notes what it was asked."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from practice_es.application import PracticeLedger
from practice_es.infrastructure import users
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.store import parse_store_url
from practice_es.web.app import create_app
from tests.conftest import count_events

PASSWORD = "correct horse battery"
ROLES = ("owner", "practitioner", "front-desk", "auditor")
CLIENT_NAME = "Ada Lovelace"
HEALTH_TEXT = "sciatica down the left leg"  # a finding only clinical roles may read


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its lowest cost: the tests check the flow, not the hash's strength."""
    monkeypatch.setattr(users, "HASH_SETTINGS",
                        {"time_cost": 1, "memory_cost": 8, "parallelism": 1})


class Clock:
    """Naive UTC, moved by hand (the idle timeout and the lock are about time)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(tzinfo=None)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Practice:
    db_url: str
    client_id: UUID  # Ada: due a recall, nothing booked
    booked: UUID  # Ben: a client with a booking today
    visit_id: UUID  # Ben's booking today
    clock: Clock
    pauses: list[float] = field(default_factory=list)

    def events(self) -> int:
        return count_events(self.db_url)


def seed(db_url: str) -> tuple[UUID, UUID, UUID]:
    """Ada: first seen 60 days ago with pain 7, last visit 40 days ago with pain 6, nothing
    booked (due a recall); Ben: a booking today, an hour from now."""
    ledger = PracticeLedger(Settings(db_url=db_url, actor="seed"))
    try:
        now = datetime.now(ledger.settings.zone).replace(second=0, microsecond=0)
        ada = ledger.record_intake(name=CLIENT_NAME, phone="555-0101",
                                   email="ada@example.org", on=now - timedelta(days=60))
        ledger.record_assessment(ada, findings=HEALTH_TEXT, measures={"pain": 7},
                                 contraindications=(), on=now - timedelta(days=59))
        ledger.complete_visit(ada, measures={"pain": 6}, on=now - timedelta(days=40))
        ben = ledger.record_intake(name="Ben Okafor", phone="555-0102",
                                   on=now - timedelta(days=10))
        visit = ledger.schedule_visit(ben, at=min(now + timedelta(hours=1),
                                                  now.replace(hour=23, minute=30)),
                                      on=now - timedelta(days=1))
        return ada, ben, visit
    finally:
        ledger.close()


def add_users(db_url: str) -> None:
    book = users.UserBook(parse_store_url(db_url))
    try:
        for role in ROLES:
            book.add(role.replace("-", ""), role, PASSWORD)
    finally:
        book.close()


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, UUID, UUID, UUID]:
    """The practice recorded once into an SQLite file, copied for each test that wants it."""
    path = tmp_path_factory.mktemp("seeded") / "practice.db"
    url = f"sqlite:///{path}"
    ada, ben, visit = seed(url)
    add_users(url)
    return path, ada, ben, visit


@pytest.fixture
def practice(db_url: str, request: pytest.FixtureRequest) -> Practice:
    if db_url.startswith("sqlite:///"):
        template, ada, ben, visit = request.getfixturevalue("seeded_sqlite")
        target = db_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):  # a write-ahead log not yet folded in, too
            if Path(f"{template}{suffix}").exists():
                shutil.copyfile(f"{template}{suffix}", f"{target}{suffix}")
    else:
        ada, ben, visit = seed(db_url)
        add_users(db_url)
    return Practice(db_url, ada, ben, visit, Clock())


@pytest.fixture
def app(practice: Practice) -> Iterator[Starlette]:
    async def pause(seconds: float) -> None:
        practice.pauses.append(seconds)

    settings = Settings(db_url=practice.db_url, actor="server")
    yield create_app(settings, clock=practice.clock, pause=pause)


@pytest.fixture
def web(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(web: TestClient, role: str) -> str:
    """Sign in as the user of `role`; returns the session's CSRF token (from the schedule)."""
    page = web.get("/login")
    answer = web.post("/login", data={"username": role.replace("-", ""), "password": PASSWORD,
                                      "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303, answer.text
    return csrf_of(web.get("/").text)


def today() -> date:
    return datetime.now(UTC).date()


def soon() -> str:
    """A booking time a month ahead (a booking may not be years ahead)."""
    return (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT10:00")
