"""Settings from the command line and the environment (PRACTICE_*)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from practice_es.domain.errors import InvalidInput

DEFAULT_DB = "sqlite:///practice.db"
DEFAULT_LAPSE_AFTER_DAYS = 90
# After an action, who catches the read models up: a detached follower process (the action
# exits at once) or the action's own process before it exits (ADR 14); or nobody: `off`, a
# read-only standby, whose reports read the read models as they are (ADR 31).
CATCH_UP_MODES = ("background", "inline", "off")


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


def catch_up_mode(name: str | None = None) -> str:
    name = (name or os.environ.get("PRACTICE_CATCH_UP") or CATCH_UP_MODES[0]).strip().lower()
    if name not in CATCH_UP_MODES:
        raise InvalidInput("PRACTICE_CATCH_UP",
                           f"'{name}' is not one of {', '.join(CATCH_UP_MODES)}")
    return name


@dataclass(frozen=True)
class Settings:
    """Where the ledger is, who is recording, the practice's time zone, and how the read
    models catch up after an action."""

    db_url: str = DEFAULT_DB
    actor: str = field(default_factory=_os_user)
    zone: ZoneInfo = field(default_factory=practice_zone)
    cipher_key: str | None = None
    catch_up: str = CATCH_UP_MODES[0]
    practice: str | None = None  # the practice of a group selected (its schema is in db_url)

    @classmethod
    def from_env(cls, db_url: str | None = None, actor: str | None = None) -> Settings:
        return cls(
            db_url=db_url or os.environ.get("PRACTICE_DB") or DEFAULT_DB,
            actor=actor or os.environ.get("PRACTICE_ACTOR") or _os_user(),
            zone=practice_zone(),
            cipher_key=os.environ.get("PRACTICE_CIPHER_KEY") or None,
            catch_up=catch_up_mode(),
        )
