"""Domain errors. Each names the rule it enforces, so the CLI can say which rule refused."""

from __future__ import annotations


class PracticeError(Exception):
    """Base of every error the ledger raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as it is (a worker process's error reaches its parent): rebuilding it by
        # calling the class with its message, as Exception does, would not fit __init__.
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(kind: type[PracticeError], args: tuple[object, ...],
             state: dict[str, object]) -> PracticeError:
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class RuleRefused(PracticeError):
    """A rule of SPEC §2 refused the action (exit code 1)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message


class InvalidInput(PracticeError):
    """A value the user gave is not acceptable (exit code 2). Names the field and the rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(InvalidInput):
    """An id names nothing in the ledger (exit code 2: the user gave a wrong id)."""

    # An unknown id is invalid input (exit 2), but where a rule says why, the message names it.
    RULES = {"client": "C1: a client exists from their IntakeRecorded"}

    def __init__(self, kind: str, ident: object) -> None:
        rule = f" ({self.RULES[kind]})" if kind in self.RULES else ""
        super().__init__(kind, f"no {kind.replace('_', ' ')} with id {ident}{rule}")
        self.kind = kind
        self.ident = ident


class ConcurrentChange(PracticeError):
    """Someone else changed the same record at the same moment (exit code 3)."""
