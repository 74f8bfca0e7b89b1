"""Quick by default, long under `make soak` (which runs `pytest -m slow` with PRACTICE_SOAK=1):
a test parametrised with `quick_and_soak(q, s)` runs once with `q` in `make test`, and once
with `s`, marked slow, only under `make soak`."""

from __future__ import annotations

import os
from typing import Any

import pytest

SOAK = os.environ.get("PRACTICE_SOAK") == "1"


def quick_and_soak(quick: Any, soak: Any) -> list[Any]:
    return [pytest.param(quick, id="quick"),
            pytest.param(soak, id="soak", marks=[pytest.mark.slow, pytest.mark.skipif(
                not SOAK, reason="a long run: `make soak` (PRACTICE_SOAK=1)")])]
