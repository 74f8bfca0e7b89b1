"""Settings from the command line and the environment (PRACTICE_*)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from practice_es.domain.errors import InvalidInput

DEFAULT_DB = "sqlite:///practice.db"
DEFAULT_LAPSE_AFTER_DAYS = 90


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "unknown"


def practice_zone(name: str | None = None) -> ZoneInfo:
    name = name or os.environ.get("PRACTICE_TZ") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("PRACTICE_TZ", f"'{name}' is not a known time zone") from None


@dataclass(frozen=True)
class Settings:
    """Where the ledger is, who is recording, and the practice's time zone."""

    db_url: str = DEFAULT_DB
    actor: str = field(default_factory=_os_user)
    zone: ZoneInfo = field(default_factory=practice_zone)
    cipher_key: str | None = None

    @classmethod
    def from_env(cls, db_url: str | None = None, actor: str | None = None) -> Settings:
        return cls(
            db_url=db_url or os.environ.get("PRACTICE_DB") or DEFAULT_DB,
            actor=actor or os.environ.get("PRACTICE_ACTOR") or _os_user(),
            zone=practice_zone(),
            cipher_key=os.environ.get("PRACTICE_CIPHER_KEY") or None,
        )
