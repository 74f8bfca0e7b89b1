"""Personal data, declared once: on the fields of the events and aggregate states themselves.

A field annotated `Annotated[T, Personal]` holds a person's name, contact or health text.
Everything that treats personal data differently reads it from here: the sealing at rest
under the person's own key (ADR 9), the erasure markers, the snapshots, the projections'
decoding and the import. Every other field stays in clear, because reports count, group or
order by it (ids, dates, statuses, measures, codes).

A dict field annotated `PersonalEntries(names)` holds personal values under some keys only
(a correction's changed values): its paths are `field.key`, one per name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from pydantic import BaseModel


class _Personal:
    """The marker of a personal field (one instance: `Personal`)."""

    def __repr__(self) -> str:
        return "Personal"


Personal: Final = _Personal()


@dataclass(frozen=True)
class PersonalEntries:
    """The marker of a dict field whose entries named by `entries()` are personal, each with
    the type its value has where it was first recorded. A function, so the entries can be
    worked out from classes declared after the field's own."""

    entries: Callable[[], dict[str, Any]]


@cache
def personal_paths(model: type[BaseModel] | None) -> tuple[str, ...]:
    """The personal fields of an event class or an aggregate's state, in the order they are
    declared; `field.key` for an entry of a dict of personal entries."""
    if model is None:
        return ()
    paths: list[str] = []
    for name, field in model.model_fields.items():
        for mark in field.metadata:
            if mark is Personal:
                paths.append(name)
            elif isinstance(mark, PersonalEntries):
                paths.extend(f"{name}.{entry}" for entry in mark.entries())
    return tuple(paths)


def personal_fields(model: type[BaseModel] | None) -> tuple[str, ...]:
    """The top-level fields that hold personal data (a dict of personal entries once)."""
    return tuple(dict.fromkeys(path.partition(".")[0] for path in personal_paths(model)))


def path_type(model: type[BaseModel] | None, path: str) -> Any:
    """The type of the value at a personal path (None if the model does not say)."""
    head, _, rest = path.partition(".")
    field = model.model_fields.get(head) if model is not None else None
    if field is None or not rest:
        return None if field is None else field.annotation
    for mark in field.metadata:
        if isinstance(mark, PersonalEntries):
            return mark.entries().get(rest)
    return None


_ABSENT: Final = object()
_EMPTY: tuple[Any, ...] = ("", [], {})


def is_filled(value: Any) -> bool:
    """Whether a personal field says something: it is sealed, and marked once its person is
    erased (an empty one is left as it is: that a client gave no e-mail is no secret)."""
    return value is not None and value not in _EMPTY


def filled_paths(container: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """The values of the paths that say something, by path."""
    filled = {}
    for path in paths:
        value = container.get(path, _ABSENT)  # (no key has a dot: "a.b" is looked up below)
        if value is _ABSENT and "." in path:
            value = get_path(container, path)
        if value is not _ABSENT and is_filled(value):
            filled[path] = value
    return filled


def get_path(container: dict[str, Any], path: str) -> Any:
    head, _, rest = path.partition(".")
    value = container.get(head, _ABSENT)
    if rest:
        return value.get(rest, _ABSENT) if isinstance(value, dict) else _ABSENT
    return value


def pop_path(container: dict[str, Any], path: str) -> None:
    head, _, rest = path.partition(".")
    if rest:
        container[head].pop(rest)
    else:
        container.pop(head)


def put_path(container: dict[str, Any], path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if rest:
        container.setdefault(head, {})[rest] = value
    else:
        container[head] = value
