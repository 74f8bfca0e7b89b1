"""The shape of an aggregate's snapshot state, derived from what the state declares.

A snapshot stores its shape; one of another shape is not read, and the aggregate replays
from its events instead (ADR 16). The shape is a digest of the state's field names and types
(nested models by their own fields), so changing a declared field changes it with nothing to
bump by hand. Whether a field is personal is no part of it: a snapshot opens either way.
"""

from __future__ import annotations

from functools import cache
from hashlib import sha256
from typing import Any, get_args, get_origin

from pydantic import BaseModel

# The snapshots stored before shapes were derived say 3; they are read while their
# aggregate's state is the one it was then (these digests), and replayed once it changes.
# (Client, ProgramOfCare, Referral)
NUMBERED = {3: frozenset({"17738d29b9a1", "3321f41598c8", "280fa237e39f"})}


@cache
def state_shape(state: type[BaseModel]) -> str:
    """The digest of a state model's fields and their types."""
    return sha256(_text(state).encode()).hexdigest()[:12]


def is_shape(stored: Any, state: type[BaseModel]) -> bool:
    """Whether a snapshot's stored shape is that of the state as declared now."""
    current = state_shape(state)
    return stored == current or current in NUMBERED.get(stored, ())


def _text(kind: Any) -> str:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        fields = ",".join(f"{name}:{_text(field.annotation)}"
                          for name, field in kind.model_fields.items())
        return f"{{{fields}}}"  # (a model's name is no part of what it stores)
    args = get_args(kind)
    if args:
        return f"{_name(get_origin(kind))}[{','.join(_text(arg) for arg in args)}]"
    return _name(kind)


def _name(kind: Any) -> str:
    name = getattr(kind, "__name__", None)
    return name if isinstance(name, str) else repr(kind)
