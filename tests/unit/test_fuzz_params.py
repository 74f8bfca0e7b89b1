"""Hostile input at the edge (hypothesis): whatever a user types — any Unicode, bytes that are
not UTF-8 (as the shell hands them to Python), huge strings — the CLI's parameter types and
the measure parser return a valid value or refuse it cleanly (click's BadParameter, exit 2;
InvalidInput naming the field), and CSV output never starts a cell with a formula."""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime
from typing import Any
from uuid import UUID

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practice_es.commands.output import csv_safe, emit_rows
from practice_es.commands.params import DATE, DATETIME, ID, MEASURE
from practice_es.domain.errors import InvalidInput
from practice_es.domain.measures import measure_range, parse_measure
from tests.soak import quick_and_soak

FORMULA = ("=", "+", "-", "@", "\t", "\r")
# What argv can hold: any text, bytes that are not UTF-8 (surrogate-escaped), huge values.
HOSTILE = (st.text() | st.binary().map(lambda b: b.decode("utf-8", "surrogateescape"))
           | st.builds(lambda part, times: part * times, st.text(min_size=1, max_size=9),
                       st.integers(1_000, 20_000))
           | st.sampled_from(["=cmd|' /C calc'!A0", "2026-02-30", "2026-03-01T25:00",
                              "pain=11", "pain=nan", "pain=inf", "rom=-1", "=1+1",
                              "00000000-0000-0000-0000-000000000000", "\x00", "1e309"]))
MEASURE_TEXT = HOSTILE | st.builds(
    lambda name, value: f"{name}={value}",
    st.sampled_from(["pain", "ndi", "odi", "psfs", "rom_flexion", "neck_deg", "grip", "Pain",
                     "", "1x"]),
    st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8))
EXAMPLES = quick_and_soak(300, 20_000)


def fuzz(examples: int, strategy: Any) -> Any:
    return lambda check: settings(max_examples=examples, deadline=None, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.large_base_example])(given(strategy)(check))


@pytest.mark.parametrize("examples", EXAMPLES)
@pytest.mark.parametrize(("param", "kind"), [(DATETIME, datetime), (DATE, date), (ID, UUID),
                                             (MEASURE, tuple)])
def test_a_parameter_is_parsed_or_refused_as_bad_usage(param: click.ParamType, kind: type,
                                                       examples: int) -> None:
    @fuzz(examples, MEASURE_TEXT if param is MEASURE else HOSTILE)
    def check(text: str) -> None:
        try:
            value = param.convert(text, None, None)
        except click.BadParameter as refusal:
            assert refusal.exit_code == 2
        else:
            assert isinstance(value, kind)

    check()


@pytest.mark.parametrize("examples", EXAMPLES)
def test_a_measure_is_in_its_range_or_refused_naming_it(examples: int) -> None:
    @fuzz(examples, MEASURE_TEXT)
    def check(text: str) -> None:
        try:
            name, value = parse_measure(text)
        except InvalidInput as refusal:
            assert refusal.field.startswith("measure")
            return
        assert math.isfinite(value)
        bounds = measure_range(name)
        assert bounds is None or bounds[0] <= value <= bounds[1]

    check()


def cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(click, "echo", lambda text, nl=True: out.write(text))
        emit_rows(rows, ["name", "note"], "csv")
    csv.field_size_limit(10**7)  # our huge cells are read back whole
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1:]


@pytest.mark.parametrize("examples", EXAMPLES)
def test_csv_output_never_starts_a_cell_with_a_formula(examples: int) -> None:
    """`=cmd|…` in a client's name must reach a spreadsheet as text: prefixed with '."""
    @fuzz(examples, st.lists(st.tuples(HOSTILE, HOSTILE), max_size=5))
    def check(pairs: list[tuple[str, str]]) -> None:
        rows = [{"name": name, "note": note} for name, note in pairs]
        for row, line in zip(rows, cells(rows), strict=True):
            for original, cell in zip((row["name"], row["note"]), line, strict=True):
                assert not cell.startswith(FORMULA)
                assert cell == csv_safe(original)
                assert cell.removeprefix("'") == original or cell == original

    check()
