"""Charts drawn as inline SVG for the pages: a measure over time, the cohort heatmap and
new clients by source. Plain SVG text: no chart library is imported to answer a page, the
text is real text (screen readers, zoom), and colours are attributes, not inline styles."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from markupsafe import Markup

INK, GRID, LINE = "#1f2933", "#c8d1da", "#1d6fa5"
W, H, PAD = 560, 200, 40
LABEL_GAP = 58  # px between the dates written under a measure's chart


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}" class="chart">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>")


def measure_chart(name: str, points: list[tuple[str, float]]) -> Markup:
    """One measure's values by date: a line through a dot for each, placed by its date; a
    dot's date and value are written where they do not overprint another's."""
    values = [value for _, value in points]
    top = max([*values, 10.0 if name == "pain" else 1.0])
    low = min([*values, 0.0])
    days = [date.fromisoformat(day) for day, _ in points]
    span = max((days[-1] - days[0]).days, 1) if days else 1

    def x(day: date) -> float:
        return PAD + (day - days[0]).days / span * (W - 2 * PAD) if len(days) > 1 else W / 2

    def y(value: float) -> float:
        return H - PAD - (value - low) / ((top - low) or 1) * (H - 2 * PAD)

    body = [f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="{GRID}"/>',
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="{GRID}"/>',
            f'<text x="{PAD - 6}" y="{H - PAD + 4}" font-size="10" text-anchor="end" '
            f'fill="{INK}">{low:g}</text><text x="{PAD - 6}" y="{PAD + 4}" font-size="10" '
            f'text-anchor="end" fill="{INK}">{top:g}</text>',
            f'<text x="{PAD}" y="20" fill="{INK}" font-size="13">{escape(name)} '
            f"({len(points)} point{'s' if len(points) != 1 else ''})</text>"]
    coords = [(x(day), y(value)) for day, value in zip(days, values, strict=True)]
    if len(coords) > 1:
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    labelled = _spaced([cx for cx, _ in coords])
    for i, ((cx, cy), (day, value)) in enumerate(zip(coords, points, strict=True)):
        body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{LINE}" class="point">'
                    f"<title>{escape(day)}: {value:g}</title></circle>")
        if i in labelled:
            body.append(f'<text x="{cx:.1f}" y="{cy - 8:.1f}" font-size="11" '
                        f'text-anchor="middle" fill="{INK}">{value:g}</text>'
                        f'<text x="{cx:.1f}" y="{H - PAD + 16}" font-size="10" '
                        f'text-anchor="middle" fill="{INK}">{escape(day[2:])}</text>')
    return _svg(W, H, f"{name} over time", body)


def _spaced(xs: list[float]) -> set[int]:
    """The points to write a date and value beside: the last, then going back, each at
    least LABEL_GAP from the one labelled after it (dense visits would overprint)."""
    chosen: set[int] = set()
    nearest = float("inf")
    for i in range(len(xs) - 1, -1, -1):
        if nearest - xs[i] >= LABEL_GAP:
            chosen.add(i)
            nearest = xs[i]
    return chosen


def _green(rate: float) -> str:
    """From pale to deep green as the share retained grows."""
    shade = int(235 - 170 * max(0.0, min(rate, 1.0)))
    return f"rgb({shade},{min(shade + 20, 245)},{shade})"


def cohort_heatmap(data: dict[str, Any]) -> Markup:
    """Rows are cohorts, columns periods since the first visit, colour the share retained."""
    cohorts = data["cohorts"]
    width = max((len(c["rate"]) for c in cohorts), default=1)
    cell, left, top = 44, 120, 30
    body = [f'<text x="{left + cell * k + cell / 2}" y="20" font-size="11" '
            f'text-anchor="middle" fill="{INK}">+{k}</text>' for k in range(width)]
    for row, cohort in enumerate(cohorts):
        y = top + row * 24
        body.append(f'<text x="{left - 6}" y="{y + 16}" font-size="11" text-anchor="end" '
                    f'fill="{INK}">{escape(cohort["cohort"])} ({cohort["clients"]})</text>')
        for k, rate in enumerate(cohort["rate"]):
            colour = "#ffffff" if rate > 0.55 else INK
            body.append(f'<rect x="{left + k * cell}" y="{y}" width="{cell - 2}" height="22" '
                        f'fill="{_green(rate)}"/><text x="{left + k * cell + cell / 2 - 1}" '
                        f'y="{y + 15}" font-size="10" text-anchor="middle" '
                        f'fill="{colour}">{rate:.0%}</text>')
    height = top + 24 * max(len(cohorts), 1) + 10
    return _svg(left + cell * width + 10, height,
                f"Retention by {data['by']}ly cohort", body)


def source_bars(bars: list[tuple[str, int]]) -> Markup:
    """New clients per referral source, one labelled bar each, largest first."""
    most = max((count for _, count in bars), default=1) or 1
    left, span = 220, 300
    body = []
    for row, (label, count) in enumerate(bars):
        y = 10 + row * 26
        length = max(span * count / most, 1)
        body.append(f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end" '
                    f'fill="{INK}">{escape(label)}</text><rect x="{left}" y="{y}" '
                    f'width="{length:.1f}" height="20" fill="{LINE}"/><text '
                    f'x="{left + length + 6:.1f}" y="{y + 15}" font-size="12" '
                    f'fill="{INK}">{count}</text>')
    return _svg(left + span + 60, 20 + 26 * max(len(bars), 1),
                "New clients by referral source", body)
