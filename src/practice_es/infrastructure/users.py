"""The people who sign in to the front desk: users with a role, their sign-in failures and
their sessions, in tables of their own in the ledger's database (not events about clients).

Passwords are kept as argon2 hashes only. A session is a random token whose SHA-256 is kept
here, so signing out or disabling a user ends it at once and a copied table opens none.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
)

from practice_es.domain.errors import InvalidInput
from practice_es.infrastructure.store import StoreLocation

ROLES = ("owner", "practitioner", "front-desk", "auditor")
IDLE_LIMIT = timedelta(minutes=30)
SLOW_AFTER = 3  # failed sign-ins in a row before each next answer is slowed down
LOCK_AFTER = 6  # failed sign-ins in a row that lock the name
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD = 10
# argon2's parameters: its library's defaults (RFC 9106's low-memory choice); tests lower them.
HASH_SETTINGS: dict[str, Any] = {}
_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
Clock = Callable[[], datetime]

staff = MetaData()
users = Table(
    "web_users", staff,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
)
sign_ins = Table(
    "web_sign_in_failures", staff,
    Column("name", String(64), primary_key=True),  # also names no user has: no user probing
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime),
)
sessions = Table(
    "web_sessions", staff,
    Column("token_hash", String(64), primary_key=True),
    Column("name", String(64), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("last_seen", DateTime, nullable=False),
)
secrets_table = Table(
    "web_secrets", staff,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
)


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool = False


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: the user, or why not and how long to hold the answer back."""

    user: User | None
    locked: bool = False
    delay: float = 0.0


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher(**HASH_SETTINGS)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput("name", f"'{name}' must be lower-case letters, digits, '.', '_' "
                           "or '-', starting with a letter (at most 64)")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput("role", f"'{role}' is not one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password", f"must be at least {MIN_PASSWORD} characters")
    return password


def staff_engine(location: StoreLocation) -> Engine:
    """The ledger's database, for the staff tables (on PostgreSQL, in the ledger's schema)."""
    if location.backend == "sqlite":
        engine = create_engine(location.sqlalchemy_url())

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.execute("PRAGMA busy_timeout = 30000")

        return engine
    connect_args: dict[str, Any] = {"connect_timeout": 5}
    if location.schema:
        connect_args["options"] = f"-csearch_path={location.schema}"
    return create_engine(location.sqlalchemy_url(), connect_args=connect_args)


class UserBook:
    """Users, sign-ins and sessions. `clock` gives naive UTC (tests move it by hand)."""

    def __init__(self, location: StoreLocation, clock: Clock = utc_now) -> None:
        self.engine = staff_engine(location)
        self.clock = clock
        staff.create_all(self.engine, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    # -- users ------------------------------------------------------------------------------

    def add(self, name: str, role: str, password: str) -> User:
        check_name(name), check_role(role), check_password(password)
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first():
                raise InvalidInput("name", f"a user '{name}' already exists")
            conn.execute(users.insert().values(
                name=name, role=role, password_hash=_hasher().hash(password), disabled=False,
                created_at=self.clock()))
        return User(name, role)

    def all(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [User(row.name, row.role, bool(row.disabled)) for row in rows]

    def get(self, name: str) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise InvalidInput("name", f"no user '{name}'")
        return User(row.name, row.role, bool(row.disabled))

    def disable(self, name: str) -> None:
        self.get(name)
        with self.engine.begin() as conn:
            conn.execute(users.update().where(users.c.name == name).values(disabled=True))
            conn.execute(sessions.delete().where(sessions.c.name == name))

    def set_password(self, name: str, password: str) -> None:
        self.get(name)
        check_password(password)
        with self.engine.begin() as conn:
            conn.execute(users.update().where(users.c.name == name)
                         .values(password_hash=_hasher().hash(password)))
            conn.execute(sessions.delete().where(sessions.c.name == name))
            conn.execute(sign_ins.delete().where(sign_ins.c.name == name))

    # -- signing in -------------------------------------------------------------------------

    def sign_in(self, name: str, password: str) -> SignIn:
        """Check a password; failures in a row slow the next answers, then lock the name."""
        now = self.clock()
        with self.engine.begin() as conn:
            failed = conn.execute(select(sign_ins).where(sign_ins.c.name == name)).first()
            if failed is not None and failed.locked_until and failed.locked_until > now:
                return SignIn(None, locked=True)
            row = conn.execute(select(users).where(users.c.name == name)).first()
            stored = row.password_hash if row is not None else _unknown_hash()
            if _verify(stored, password) and row is not None and not row.disabled:
                conn.execute(sign_ins.delete().where(sign_ins.c.name == name))
                return SignIn(User(row.name, row.role))
            failures = (failed.failures if failed is not None else 0) + 1
            locked_until = now + LOCK_FOR if failures >= LOCK_AFTER else None
            conn.execute(sign_ins.delete().where(sign_ins.c.name == name))
            conn.execute(sign_ins.insert().values(name=name, failures=failures,
                                                  locked_until=locked_until))
        delay = float(2 ** (failures - SLOW_AFTER)) if failures >= SLOW_AFTER else 0.0
        return SignIn(None, locked=locked_until is not None, delay=min(delay, 8.0))

    # -- sessions ---------------------------------------------------------------------------

    def open_session(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            # Sessions left idle (never signed out) go as another one opens.
            conn.execute(sessions.delete().where(sessions.c.last_seen
                                                 < self.clock() - IDLE_LIMIT))
            conn.execute(sessions.insert().values(
                token_hash=_digest(token), name=user.name, csrf=secrets.token_urlsafe(32),
                last_seen=self.clock()))
        return token

    def session(self, token: str) -> Session | None:
        """The session of a token, its idle time reset; None once idle 30 minutes."""
        now = self.clock()
        key = _digest(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(sessions.c.csrf, sessions.c.last_seen, users.c.name, users.c.role,
                       users.c.disabled)
                .join(users, users.c.name == sessions.c.name)
                .where(sessions.c.token_hash == key)).first()
            if row is None:
                return None
            if row.disabled or now - row.last_seen > IDLE_LIMIT:
                conn.execute(sessions.delete().where(sessions.c.token_hash == key))
                return None
            conn.execute(sessions.update().where(sessions.c.token_hash == key)
                         .values(last_seen=now))
        return Session(User(row.name, row.role), row.csrf)

    def close_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == _digest(token)))

    def signing_key(self) -> str:
        """The key that signs the front desk's cookies, made once per ledger."""
        with self.engine.begin() as conn:
            row = conn.execute(select(secrets_table.c.value)
                               .where(secrets_table.c.name == "cookies")).first()
            if row is not None:
                return str(row.value)
            value = secrets.token_urlsafe(48)
            conn.execute(secrets_table.insert().values(name="cookies", value=value))
            return value


_UNKNOWN: list[str] = []


def _unknown_hash() -> str:
    """A hash to check a name no user has against: the answer takes as long as for one."""
    if not _UNKNOWN:
        _UNKNOWN.append(_hasher().hash(secrets.token_urlsafe(16)))
    return _UNKNOWN[0]


def _verify(stored: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False
