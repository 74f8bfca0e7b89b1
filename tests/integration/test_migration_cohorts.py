"""The three layouts of the same practice tell the same story: identical retention cohorts."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from practice_es.commands.main import cli
from practice_es.domain.client import Client
from tests.integration.migration_support import decoded, run_import

SAME_PRACTICE = ("generic", "cliniko", "openemr")


def cohorts_from_events(db_url: str) -> dict[str, list[int]]:
    """Each client's cohort is the month of their first completed visit; retained[k] counts
    the clients with a completed visit k months later (SPEC §4), from the ledger's events."""
    months: dict[Any, set[int]] = defaultdict(set)
    for event in decoded(db_url):
        if isinstance(event, Client.VisitCompleted):
            on = event.occurred_on
            months[event.originator_id].add(on.year * 12 + on.month - 1)
    table: dict[int, list[int]] = {}
    last = max(m for seen in months.values() for m in seen)
    for seen in months.values():
        first = min(seen)
        row = table.setdefault(first, [0] * (last - first + 1))
        for month in seen:
            row[month - first] += 1
    return {f"{m // 12}-{m % 12 + 1:02d}": row for m, row in sorted(table.items())}


def retention_report(db_url: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["--db", db_url, "report", "retention", "--format",
                                      "json"])
    assert result.exit_code == 0, result.output
    cohorts: list[dict[str, Any]] = json.loads(result.stdout)["cohorts"]
    return cohorts


@pytest.fixture
def imported(db_url: str, tmp_path: Path) -> dict[str, str]:
    """Each layout imported into a ledger of its own, on the backend under test."""
    urls = {}
    for layout in SAME_PRACTICE:
        url = _sibling(db_url, layout, tmp_path)
        run_import(url, layout, tmp_path)
        urls[layout] = url
    return urls


def _sibling(db_url: str, layout: str, tmp_path: Path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / (layout + '.db')}"
    base, _, schema = db_url.partition("?schema=")
    return f"{base}?schema={schema}" if layout == "generic" else _new_schema(base, schema, layout)


def _new_schema(base: str, schema: str, layout: str) -> str:
    import psycopg

    name = f"{schema}_{layout}"
    with psycopg.connect(base.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    _DROP.append((base, name))
    return f"{base}?schema={name}"


_DROP: list[tuple[str, str]] = []


@pytest.fixture(autouse=True)
def _drop_extra_schemas() -> Any:
    yield
    import psycopg

    while _DROP:
        base, name = _DROP.pop()
        with psycopg.connect(base.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_the_three_layouts_give_identical_cohorts_from_the_ledger(
        imported: dict[str, str]) -> None:
    tables = {layout: cohorts_from_events(url) for layout, url in imported.items()}
    assert tables["generic"] == tables["cliniko"] == tables["openemr"]
    assert sum(row[0] for row in tables["generic"].values()) == 30  # every client came


def test_the_three_layouts_give_identical_retention_reports(imported: dict[str, str]) -> None:
    reports = {layout: retention_report(url) for layout, url in imported.items()}
    assert reports["generic"] == reports["cliniko"] == reports["openemr"]
    assert sum(c["clients"] for c in reports["generic"]) == 30
