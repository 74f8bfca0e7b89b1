"""How a rebuild is shared between two processes: every projection in exactly one of them.

(Whether a rebuild takes a second process at all: tests/integration/test_projections_replay.py.)"""

from __future__ import annotations

from practice_es.projections.parallel import split
from practice_es.projections.registry import all_projections


def test_every_projection_is_rebuilt_by_exactly_one_of_the_two_processes() -> None:
    projections = all_projections()
    here, there = split(projections)
    assert sorted(p.name for p in here + there) == sorted(p.name for p in projections)
    assert here and there


def test_one_projection_is_rebuilt_alone() -> None:
    timeline = [p for p in all_projections() if p.name == "timeline"]
    assert split(timeline) == (timeline, [])
