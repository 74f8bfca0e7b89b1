"""A group's report (SPEC §11): one row per practice and a group total computed from the
facts — each practice's counts are summed, then the rates divided, never averaged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from practice_es.infrastructure.practices import Practice
from practice_es.infrastructure.settings import Settings
from practice_es.reports.window import Window

if TYPE_CHECKING:
    from practice_es.projections.runner import Lag, ProjectionRunner

KINDS = ("retention", "referrals")


@dataclass(frozen=True)
class PracticeFigures:
    practice: str
    facts: dict[str, int]
    kpis: dict[str, Any]
    report: dict[str, Any]  # the practice's own report (its cohorts draw the heatmap)
    lag: Lag | None = None  # how far behind its read models were, read as they are (standby)


def _figures(kind: str, window: Window, by: str) -> Callable[[Connection], tuple[
        dict[str, Any], dict[str, int]]]:
    def make(conn: Connection) -> tuple[dict[str, Any], dict[str, int]]:
        if kind == "retention":
            from practice_es.reports.retention import retention_and_facts

            return retention_and_facts(conn, by, window)
        from practice_es.reports.referrals import referral_facts, referrals_report

        report = referrals_report(conn, window)
        return report, referral_facts(report)
    return make


def kpis_of(kind: str, facts: dict[str, int]) -> dict[str, Any]:
    if kind == "retention":
        from practice_es.reports.retention import retention_kpis

        return retention_kpis(facts)
    from practice_es.reports.referrals import referral_kpis

    return referral_kpis(facts)


def each_practice(settings: Settings, practices: list[Practice], kind: str, window: Window,
                  by: str = "month") -> Iterator[PracticeFigures]:
    """Each practice's report in turn, from its own read models (caught up first, unless
    the settings say not to: a standby)."""
    from practice_es.application import PracticeLedger
    from practice_es.projections.registry import all_projections
    from practice_es.projections.runner import ProjectionRunner
    from practice_es.reports.source import build

    for practice in practices:
        ledger = PracticeLedger(replace(settings, db_url=practice.url, practice=practice.name),
                                create=False)
        runner = ProjectionRunner(ledger, all_projections())
        try:
            lag = runner.lag() if runner.read_only else None
            report, facts = build(ledger, partial(_same, runner), None,
                                  _figures(kind, window, by))
        finally:
            runner.close()
            ledger.close()
        yield PracticeFigures(practice.name, facts, kpis_of(kind, facts), report, lag)


def _same(runner: ProjectionRunner) -> ProjectionRunner:
    return runner


def group_report(figures: list[PracticeFigures], kind: str, window: Window) -> dict[str, Any]:
    total: dict[str, int] = {}
    for each in figures:
        for name, count in each.facts.items():
            total[name] = total.get(name, 0) + count
    if not figures:
        total = {name: 0 for name in _fact_names(kind)}
    return {
        "report": kind,
        **window.as_json(),
        "practices": [{"practice": f.practice, "kpis": f.kpis, "facts": f.facts}
                      for f in figures],
        "total": {"kpis": kpis_of(kind, total), "facts": total},
    }


def _fact_names(kind: str) -> tuple[str, ...]:
    if kind == "retention":
        from practice_es.reports.retention import FACTS

        return FACTS
    from practice_es.reports.referrals import PROVIDER_FACTS, SOURCE_FACTS

    return SOURCE_FACTS + PROVIDER_FACTS
