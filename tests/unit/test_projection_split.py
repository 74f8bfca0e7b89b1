"""How a rebuild is shared between two processes: every projection in exactly one of them, the
work about even (the two heaviest, the timeline with a row per event and the visits, apart)."""

from __future__ import annotations

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
