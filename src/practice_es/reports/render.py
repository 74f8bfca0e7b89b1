"""Reports as a person reads them: rich tables (the cohort table shaded by rate), JSON, CSV.

JSON is always the whole document in SPEC §4's shape; CSV is one table (the `view`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from practice_es.infrastructure.formats import dumps, emit_rows, print_table


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def emit(data: dict[str, Any], fmt: str, views: dict[str, tuple[list[dict[str, Any]],
                                                                 Sequence[str]]],
         view: str | None) -> None:
    """JSON: the whole document. CSV: the chosen view (else the first). Table: the chosen
    view, else every view in turn."""
    if fmt == "json":
        click.echo(dumps(data))
        return
    if fmt == "csv":
        rows, columns = views[view or next(iter(views))]
        emit_rows([_rates(row, _four_places) for row in rows], columns, "csv")
        return
    chosen = [view] if view else [name for name in views if name != "all"]
    for name in chosen:
        rows, columns = views[name]
        print_table([_rates(row, percent) for row in rows], columns,
                    title=name.replace("_", " ").capitalize())


def is_rate(name: str) -> bool:
    """A ratio of two counts: printed as a percentage in a table, to 4 places in CSV."""
    return name in ("rate", "adherence") or name.endswith("_rate")


def _rates(row: dict[str, Any], show: Any) -> dict[str, Any]:
    """The row with each rate written by `show` (a KPI row by its KPI's name)."""
    if "kpi" in row and "value" in row:
        if show is percent:
            return {**row, "value": _kpi_text(row["kpi"], row["value"])}
        return {**row, "value": show(row["value"])} if is_rate(row["kpi"]) else row
    return {k: show(v) if is_rate(k) and not isinstance(v, str) else v
            for k, v in row.items()}


def _four_places(value: float | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _shade(rate: float) -> str:
    """A green scale: pale at 0 %, deep at 100 %, with text that stays readable on it."""
    low, high = (235, 245, 235), (0, 100, 60)
    r, g, b = (round(lo + (hi - lo) * rate) for lo, hi in zip(low, high, strict=True))
    text = "white" if rate > 0.5 else "black"
    return f"{text} on rgb({r},{g},{b})"


def cohort_table(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    width = max((len(c["rate"]) for c in data["cohorts"]), default=0)
    table = Table(title=f"Retention by {data['by']} (share of each cohort seen k periods on)",
                  header_style="bold")
    table.add_column("cohort")
    table.add_column("clients", justify="right")
    for k in range(width):
        table.add_column(f"+{k}", justify="right")
    for cohort in data["cohorts"]:
        cells = [f"[{_shade(rate)}] {rate:.0%} [/]" for rate in cohort["rate"]]
        table.add_row(cohort["cohort"], str(cohort["clients"]), *cells)
    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200).print(table)


def retention_views(data: dict[str, Any]) -> dict[str, tuple[list[dict[str, Any]],
                                                               Sequence[str]]]:
    cohorts = [
        {"cohort": c["cohort"], "clients": c["clients"], "k": k, "retained": n,
         "rate": c["rate"][k]}
        for c in data["cohorts"] for k, n in enumerate(c["retained"])
    ]
    kpis = [{"kpi": name, "value": value} for name, value in data["kpis"].items()]
    return {
        "cohorts": (cohorts, ("cohort", "clients", "k", "retained", "rate")),
        "kpis": (kpis, ("kpi", "value")),
        "dropoff": (data["dropoff"], ("visit", "reached", "stopped", "still_coming",
                                      "stop_rate")),
    }


def emit_retention(data: dict[str, Any], fmt: str, view: str | None) -> None:
    views = retention_views(data)
    if fmt != "table" or view not in (None, "cohorts"):
        emit(data, fmt, views, view)
        return
    cohort_table(data)
    if view is None:
        kpis = [{"kpi": k, "value": _kpi_text(k, v)} for k, v in data["kpis"].items()]
        print_table(kpis, ("kpi", "value"),
                    title="KPIs (each defined in: practice report retention --help)")
        dropoff = [{**row, "stop_rate": percent(row["stop_rate"])} for row in data["dropoff"]]
        print_table(dropoff, views["dropoff"][1], title="Drop-off by visit number")


def _kpi_text(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name.endswith("_rate"):
        return percent(value)
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def referral_views(data: dict[str, Any]) -> dict[str, tuple[list[dict[str, Any]],
                                                              Sequence[str]]]:
    sources = [{**row, "referrer": row.get("referrer_name") or row["referrer"]}
               for row in data["sources"]]
    return {
        "sources": (sources, ("kind", "referrer", "referrals", "converted",
                                      "conversion_rate", "new_clients", "visits",
                                      "active_clients")),
        "providers": (data["providers"], ("provider", "referred_in", "referred_out",
                                          "care_reports_sent")),
    }


def timeline_views(data: dict[str, Any]) -> dict[str, tuple[list[dict[str, Any]],
                                                              Sequence[str]]]:
    entries = [{**e, "measures": _measures_text(e["measures"])} for e in data["entries"]]
    programs = [
        {**p, "measures": "; ".join(
            f"{name} {m['first']}→{m['latest']} ({m['change']:+g})"
            for name, m in p["measures"].items())}
        for p in data["programs"]
    ]
    return {
        "entries": (entries, ("on", "event", "summary", "program_id", "measures")),
        "programs": (programs, ("program_id", "phase", "status", "visits_planned",
                                "visits_completed", "adherence", "measures")),
    }


def _measures_text(measures: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in measures.items())


CONTACT = ("name", "phone", "email")
WORKLISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "recall_due": ("recall due", (*CONTACT, "last_visit_on", "reasons", "client_id")),
    "reevaluation_due": ("re-evaluation due", (*CONTACT, "phase", "visits_completed",
                                               "reevaluate_after", "reasons", "program_id",
                                               "client_id")),
    "reactivate": ("lapsed: reactivate", (*CONTACT, "lapsed_on", "last_visit_on",
                                          "recalled_on", "reasons", "client_id")),
    "prospects": ("prospect: nothing booked", (*CONTACT, "intake_on", "reasons",
                                               "client_id")),
    "awaiting_answer": ("referral: awaiting answer", (*CONTACT, "providers", "made_on",
                                                      "reasons", "referral_ids", "client_id")),
}
# Every list in one table, ready for a mailing or SMS tool: who, how to reach them, why.
ALL_WORKLISTS = ("list", *CONTACT, "reasons", "client_id")


def worklist_views(data: dict[str, Any]) -> dict[str, tuple[list[dict[str, Any]],
                                                              Sequence[str]]]:
    """One view per list, and `all`: every row with the list it is on (CSV's default).
    A list in a cell (reasons, referrals) reads as its items joined by "; "."""
    views: dict[str, tuple[list[dict[str, Any]], Sequence[str]]] = {}
    every = []
    for key, (label, columns) in WORKLISTS.items():
        rows = [{"list": label, **{k: _joined(v) for k, v in row.items()}}
                for row in data[key]]
        every.extend(rows)
        views[key] = (rows, columns)
    return {"all": (every, ALL_WORKLISTS), **views}


def _joined(value: Any) -> Any:
    return "; ".join(str(item) for item in value) if isinstance(value, list) else value
