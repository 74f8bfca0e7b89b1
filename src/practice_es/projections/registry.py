"""Every projection the ledger keeps, by name."""

from __future__ import annotations

from practice_es.projections.base import Projection
from practice_es.projections.clients import ClientDirectory
from practice_es.projections.lapses import LapseLog
from practice_es.projections.programs import ProgramBook
from practice_es.projections.referral_index import ReferrerIndex
from practice_es.projections.referrals import ReferralBook
from practice_es.projections.timeline import Timeline
from practice_es.projections.visits import VisitBook


def all_projections() -> list[Projection]:
    return [ClientDirectory(), VisitBook(), LapseLog(), ProgramBook(), ReferralBook(), Timeline(),
            ReferrerIndex()]
