"""What the front desk holds open while it runs: the ledger, its read models, the users, and
the forms already recorded (a form sent twice records once)."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from itsdangerous import Signer
from sqlalchemy import Connection

from practice_es.application import PracticeLedger
from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.users import Clock, UserBook, utc_now
from practice_es.projections.engine import reading
from practice_es.projections.registry import all_projections
from practice_es.projections.runner import ProjectionRunner

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
Pause = Callable[[float], Awaitable[None]]
FORMS_KEPT = 10_000  # recorded forms remembered, to answer a second send of one
REPORTS_KEPT = 32  # reports kept, each for the log's head it was built at
CHANGES_FOLLOWED = 2_000  # events since a kept report past which it is built afresh


class Kept(Protocol[T_co]):
    """A report kept up to date client by client (e.g. `reports.retention.KeptRetention`)."""

    def refresh(self, conn: Connection, changed: Collection[str] | None) -> object: ...

    def report(self, conn: Connection) -> T_co: ...


@dataclass
class FrontDesk:
    settings: Settings
    ledger: PracticeLedger
    runner: ProjectionRunner
    users: UserBook
    signer: Signer
    pause: Pause = asyncio.sleep
    lock: threading.Lock = field(default_factory=threading.Lock)
    recorded: OrderedDict[str, str] = field(default_factory=OrderedDict)
    reports: OrderedDict[tuple[object, ...], object] = field(default_factory=OrderedDict)
    keeping: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)  # the server stops
    kept: OrderedDict[tuple[object, ...], tuple[Kept[object], int, object]] = field(
        default_factory=OrderedDict)

    @classmethod
    def open(cls, settings: Settings, clock: Clock = utc_now,
             pause: Pause = asyncio.sleep) -> FrontDesk:
        ledger = PracticeLedger(settings, create=False)  # `practice init` makes one
        runner = ProjectionRunner(ledger, all_projections())
        users = UserBook(ledger.location, clock)
        signer = Signer(users.signing_key(), salt="practice-es front desk")
        return cls(settings, ledger, runner, users, signer, pause)

    def close(self) -> None:
        self.closing.set()
        self.runner.close()
        self.ledger.close()
        self.users.close()

    def now(self) -> datetime:
        return datetime.now(self.settings.zone)

    def read(self, query: Callable[[Connection], T]) -> T:
        """Run a query over read models that reflect every event recorded so far."""
        with self.lock:
            self.runner.catch_up()
        with reading(self.runner.engine) as conn:  # a snapshot: no write lock held
            return query(conn)

    def report(self, key: tuple[object, ...], build: Callable[[Connection], T]) -> T:
        """A report over every event recorded so far, built again only when something was
        recorded since it was last built (the log's head moved): a report is a function of
        the log, so the same head gives the same report."""
        with self.lock:
            self.runner.catch_up()
            head = self.ledger.recorder.max_notification_id() or 0
            kept = self.reports.get((*key, head))
        if kept is not None:
            return kept  # type: ignore[return-value]
        with reading(self.runner.engine) as conn:
            built = build(conn)
        with self.lock:
            self.reports[(*key, head)] = built
            while len(self.reports) > REPORTS_KEPT:
                self.reports.popitem(last=False)
        return built

    def kept_report(self, key: tuple[object, ...], start: Callable[[], Kept[T]]) -> T:
        """A report brought up to date from the one kept at an earlier head of the log by
        reading again only the clients something was recorded for since (a report page stays
        quick on a large ledger); built afresh the first time or after many changes."""
        with self.lock:
            head = self.ledger.recorder.max_notification_id() or 0  # (read models reach it)
            self.runner.catch_up()
        with self.keeping:
            keeper, since, built = (self.kept.pop(key) if key in self.kept
                                    else (start(), -1, None))
            if since != head:
                changed = (None if since < 0 else
                           self.ledger.touched_since(since, head, CHANGES_FOLLOWED))
                with reading(self.runner.engine) as conn:
                    keeper.refresh(conn, changed)
                    built = keeper.report(conn)
            self.kept[key] = (keeper, head, built)
            while len(self.kept) > REPORTS_KEPT:
                self.kept.popitem(last=False)
        return built  # type: ignore[return-value]

    def record(self, actor: str, form_id: str, action: Callable[[PracticeLedger], str]
               ) -> str:
        """Record one action as `actor`, once per form: a form sent again answers what the
        first send recorded and records nothing more."""
        with self.lock:
            if form_id and form_id in self.recorded:
                return self.recorded[form_id]
            with self.ledger.acting_as(actor):
                result = action(self.ledger)
            if form_id:
                self.recorded[form_id] = result
                while len(self.recorded) > FORMS_KEPT:
                    self.recorded.popitem(last=False)
            self.runner.catch_up()
            return result
