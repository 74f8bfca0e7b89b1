"""A typed prefix of an id, however it is written, is the start of the id's canonical text."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from practice_es.projections.references import MIN_PREFIX, full_id, hex_prefix, short_id


@given(st.uuids(), st.integers(MIN_PREFIX, 32), st.booleans())
def test_any_prefix_of_six_or_more_digits_starts_the_canonical_id(
        ident: UUID, digits: int, upper: bool) -> None:
    typed = ident.hex[:digits]
    prefix = hex_prefix(typed.upper() if upper else typed)
    assert prefix is not None and str(ident).startswith(prefix)
    assert hex_prefix(str(ident)[:digits + prefix.count("-")]) == prefix  # dashes ignored


@given(st.uuids(), st.integers(0, MIN_PREFIX - 1))
def test_fewer_digits_are_no_prefix(ident: UUID, digits: int) -> None:
    assert hex_prefix(ident.hex[:digits]) is None


@given(st.uuids())
def test_a_whole_id_in_any_spelling_and_its_short_id(ident: UUID) -> None:
    assert full_id(ident.hex.upper()) == ident == full_id(f" {ident} ")
    assert hex_prefix(short_id(ident)) == str(ident)[:8]


def test_text_that_is_not_hex_is_no_prefix() -> None:
    assert hex_prefix("Ann Lee") is None and hex_prefix("abcdeg") is None
    assert full_id("Ann Lee") is None
