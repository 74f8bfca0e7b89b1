"""The pages (SPEC §10): each checks the role, reads through the FrontDesk, renders."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from practice_es.domain.client import SOURCE_KINDS
from practice_es.domain.errors import InvalidInput, NotFound
from practice_es.web import charts, readings, roles
from practice_es.web.desk import FrontDesk
from practice_es.web.guard import require_page
from practice_es.web.views import render

WORKLIST_TITLES = {"recall_due": "Due a recall", "reevaluation_due": "Programs due a re-evaluation",
                   "reactivate": "Lapsed clients to reactivate", "prospects": "Prospects to book",
                   "awaiting_answer": "Referrals awaiting an answer"}
WORKLIST_SHOWN = 200  # rows of a list on the page: a day's work, not a 50,000-client table
RECALLABLE = frozenset({"recall_due", "reactivate", "prospects"})  # lists a recall answers


def _desk(request: Request) -> FrontDesk:
    desk: FrontDesk = request.app.state.desk
    return desk


def _day(text: str | None, default: date | None, name: str = "day") -> Any:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"{name}: not a date (YYYY-MM-DD)") from None


async def schedule(request: Request) -> Response:
    session = require_page(request, "schedule")
    desk = _desk(request)
    day = _day(request.query_params.get("day"), desk.now().date())
    rows = await run_in_threadpool(desk.read, lambda conn: _day_sheet(conn, desk, day))
    return render(request, "schedule.html", day=day, rows=rows,
                  previous=day - timedelta(days=1), following=day + timedelta(days=1),
                  week=timedelta(days=7),
                  clinical=roles.sees_clinical(session.user.role))


def _day_sheet(conn: Any, desk: FrontDesk, day: date) -> list[dict[str, Any]]:
    """`practice schedule`'s day sheet, its times as the page writes them."""
    from practice_es.reports.schedule import schedule
    from practice_es.reports.window import Window

    rows = schedule(conn, desk.settings.zone, Window(day, day))
    for row in rows:
        row["at"] = datetime.fromisoformat(row["at"]).replace(tzinfo=None)
    return rows


async def clients(request: Request) -> Response:
    require_page(request, "clients")
    text = (request.query_params.get("q") or "").strip()
    rows = (await run_in_threadpool(_desk(request).read, lambda c: readings.find(c, text))
            if text else [])
    return render(request, "clients.html", q=text, rows=rows, limit=readings.LIST_LIMIT,
                  sources=SOURCE_KINDS)


def client_id(request: Request) -> str:
    try:
        return str(UUID(request.path_params["client_id"]))
    except ValueError:
        raise HTTPException(404, "no such client") from None


async def client(request: Request) -> Response:
    session = require_page(request, "client")
    ident = client_id(request)
    desk = _desk(request)
    clinical = roles.sees_clinical(session.user.role)
    card = await run_in_threadpool(desk.read, lambda conn: _card(conn, ident, desk, clinical))
    if card is None:
        raise HTTPException(404, "no such client")
    return render(request, "client.html", clinical=clinical,
                  now=desk.now().strftime("%Y-%m-%dT%H:%M"), **card)


def _card(conn: Any, ident: str, desk: FrontDesk, clinical: bool) -> dict[str, Any] | None:
    from practice_es.reports.timeline import timeline_report

    found = readings.directory_row(conn, ident)
    if found is None:
        return None
    report = timeline_report(conn, ident, desk.now().date())
    programs = report["programs"]
    card: dict[str, Any] = {"client": found, "bookings": readings.bookings(conn, ident)}
    if not clinical:  # the front desk: a program's plan and progress, no measures or text
        card["programs"] = [{k: p[k] for k in ("program_id", "phase", "status",
                                                "visits_planned", "visits_completed")}
                            for p in programs]
        return card
    series = readings.measure_series(report["entries"])
    card.update(programs=programs, entries=list(reversed(report["entries"])),
                charts=[charts.measure_chart(name, points) for name, points in series.items()])
    return card


async def worklists(request: Request) -> Response:
    require_page(request, "worklists")
    desk = _desk(request)
    from practice_es.web import kept_reports

    data = await run_in_threadpool(kept_reports.worklists, desk, desk.now().date())
    lists = [(key, rows[:WORKLIST_SHOWN], len(rows)) for key, rows in data.items()
             if isinstance(rows, list)]
    return render(request, "worklists.html", data=data, lists=lists, titles=WORKLIST_TITLES,
                  recallable=RECALLABLE)


async def retention(request: Request) -> Response:
    require_page(request, "retention")
    from practice_es.web import kept_reports

    by = "quarter" if request.query_params.get("by") == "quarter" else "month"
    window = _window(request)
    data = await run_in_threadpool(kept_reports.retention, _desk(request), by, window)
    return render(request, "retention.html", data=data, chart=charts.cohort_heatmap(data),
                  window=window)


async def referrals(request: Request) -> Response:
    require_page(request, "referrals")
    from practice_es.reports.charts import _bars
    from practice_es.web import kept_reports

    window = _window(request)
    data = await run_in_threadpool(kept_reports.referrals, _desk(request), window)
    bars = sorted(_bars(data["sources"]).items(), key=lambda item: (-item[1], item[0]))
    referring = [s["referrer"] for s in data["sources"] if s["kind"] == "client"]
    names = await run_in_threadpool(_desk(request).read,
                                    lambda conn: readings.names(conn, referring))
    return render(request, "referrals.html", data=data, chart=charts.source_bars(bars),
                  window=window, names=names)


def _window(request: Request) -> Any:
    from practice_es.reports.window import Window

    params = request.query_params
    try:
        return Window(_day(params.get("from"), None, "from"), _day(params.get("to"), None, "to"))
    except InvalidInput as error:
        raise HTTPException(400, str(error)) from None


async def audit(request: Request) -> Response:
    require_page(request, "audit")
    ident = UUID(client_id(request))
    desk = _desk(request)
    as_of = _moment(request.query_params.get("as_of"))
    verify = request.query_params.get("verify") == "1"
    try:
        history, verification = await run_in_threadpool(_audit, desk, ident, as_of, verify)
    except NotFound:
        raise HTTPException(404, "no such client") from None
    if not history.entries and history.state is None and as_of is None:
        raise HTTPException(404, "no such client")
    return render(request, "audit.html", history=history, verification=verification,
                  as_of=request.query_params.get("as_of") or "")


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, "as_of: not a date and time (YYYY-MM-DDTHH:MM)") from None


def _audit(desk: FrontDesk, ident: UUID, as_of: datetime | None, verify: bool
           ) -> tuple[Any, Any]:
    """The history (as recorded by `as_of`) and, when asked, the whole chain verified (it
    reads every event, so only on request)."""
    from practice_es.audit.api import history_of, verify_ledger

    with desk.lock:
        history = history_of(desk.ledger, desk.runner, ident, as_of)
        return history, verify_ledger(desk.ledger) if verify else None


def routes() -> list[Route]:
    return [
        Route("/", schedule),
        Route("/clients", clients),
        Route("/clients/{client_id}", client),
        Route("/worklists", worklists),
        Route("/reports/retention", retention),
        Route("/reports/referrals", referrals),
        Route("/audit/{client_id}", audit),
    ]
