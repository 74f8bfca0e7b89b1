"""The mapping file: which file of an export holds what, and in which columns (docs/migration.md).

Every `--format` preset is such a TOML file in `presets/`; `--mapping FILE` reads a user's own
with the same schema, so a new layout needs no code. A column is named by its header text; a
list of columns is joined with a space (first and last name), or with "; " for notes.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from practice_es.domain.client_rules import SOURCE_KINDS
from practice_es.domain.errors import InvalidInput

Status = Literal["completed", "cancelled", "no-show", "scheduled"]
DATE_FORMATS = ("auto", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD")


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


Columns = Annotated[list[str], BeforeValidator(_as_list)]
"""One column or several (given as a string or a list of strings)."""


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: Columns = Field(description="file names or glob patterns of this part of the export")


class MeasureSource(BaseModel):
    """Where one measure (e.g. `pain`) is read: a number in a column, or found by a pattern."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    pattern: str | None = None  # a regular expression whose first group is the number
    code_column: str | None = None  # read only rows whose code is one of `codes`
    codes: list[str] = []


class StatusValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status
    reason: str | None = None


class StatusRule(BaseModel):
    """`status` applies when `column` is set (non-empty), true, or one of the listed values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    when: Literal["set", "true"] | list[str]
    status: Status
    reason: str | None = None


class StatusMapping(BaseModel):
    """How an appointment's status is read: a column of values, or rules over flag columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    values: dict[str, Status | StatusValue] = {}
    rules: list[StatusRule] = []
    # What a row matching nothing is: rejected, a booking, or `open` (a booking unless the
    # same client has a later appointment with an outcome: then a past one, not guessed).
    otherwise: Literal["reject", "scheduled", "open"] = "reject"
    reason: str | None = None  # a column with the cancellation or no-show reason
    reason_codes: dict[str, str] = {}  # the reason column's codes, in words
    cancelled_at: str | None = None  # a column with when the cancellation was made


class ClientsPart(Part):
    id: str
    key: str | None = None  # the key other files use for the client, if not `id`
    name: Columns
    date_of_birth: str | None = None
    died_on: str | None = None
    email: str | None = None
    phone: str | None = None
    since: str | None = None  # when the client came; else their earliest record in the export
    referral_source: str | None = None
    referred_by: str | None = None
    conditions: str | None = None
    medications: str | None = None
    contraindications: str | None = None
    list_separator: str = ";"


class AppointmentsPart(Part):
    id: str
    client: str
    start: str  # a date, or a date and time
    start_time: str | None = None  # a time, when the date and time are separate columns
    booked_on: str | None = None
    kind: Columns = []  # what kind of visit; kept at the head of the visit's notes
    notes: Columns = []
    practitioner: str | None = None  # the therapist's or provider's column: who treats
    status: StatusMapping = StatusMapping(otherwise="scheduled")
    measures: dict[str, MeasureSource] = {}


class DetailsPart(Part):
    """A file that adds notes or measures to visits: joined by appointment id, or to the
    completed visit of the same client that day."""

    join: Literal["appointment", "client-day"]
    appointment: str | None = None
    client: str | None = None
    date: str | None = None
    notes: Columns = []
    measures: dict[str, MeasureSource] = {}


class HistoryPart(Part):
    client: str
    date: str
    conditions: str | None = None
    medications: str | None = None
    contraindications: str | None = None


class ProgramsPart(Part):
    id: str
    client: str
    start: str
    stop: str | None = None
    description: Columns = []
    reason: Columns = []


class Mapping(BaseModel):
    """One legacy layout. `source` namespaces the derived ids (two sources never collide)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    source: str
    description: str = ""
    date_format: Literal["auto", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD"] = "auto"
    encoding: str = "auto"
    clients: ClientsPart
    appointments: AppointmentsPart | None = None
    details: list[DetailsPart] = []
    history: HistoryPart | None = None
    programs: ProgramsPart | None = None
    referral_sources: dict[str, str] = {}

    def parts(self) -> list[tuple[str, Part]]:
        """The parts in the order they are imported (a client before anything about them)."""
        named: list[tuple[str, Part | None]] = [
            ("clients", self.clients), *(("details", d) for d in self.details),
            ("history", self.history), ("appointments", self.appointments),
            ("programs", self.programs),
        ]
        return [(role, part) for role, part in named if part is not None]

    def source_kind(self, label: str) -> str:
        """The SPEC source kind of a legacy referral label (unknown or empty: `other`)."""
        table = {**DEFAULT_REFERRAL_SOURCES, **self.referral_sources}
        return table.get(label.strip().casefold(), "other")


# The labels the samples' READMEs name; a mapping's [referral_sources] adds to or overrides it.
DEFAULT_REFERRAL_SOURCES: dict[str, str] = {
    "doctor referral": "doctor", "doctor": "doctor", "physician": "doctor",
    "friend/family": "client", "friend": "client", "family": "client",
    "client referral": "client",
    "google": "online", "website": "online", "online booking": "online", "yelp": "online",
    "facebook ad": "advertising", "groupon": "advertising", "flyer": "advertising",
    "walk-in": "walk-in", "walk in": "walk-in",
}


def presets() -> list[str]:
    folder = resources.files("practice_es.migration") / "presets"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                  if p.name.endswith(".toml"))


def load_preset(name: str) -> Mapping:
    if name not in presets():
        raise InvalidInput("format", f"'{name}' is not a preset ({', '.join(presets())})")
    text = (resources.files("practice_es.migration") / "presets" / f"{name}.toml").read_text(
        encoding="utf-8")
    return parse_mapping(text, f"preset {name}")


def load_mapping(path: Path) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput("mapping", f"cannot read {path}: {error}") from None
    return parse_mapping(text, str(path))


def parse_mapping(text: str, where: str) -> Mapping:
    try:
        mapping = Mapping.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput("mapping", f"{where} is not valid TOML: {error}") from None
    except RecursionError:
        raise InvalidInput("mapping", f"{where} is nested too deeply to be a mapping") from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput("mapping", f"{where}: {field}: {first['msg']}") from None
    unknown = sorted(set(mapping.referral_sources.values()) - set(SOURCE_KINDS))
    if unknown:
        raise InvalidInput("mapping", f"{where}: referral_sources maps to {unknown[0]!r}, "
                           f"not one of {', '.join(SOURCE_KINDS)}")
    return mapping
