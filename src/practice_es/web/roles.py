"""What each role may see and do (SPEC §10), checked on the server for every page and action.

`front-desk` runs the day: schedule, bookings, contact details, recalls, referrals received,
and nothing clinical. `practitioner` is clinical. `auditor` reads everything, records nothing.
`owner` may do everything.
"""

from __future__ import annotations

ALL = frozenset({"owner", "practitioner", "front-desk", "auditor"})
RECORDERS = frozenset({"owner", "practitioner", "front-desk"})
CLINICAL = frozenset({"owner", "practitioner", "auditor"})  # who sees clinical text

PAGES: dict[str, frozenset[str]] = {
    "schedule": ALL,
    "clients": ALL,
    "client": ALL,
    "worklists": ALL,
    "retention": frozenset({"owner", "practitioner", "auditor"}),
    "referrals": frozenset({"owner", "practitioner", "auditor"}),
    "audit": frozenset({"owner", "auditor"}),
}

ACTIONS: dict[str, frozenset[str]] = {
    "book": RECORDERS,
    "complete": RECORDERS,  # the front desk without measures or notes
    "cancel": RECORDERS,
    "no-show": RECORDERS,
    "recall": RECORDERS,
    "intake": RECORDERS,
    "referral": RECORDERS,  # a referral received
    "contact": RECORDERS,
    "measure": frozenset({"owner", "practitioner"}),  # measures and notes of a visit
    "assess": frozenset({"owner", "practitioner"}),
}


def may_see(role: str, page: str) -> bool:
    return role in PAGES[page]


def may_do(role: str, action: str) -> bool:
    return role in ACTIONS[action]


def sees_clinical(role: str) -> bool:
    return role in CLINICAL
