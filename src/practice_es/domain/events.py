"""The base classes every aggregate and event of the practice is built on.

Events are pydantic models (eventsourcing's `aggregate8` pattern) with an explicit, stable
`TOPIC`, so moving or renaming a class never breaks replay, and a `class_version` with
`upcast_vN_vN+1` static methods when a stored shape changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from inspect import get_annotations
from typing import Any, ClassVar, TypeAlias
from uuid import UUID, uuid4

from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
)
from eventsourcing.utils import get_topic, register_topic, resolve_topic
from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationInfo,
    create_model,
    field_validator,
)

from practice_es.domain.shapes import is_shape, state_shape
from practice_es.domain.visits import ArchiveReader

TOPIC_PREFIX = "practice:"
STORED = {"stored": True}  # validation context of an event read back from the store
# An undecodable byte (a lone surrogate) cannot be stored; a control character other than tab
# and newline breaks read models (PostgreSQL text refuses NUL) and CSV output.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class Envelope(BaseModel):
    """What the library needs of any stored event: whose it is, which version, when recorded."""

    # defer_build: an event class is compiled on first use, so a CLI action only pays for
    # the few events it touches (start-up time; see bench_cli).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    originator_id: UUID
    originator_version: int
    timestamp: datetime  # record time: when the ledger learned of it (recorded_at)


class DomainEvent(Envelope):
    """A fact of the practice. `occurred_on` is business time; `actor` who recorded it."""

    TOPIC: ClassVar[str]
    class_version: ClassVar[int] = 1

    occurred_on: datetime
    actor: str

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        """New events carry only text that can be stored and shown (stored ones are as they
        are). The message never repeats the text: it may be a health detail."""
        if info.context != STORED and has_unstorable(value):
            raise ValueError("contains a character that cannot be stored (an undecodable "
                             "byte or a control character)")
        return value

    @classmethod
    def event_name(cls) -> str:
        return cls.__name__


class PracticeEvent(DomainEvent, CanMutateAggregate[UUID]):
    """An event that changes an existing aggregate; subclasses implement `apply`."""


class PracticeCreated(DomainEvent, CanInitAggregate[UUID]):
    """The event that brings an aggregate into existence."""

    originator_topic: str


class PracticeSnapshot(Envelope, CanSnapshotAggregate[UUID]):
    """A snapshot of an aggregate's state, so a client with 1,000 visits loads like a new one.

    The state is stored through the aggregate's own pydantic `State` model, so nested values
    (visits, contraindications) come back as models, not bare dicts. It is a cache: one of
    another shape than its aggregate's state now has (shapes.py) is passed over
    (`is_current`), never misread.
    """

    TOPIC: ClassVar[str] = TOPIC_PREFIX + "Snapshot"
    topic: str
    state: dict[str, Any]
    # Reads what the aggregate archived at a version (its client's past visits): the snapshot
    # store sets it on the snapshots it gives (nothing of it is stored).
    _archives: ArchiveReader | None = PrivateAttr(default=None)

    @classmethod
    def take(cls, aggregate: Any) -> PracticeSnapshot:
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=aggregate.stored_state(),
        )

    @property
    def is_current(self) -> bool:
        """Whether the state is of the shape this code stores (older snapshots had none)."""
        state = getattr(resolve_topic(self.topic), "State", None)
        return state is not None and is_shape(self.state.get("_shape"), state)

    def mutate(self, _: Any) -> Any:
        aggregate_class = resolve_topic(self.topic)
        aggregate = object.__new__(aggregate_class)
        aggregate.restore_state(self.originator_id, self.originator_version, self.state)
        if self._archives is not None:
            aggregate.read_archives_with(self._archives)
        return aggregate

    def read_archives_with(self, reader: ArchiveReader) -> None:
        self._archives = reader


# Aggregates register their events' topics when defined; a snapshot is no aggregate's event,
# so without this a fresh process could not resolve "practice:Snapshot" to load a snapshot.
register_topic(PracticeSnapshot.TOPIC, PracticeSnapshot)


class PracticeAggregate(BaseAggregate[UUID]):
    """An aggregate whose public state is declared once, as annotations of its class.

    The annotations type the attributes for mypy, and from them each aggregate class gets a
    pydantic `State` model (`__init_subclass__`): snapshots round-trip exactly through it,
    and erasure reads the type of each personal field from it. Built on `BaseAggregate`, not
    `Aggregate`, so no event class is ever defined implicitly: every event is an explicit
    class with its own stable `TOPIC`.
    """

    State: ClassVar[type[BaseModel]]

    class Event(PracticeEvent):
        """The library looks for a base event class named `Event`; ours is never stored."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        hints = get_annotations(cls, eval_str=True)
        aliases = [name for name, hint in hints.items() if hint is TypeAlias]
        fields: dict[str, Any] = {
            name: (hint, ...) for name, hint in hints.items()
            if getattr(hint, "__origin__", None) is not ClassVar and name not in aliases}
        if fields or not hasattr(cls, "State"):  # else the state its base declares
            # defer_build: compiled when a snapshot is first taken or read, not at every import.
            cls.State = create_model(f"{cls.__name__}State",
                                     __config__=ConfigDict(defer_build=True), **fields)
        # The annotations are the State's now. Left on the class, BaseAggregate would make it
        # a dataclass whose __init__ wants every field, where our events' `apply` set them.
        # An alias (an event class declared elsewhere) would be a field with a default.
        for name in (*fields, *aliases):
            del cls.__annotations__[name]
        super().__init_subclass__(**kwargs)

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:
        return uuid4()

    def _trigger(self, event_class: type[PracticeEvent], stamp: Stamp, **fields: Any) -> None:
        self.trigger_event(event_class, **stamp.fields(), **fields)

    def stored_state(self) -> dict[str, Any]:
        """The state as a snapshot stores it: JSON-safe, with its shape and record times."""
        fields = {name: getattr(self, name) for name in self.State.model_fields}
        state = self.State.model_validate(fields).model_dump(mode="json")
        state["_created_on"] = self.created_on.isoformat()
        state["_modified_on"] = self.modified_on.isoformat()
        state["_shape"] = state_shape(self.State)
        return state

    def snapshot_state(self) -> dict[str, Any]:
        """The state, JSON-safe, to show (`client show`) and compare (tests)."""
        return self.stored_state()

    def archive(self, after: int) -> str | None:
        """Before a snapshot: the text of what should move out of it into an archive of its
        own (more than `after` entries of a growing record), or None (the default: nothing)."""
        return None

    def read_archives_with(self, reader: ArchiveReader) -> None:
        """Restored from a snapshot: how to read what the aggregate archived."""

    def restore_state(self, ident: UUID, version: int, state: dict[str, Any]) -> None:
        state = dict(state)
        created_on = datetime.fromisoformat(state.pop("_created_on"))
        modified_on = datetime.fromisoformat(state.pop("_modified_on"))
        state.pop("_shape", None)
        self.__dict__.update(
            _id=ident,
            _version=version,
            _created_on=created_on,
            _modified_on=modified_on,
            _pending_events=[],
        )
        model = self.State.model_validate(state)
        self.__dict__.update({name: getattr(model, name) for name in self.State.model_fields})


def has_unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, list | tuple | set):
        return any(has_unstorable(v) for v in value)
    if isinstance(value, dict):
        return any(has_unstorable(k) or has_unstorable(v) for k, v in value.items())
    return False


@dataclass(frozen=True)
class Stamp:
    """Who recorded a fact, and when it happened (business time, in the practice's zone)."""

    on: datetime
    actor: str

    @property
    def day(self) -> date:
        return self.on.date()

    def fields(self) -> dict[str, Any]:
        return {"occurred_on": self.on, "actor": self.actor}
