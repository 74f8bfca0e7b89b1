"""The report pages' reports, kept by the front desk client by client (ADR 34): one key per
page and window (or day), and a warm-up that builds them once as the server starts."""

from __future__ import annotations

import contextlib
import itertools
import threading
from datetime import date, datetime, time, timedelta
from typing import Any

from practice_es.reports.referrals import KeptReferrals
from practice_es.reports.retention import KeptRetention
from practice_es.reports.window import Window
from practice_es.reports.worklists import KeptWorklists
from practice_es.web.desk import FrontDesk


def worklists(desk: FrontDesk, day: date) -> dict[str, Any]:
    return desk.kept_report(("worklists", day), lambda: KeptWorklists(day))


def retention(desk: FrontDesk, by: str, window: Window) -> dict[str, Any]:
    return desk.kept_report(("retention", by, window), lambda: KeptRetention(by, window))


def referrals(desk: FrontDesk, window: Window) -> dict[str, Any]:
    return desk.kept_report(("referrals", window), lambda: KeptReferrals(window))


def warm_up(desk: FrontDesk, days: int | None = None) -> threading.Thread:
    """Build the pages' default reports in the background as the server starts, and the
    worklists again as each day begins (`days` of them; None: until the server stops), so
    nobody waits for a pass over every visit on the first view."""
    def build() -> None:
        # The server may stop (and close the ledger) meanwhile: nothing to report then.
        with contextlib.suppress(Exception):
            retention(desk, "month", Window())
            referrals(desk, Window())
            for day in itertools.count() if days is None else range(days):
                if day and desk.closing.wait(_seconds_to_tomorrow(desk.now())):
                    return
                worklists(desk, desk.now().date())

    thread = threading.Thread(target=build, name="warm-up reports", daemon=True)
    thread.start()
    return thread


def _seconds_to_tomorrow(now: datetime) -> float:
    tomorrow = datetime.combine(now.date() + timedelta(days=1), time.min, now.tzinfo)
    return max((tomorrow - now).total_seconds(), 0.0) + 1.0
