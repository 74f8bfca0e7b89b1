"""Outcome measures and their valid ranges.

`pain` is the 0–10 numeric pain rating scale. The other well-known instruments have their
published ranges; any other name is accepted as a plain number (a range of motion in degrees,
a practice's own scale), as long as it is finite.
"""

from __future__ import annotations

import math
import re

from practice_es.domain.errors import InvalidInput

KNOWN_RANGES: dict[str, tuple[float, float]] = {
    "pain": (0, 10),  # numeric pain rating scale (NPRS)
    "ndi": (0, 100),  # Neck Disability Index, as a percentage
    "odi": (0, 100),  # Oswestry Disability Index, as a percentage
    "psfs": (0, 10),  # Patient-Specific Functional Scale, mean item score
}
ROM_RANGE = (0.0, 360.0)  # a range of motion, in degrees
_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,39}$")


def measure_range(name: str) -> tuple[float, float] | None:
    if name in KNOWN_RANGES:
        return KNOWN_RANGES[name]
    if name.startswith("rom") or name.endswith("_deg"):
        return ROM_RANGE
    return None


def validate_measure(name: str, value: float) -> float:
    """Return the value if it is valid for the measure, else raise InvalidInput naming it."""
    if not _NAME.match(name):
        raise InvalidInput(
            "measure", f"'{name}' is not a measure name (lower-case letters, digits, - or _)"
        )
    if not math.isfinite(value):
        raise InvalidInput(f"measure {name}", "must be a finite number")
    bounds = measure_range(name)
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        low, high = bounds
        raise InvalidInput(
            f"measure {name}", f"{value:g} is outside its range {low:g}–{high:g}"
        )
    return value


def validate_measures(measures: dict[str, float]) -> dict[str, float]:
    return {name: validate_measure(name, value) for name, value in measures.items()}


# A number as a person writes it: digits, one decimal point, an exponent. Not Python's wider
# grammar: `1_0` (read as 10), `nan`, `inf` and `½` are typing mistakes.
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def read_number(text: str) -> float:
    """The number `text` spells, or ValueError."""
    stripped = text.strip()
    if NUMBER.fullmatch(stripped) is None:
        raise ValueError(f"'{text}' is not a number")
    value = float(stripped)
    if math.isinf(value):
        raise ValueError(f"'{text}' is too large a number")
    return value


def parse_measure(text: str) -> tuple[str, float]:
    """Parse `NAME=VALUE` as given on the command line."""
    name, sep, raw = text.partition("=")
    name = name.strip().lower()
    if not sep or not name:
        raise InvalidInput("measure", f"'{text}' is not NAME=VALUE (for example pain=4)")
    try:
        value = read_number(raw)
    except ValueError as error:
        raise InvalidInput(f"measure {name}", str(error)) from None
    return name, validate_measure(name, value)
