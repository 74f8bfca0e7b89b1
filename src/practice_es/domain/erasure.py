"""What a person's data reads as once they are erased (ADR 9): the one place that says it.

Erasure destroys the person's own key, so each sealed personal field of their events reads
as a marker: `[erased]`, `["[erased]"]`, `{}` or none, whichever the field's type takes. The
aggregate, the read models and the sealer all put the markers through the functions here, so
a state kept up through an erasure reads exactly as a rebuild from the log does afterwards.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from eventsourcing.utils import resolve_topic
from pydantic import BaseModel, TypeAdapter, ValidationError

from practice_es.domain.events import PracticeSnapshot
from practice_es.domain.personal import (
    filled_paths,
    path_type,
    personal_fields,
    personal_paths,
    put_path,
)

ERASED = "[erased]"  # what an erased person's personal text reads as (ADR 9)


@cache
def marker(model: type[BaseModel] | None, path: str) -> Any:
    """What the erased field at `path` of `model` reads as: the first of `[erased]`,
    `["[erased]"]` and `{}` its type takes (a date of birth, which takes none, is none)."""
    kind = path_type(model, path)
    if kind is None:
        return ERASED
    adapter: TypeAdapter[Any] = TypeAdapter(kind)
    candidates: tuple[Any, ...] = (ERASED, [ERASED], {})
    for candidate in candidates:
        try:
            adapter.validate_python(candidate, strict=True)
            return candidate
        except ValidationError:
            continue
    return None


def erased_markers(event: BaseModel) -> dict[str, Any]:
    """The markers an event's filled personal fields read as once its person is erased,
    by path (none when it says nothing personal, as most events)."""
    model = type(event)
    filled = filled_paths(vars(event), personal_paths(model))
    return {path: marker(model, path) for path in filled}


def erased_copy(event: Any) -> Any:
    """The event (or snapshot) as it will read once its person is erased: the event itself
    when it says nothing personal, else a copy with the markers put in (each a valid value of
    its field: nothing to validate)."""
    if isinstance(event, PracticeSnapshot):
        state = event.model_dump()
        model = getattr(resolve_topic(state["topic"]), "State", None)
        for path in filled_paths(state["state"], personal_paths(model)):
            put_path(state["state"], path, marker(model, path))
        return type(event).model_validate(state)
    markers = erased_markers(event)
    if not markers:
        return event
    update: dict[str, Any] = {}
    for path, value in markers.items():
        head, _, rest = path.partition(".")
        if rest:
            update.setdefault(head, dict(vars(event)[head]))[rest] = value
        else:
            update[head] = value
    return event.model_copy(update=update)


def erased_state(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """The personal fields of an aggregate's state (or a read model's row of them) as a replay
    reads them once the person is erased: the marker in each that holds a value. Only none and
    an empty list stay as they are: any text given, even empty, reads as erased."""
    return {field: values[field] if values[field] is None or values[field] == []
            else marker(model, field)
            for field in personal_fields(model) if field in values}
