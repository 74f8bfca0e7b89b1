"""The mapper under hostile bytes and arbitrary text (hypothesis), no database: personal
fields seal and open back exactly; a destroyed key reads as exactly what `erased_copy`
predicts (the read models rely on it, ADR 5); and damaged or forged stored events fail with
one error that names the event's ids and nothing of its contents."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.utils import Environment
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practice_es.domain.client import Client
from practice_es.domain.erasure import erased_copy
from practice_es.domain.events import DomainEvent
from practice_es.domain.program import ProgramOfCare
from practice_es.domain.referral import Referral
from practice_es.infrastructure.sealing import Sealer
from practice_es.infrastructure.transcoding import OrjsonTranscoder, PydanticMapper
from tests.soak import quick_and_soak

EXAMPLES = quick_and_soak(200, 10_000)
# Storable text: any Unicode but surrogates and control characters (the events refuse those).
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\t\n"),
               max_size=40)
SOME = st.lists(TEXT, max_size=3)
MAYBE = st.none() | TEXT
NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Keys:
    """A key store in memory: a key per owner, until it is destroyed."""

    def __init__(self) -> None:
        self.keys: dict[UUID, bytes] = {}
        self.destroyed: set[UUID] = set()

    def data_key(self, owner: UUID, create: bool) -> bytes | None:
        if owner in self.destroyed:
            return None
        return self.keys.setdefault(owner, os.urandom(32))


def mapper(keys: Keys, encrypted: bool) -> PydanticMapper:
    cipher = AESCipher(Environment(env={"CIPHER_KEY": AESCipher.create_key(32)})) \
        if encrypted else None
    made = PydanticMapper(transcoder=OrjsonTranscoder(), cipher=cipher)
    made.sealer = Sealer(keys, lambda _: None)  # type: ignore[arg-type]
    return made


def stamp(**fields: Any) -> dict[str, Any]:
    return {"originator_id": uuid4(), "originator_version": 1, "timestamp": NOW,
            "occurred_on": NOW, "actor": "fuzz", **fields}


EVENTS = st.one_of(
    st.builds(lambda n, e, p, r, c, m: Client.IntakeRecorded(**stamp(
        originator_topic="practice:Client", name=n or "x", email=e, phone=p, reasons=r,
        conditions=c, medications=m, date_of_birth=date(1980, 1, 2))),
        TEXT, MAYBE, MAYBE, SOME, SOME, SOME),
    st.builds(lambda n, e, p: Client.ContactUpdated(**stamp(name=n, email=e, phone=p)),
              MAYBE, MAYBE, MAYBE),
    st.builds(lambda f, c: Client.AssessmentRecorded(**stamp(
        assessment_id=uuid4(), findings=f, contraindications=c, measures={"pain": 3})),
        TEXT, SOME),
    st.builds(lambda n: Client.VisitCompleted(**stamp(visit_id=uuid4(), notes=n,
                                                      measures={"pain": 2})), MAYBE),
    st.builds(lambda n, f, r: Client.EntryCorrected(**stamp(
        corrected_version=1, corrected_event="VisitCompleted", reason=r or "why",
        changes={"notes": n, "occurred_on": "2026-03-02T00:00:00+00:00"},
        original={"notes": f})), MAYBE, MAYBE, TEXT),
    st.builds(lambda g, r: ProgramOfCare.ProgramRecommended(**stamp(
        originator_topic="practice:ProgramOfCare", client_id=uuid4(), number=1,
        assessment_id=uuid4(), phase="relief", visits=2, per_week=1.0, goals=g or ["g"],
        rationale=r or "r", reevaluate_after=2, expected_end=date(2026, 3, 9))), SOME, TEXT),
    st.builds(lambda p: Referral.ReferralReceived(**stamp(
        originator_topic="practice:Referral", source_kind="doctor", referrer="dr k",
        prospect=p or "p")), TEXT),
)


def fuzz(examples: int, *strategies: Any) -> Any:
    return lambda check: settings(max_examples=examples, deadline=None, suppress_health_check=[
        HealthCheck.too_slow])(given(*strategies)(check))


@pytest.mark.parametrize("examples", EXAMPLES)
def test_sealed_fields_open_back_exactly_and_read_as_predicted_once_erased(
        examples: int) -> None:
    @fuzz(examples, EVENTS, st.booleans())
    def check(event: DomainEvent, encrypted: bool) -> None:
        keys = Keys()
        mapped = mapper(keys, encrypted)
        stored = mapped.to_stored_event(event)
        assert mapped.to_domain_event(stored) == event
        keys.destroyed.update(keys.keys)  # erasure
        assert mapped.to_domain_event(stored) == erased_copy(event)

    check()


def _forged_states() -> st.SearchStrategy[bytes]:
    """Bytes a damaged disk or a forger could leave: noise, JSON of any shape, sealed blocks
    with wrong owners, wrong types, bad base64, someone else's ciphertext."""
    json_value = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | TEXT,
                              lambda inner: st.lists(inner, max_size=3)
                              | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
    block = st.fixed_dictionaries({}, optional={
        "o": st.just(str(uuid4())) | json_value, "f": st.just(["name"]) | json_value,
        "d": st.just("QUJD") | json_value})
    forged = st.builds(lambda extra, sealed: orjson.dumps({**extra, "_sealed": sealed}),
                       st.dictionaries(TEXT, json_value, max_size=3), block | json_value)
    return st.binary(max_size=200) | forged | json_value.map(orjson.dumps)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_a_damaged_or_forged_stored_event_fails_naming_only_its_ids(examples: int) -> None:
    @fuzz(examples, _forged_states(), st.booleans())
    def check(state: bytes, encrypted: bool) -> None:
        mapped = mapper(Keys(), encrypted)
        stored = StoredEvent(originator_id=uuid4(), originator_version=7,
                             topic="practice:Client.IntakeRecorded", state=state)
        with pytest.raises(MapperDeserialisationError) as failure:
            mapped.to_domain_event(stored)
        assert str(failure.value).startswith(
            f"cannot read the stored event {stored.originator_id} v7 (")

    check()
