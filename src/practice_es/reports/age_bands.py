"""Retention by age band (`report retention --by age-band`, SPEC §12): the cohorts are the
clients' age bands at their first completed visit, each followed month by month from it.

Only the year of birth is kept through erasure, so an age is the first visit's year minus the
year of birth (a year out at most), and erased clients count in their band like any other.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import Connection, select

from practice_es.projections.clients import client_directory
from practice_es.reports.attendance import attendance
from practice_es.reports.retention import retention_report
from practice_es.reports.window import Window, period_index

BANDS = ((0, "0-17"), (18, "18-34"), (35, "35-49"), (50, "50-64"), (65, "65+"))
UNKNOWN = "unknown"  # no date of birth given


def band_of(age: int | None) -> str:
    """The label of the band an age falls in."""
    if age is None:
        return UNKNOWN
    label = BANDS[0][1]
    for start, name in BANDS:
        if age >= start:
            label = name
    return label


def age_band_report(conn: Connection, window: Window | None = None) -> dict[str, Any]:
    """The retention report with age bands for cohorts (months since the first visit)."""
    window = window or Window()
    report = retention_report(conn, "month", window)
    born = {row.client_id: (row.birth_year, row.status == "erased") for row in conn.execute(
        select(client_directory.c.client_id, client_directory.c.birth_year,
               client_directory.c.status))}
    sizes: Counter[str] = Counter()
    erased: Counter[str] = Counter()
    retained: dict[str, Counter[int]] = defaultdict(Counter)
    for client in attendance(conn, window):
        if client.first is None or client.first not in window:
            continue
        year, gone = born.get(client.client_id, (None, False))
        band = band_of(client.first.year - year if year is not None else None)
        sizes[band] += 1
        erased[band] += gone
        start = period_index(client.first, "month")
        retained[band].update({period_index(done, "month") - start for done in client.completed})
    report["by"] = "age-band"
    report["cohorts"] = [_cohort(band, sizes[band], erased[band], retained[band])
                         for band in [name for _, name in BANDS] + [UNKNOWN] if sizes[band]]
    return report


def _cohort(band: str, size: int, erased: int, months: Counter[int]) -> dict[str, Any]:
    counts = [months[k] for k in range(max(months, default=0) + 1)]
    return {"cohort": band, "clients": size, "erased": erased, "retained": counts,
            "rate": [n / size for n in counts]}
