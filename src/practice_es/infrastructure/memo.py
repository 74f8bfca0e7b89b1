"""Bounded memos: values worked out once and looked up after, for a long run's hot paths.

A memo is a plain dict, so a lookup stays a dict's own `get` (in C); `remember` keeps it
bounded by forgetting everything at once when it is full, which costs no more than the
insert it makes (a least-recently-used order would cost every lookup).
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, limit: int) -> V:
    """Keep `value` for `key` in `memo` (emptied first if it holds `limit`); return it."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value
