"""Mapping files: the presets load, a bad file is refused naming the field, labels map."""

from __future__ import annotations

import pytest

from practice_es.domain.errors import InvalidInput
from practice_es.migration.extract import normalise_label
from practice_es.migration.mapping import load_preset, parse_mapping, presets


def test_every_preset_is_a_valid_mapping_file() -> None:
    assert presets() == ["cliniko", "generic", "openemr", "synthea"]
    for name in presets():
        mapping = load_preset(name)
        assert mapping.name == mapping.source == name
        assert mapping.clients.file


def test_an_unknown_preset_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="not a preset"):
        load_preset("excel")


@pytest.mark.parametrize(("text", "field"), [
    ('name = "x"\nsource = "x"\n', "clients"),
    ('name = "x"\nsource = "x"\n[clients]\nfile = "c.csv"\nid = "Id"\nname = "N"\n'
     '[appointments]\nfile = "a.csv"\nid = "Id"\nclient = "C"\nstart = "S"\n'
     '[appointments.status]\notherwise = "guess"\n', "appointments.status.otherwise"),
    ('name = "x"\nsource = "x"\n[clients]\nfile = "c.csv"\nid = "Id"\nname = "N"\n'
     '[referral_sources]\nradio = "broadcast"\n', "referral_sources"),
    ("name = [", "not valid TOML"),
])
def test_a_bad_mapping_is_refused_naming_what_is_wrong(text: str, field: str) -> None:
    with pytest.raises(InvalidInput, match=field.replace(".", r"\.")):
        parse_mapping(text, "mine.toml")


@pytest.mark.parametrize(("label", "kind"), [
    ("Doctor Referral", "doctor"), ("Friend/Family", "client"), ("Google", "online"),
    ("Online Booking", "online"), ("Facebook Ad", "advertising"), ("Groupon", "advertising"),
    ("Flyer", "advertising"), ("Walk-in", "walk-in"), ("", "other"), ("Radio", "other")])
def test_referral_labels_map_to_the_source_kinds_of_the_spec(label: str, kind: str) -> None:
    assert load_preset("generic").source_kind(label) == kind


def test_a_mapping_can_add_its_own_labels() -> None:
    mapping = parse_mapping('name = "x"\nsource = "x"\n[clients]\nfile = "c.csv"\nid = "Id"\n'
                            'name = "N"\n[referral_sources]\n"gp letter" = "doctor"\n', "m")
    assert mapping.source_kind("GP Letter") == "doctor"
    assert mapping.source_kind("Google") == "online"


@pytest.mark.parametrize(("label", "same"), [("No-Show", "no show"), ("NO_SHOW", "no show"),
                                             ("Canceled ", "canceled"), ("-", "-")])
def test_status_labels_compare_ignoring_case_and_separators(label: str, same: str) -> None:
    assert normalise_label(label) == same
