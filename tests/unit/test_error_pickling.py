"""A worker process's error reaches its parent as it was raised (a group rebuild's workers)."""

from __future__ import annotations

import pickle
from pathlib import Path
from uuid import uuid4

import pytest

from practice_es.domain.errors import ConcurrentChange, NotFound, PracticeError, RuleRefused
from practice_es.infrastructure.store import NoLedger


@pytest.mark.parametrize("error", [
    RuleRefused("C3", "the program is not active"),
    NotFound("client", uuid4()),
    NoLedger(Path("/srv/practice.db"), " (the folder /srv does not exist)"),
    ConcurrentChange("the ledger is busy; try again"),
])
def test_an_error_sent_from_another_process_reads_the_same(error: PracticeError) -> None:
    received = pickle.loads(pickle.dumps(error))
    assert type(received) is type(error)
    assert str(received) == str(error)
    assert vars(received) == vars(error)
