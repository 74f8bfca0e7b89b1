"""How a rebuild is shared between two processes: every projection in exactly one of them, the
work about even (the two heaviest, the timeline with a row per event and the visits, apart)."""

from __future__ import annotations

import pytest

from practice_es.projections import parallel
from practice_es.projections.parallel import split
from practice_es.projections.registry import all_projections


def test_every_projection_is_rebuilt_by_exactly_one_of_the_two_processes() -> None:
    projections = all_projections()
    here, there = split(projections)
    assert sorted(p.name for p in here + there) == sorted(p.name for p in projections)
    assert here and there


def test_the_two_halves_weigh_about_the_same() -> None:
    here, there = split(all_projections())
    weights = sorted(sum(p.weight for p in group) for group in (here, there))
    assert weights[1] <= 1.25 * weights[0]
    for group in (here, there):
        assert len({"timeline", "visits"} & {p.name for p in group}) == 1


def test_one_projection_is_rebuilt_alone() -> None:
    timeline = [p for p in all_projections() if p.name == "timeline"]
    assert split(timeline) == (timeline, [])


@pytest.mark.parametrize(("setting", "idle", "expected"), [
    (None, True, True), ("2", True, True), ("1", True, False), (None, False, False),
])
def test_a_long_rebuild_takes_a_second_process_when_a_core_is_idle_unless_told_one(
        monkeypatch: pytest.MonkeyPatch, setting: str | None, idle: bool, expected: bool
) -> None:
    if setting is None:
        monkeypatch.delenv(parallel.PROCESSES, raising=False)
    else:
        monkeypatch.setenv(parallel.PROCESSES, setting)
    monkeypatch.setattr(parallel, "_idle_core", lambda: idle)
    assert parallel.worth_it(all_projections(), parallel.PARALLEL_FROM) is expected
    assert not parallel.worth_it(all_projections(), parallel.PARALLEL_FROM - 1)
