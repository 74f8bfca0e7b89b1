"""Each projection names the events it reads, so a rebuild of one reads and decodes only
those (a program book rebuilt alone skips the visits, which are most of the log)."""

from __future__ import annotations

from eventsourcing.utils import resolve_topic

from practice_es.domain.client import Client
from practice_es.domain.program import ProgramOfCare
from practice_es.domain.referral import Referral
from practice_es.projections.base import topics_of
from practice_es.projections.registry import all_projections


def test_an_aggregates_topics_are_those_of_its_own_events() -> None:
    topics = topics_of(ProgramOfCare)
    assert ProgramOfCare.ProgramRecommended.TOPIC in topics
    assert ProgramOfCare.ProgramCompleted.TOPIC in topics
    assert all(t.startswith("practice:ProgramOfCare.") for t in topics)
    assert all(t == resolve_topic(t).TOPIC for t in topics)


def test_every_projection_reads_only_events_it_names() -> None:
    every = set(topics_of(Client, ProgramOfCare, Referral))
    for projection in all_projections():
        assert projection.topics, projection.name
        assert set(projection.topics) <= every, projection.name
    programs = next(p for p in all_projections() if p.name == "programs")
    assert Client.VisitCompleted.TOPIC not in programs.topics
