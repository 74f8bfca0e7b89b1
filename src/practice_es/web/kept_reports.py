"""The report pages' reports, kept by the front desk client by client (ADR 34): one key per
page and window (or day), and a warm-up that builds them once as the server starts."""

from __future__ import annotations

import contextlib
import threading
from datetime import date
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


def warm_up(desk: FrontDesk) -> threading.Thread:
    """Build the pages' default reports in the background, so the first person to open one
    after the server starts does not wait for a pass over every visit."""
    def build() -> None:
        # The server may stop (and close the ledger) before this ends: nothing to report then.
        with contextlib.suppress(Exception):
            worklists(desk, desk.now().date())
            retention(desk, "month", Window())
            referrals(desk, Window())

    thread = threading.Thread(target=build, name="warm-up reports", daemon=True)
    thread.start()
    return thread
