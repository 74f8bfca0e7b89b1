"""Recompute the hash chain from the stored events and compare it with the chain kept at
recording time (ADR 0008). Streams both in position order, a page at a time: flat memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from eventsourcing.persistence import Notification

from practice_es.infrastructure.chain import GENESIS, ChainedRecorder, chain_link

PAGE = 5000
Progress = Callable[[int, int], None]  # (position reached, last position)


@dataclass(frozen=True)
class Failure:
    position: int
    problem: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.problem}"


@dataclass(frozen=True)
class Verification:
    """What verify found: the recomputed head, how many events it covers, the first failure,
    and where an expected head hash was found in the recomputed chain (if one was given)."""

    head: str
    events: int
    failure: Failure | None = None
    expected_head: str | None = None
    expected_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None and (self.expected_head is None or self.expected_at
                                          is not None)


INSERTED = "an event is in the log that was never recorded in the chain (inserted row)"
DELETED = "the chain records an event here that the log no longer holds (deleted row)"
ALTERED = ("the stored event is not the one recorded here: its bytes, id, version or topic "
           "were edited, or rows were moved (reordered)")


def _events(recorder: ChainedRecorder, stop: int) -> Iterator[Notification]:
    after = 0
    while after < stop:
        page = recorder.select_notifications(after, PAGE, stop, inclusive_of_start=False)
        if not page:
            return
        yield from page
        after = page[-1].id


def _links(recorder: ChainedRecorder, stop: int) -> Iterator[tuple[int, bytes]]:
    after = 0
    while after < stop:
        page = recorder.select_links(after, stop, PAGE)
        if not page:
            return
        yield from page
        after = page[-1][0]


def _mismatch(event: Notification | None, kept: tuple[int, bytes] | None) -> Failure | None:
    """Whether the next event and the next chain row fail to pair up by position."""
    if event is not None and (kept is None or event.id < kept[0]):
        return Failure(event.id, INSERTED)
    if kept is not None and (event is None or kept[0] < event.id):
        return Failure(kept[0], DELETED)
    return None


def verify_chain(recorder: ChainedRecorder, expect_head: str | None = None,
                 progress: Progress | None = None) -> Verification:
    """Walk the log and the chain side by side up to the last position either held when
    verify started (later appends are left for the next run)."""
    stop = max(recorder.max_notification_id() or 0, recorder.chain_head()[0])
    expected = expect_head.strip().lower() if expect_head else None
    found_at = 0 if expected == GENESIS.hex() else None
    events, links = _events(recorder, stop), _links(recorder, stop)
    previous, count, failure = GENESIS, 0, None
    while True:
        event, kept = next(events, None), next(links, None)
        if event is None or kept is None or event.id != kept[0]:
            failure = _mismatch(event, kept)
            break
        link = chain_link(previous, event.id, event)
        if link != kept[1]:
            failure = Failure(event.id, ALTERED)
            break
        previous, count = link, count + 1
        if link.hex() == expected:
            found_at = event.id
        if progress is not None and count % PAGE == 0:
            progress(event.id, stop)
    return Verification(previous.hex(), count, failure, expected, found_at)
