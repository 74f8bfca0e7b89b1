"""`client show`: a card to read by default, JSON for scripts (SPEC §9)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.cli.helpers import Practice, accepted_program


@pytest.fixture
def practice(db_url: str) -> Practice:
    cli = Practice(db_url, zone="America/New_York")
    cli.ok("init")
    return cli


def test_the_card_shows_what_the_desk_needs_and_json_no_internals(practice: Practice) -> None:
    p = practice
    referrer = p.new("client", "intake", "--name", "Cy Dunn", "--on", "2026-02-01")
    ann = p.new("client", "intake", "--name", "Ann Lee", "--phone", "555-0101",
                "--contraindication", "suspected DVT", "--source", "client",
                "--referrer", referrer, "--on", "2026-03-02T09:00")
    out = p.new("referral", "make", "Ann Lee", "--to", "Dr Jones", "--reason", "DVT?",
                "--on", "2026-03-02T09:30")
    p.ok("client", "assess", "Ann Lee", "--findings", "C5-6", "--measure", "pain=7",
         "--on", "2026-03-02T09:40")
    p.ok("client", "clear", "Ann Lee", "--contraindication", "suspected DVT", "--by", "Dr J",
         "--on", "2026-03-03")
    plan = accepted_program(p, "Ann Lee", "2026-03-03")
    p.ok("visit", "complete", "Ann Lee", "--program", plan[:8], "--measure", "pain=5",
         "--on", "2026-03-04T10:00")
    ahead = (date.today() + timedelta(days=60)).isoformat()  # (a booking: at most 2 years)
    visit = p.new("visit", "schedule", "Ann Lee", "--at", f"{ahead}T09:30",
                  "--on", "2026-03-04T10:05")
    card = p.ok("client", "show", "Ann Lee")
    assert card.splitlines()[0] == f"Ann Lee  ({ann[:8]})  active"
    assert "phone 555-0101" in card
    assert "came by client Cy Dunn" in card  # a referring client by name, not by id
    assert "open contraindications: none" in card
    assert "relief (active), 1 of 4 visits" in card and "pain 7→5 (-2)" in card
    assert "last visit: 2026-03-04 10:00" in card
    assert f"next visit: {ahead} 09:30 ({visit[:8]})" in card
    assert f"to dr jones since 2026-03-02 ({out[:8]})" in card
    data = p.json("client", "show", ann[:8], "--format", "json")
    assert "contact_set_at" not in data and "visit_dates" not in data
    assert data["next_visit"]["at"] == datetime.fromisoformat(f"{ahead}T09:30").replace(
        tzinfo=ZoneInfo("America/New_York")).isoformat()
    assert data["last_visit_on"] == "2026-03-04T10:00:00-05:00"
    assert data["current_program"]["program_id"] == plan
    assert data["open_referrals"] == [{"referral_id": out, "provider": "dr jones",
                                       "made_on": "2026-03-02"}]
