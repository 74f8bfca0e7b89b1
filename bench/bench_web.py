"""The front desk's pages, server side, beside a bare "hello" route of the same framework.

    python -m bench.run --scale full --only web --no-postgres   # on the 1M-appointment ledger
    python -m bench.bench_web --db sqlite:///demo/practice.db  # on a ledger you have
    python -m bench.bench_web --build full --keep /tmp/web-bench  # builds the 1M ledger first

Each page is asked `repeats` times in-process (Starlette's TestClient: no network, the same
client overhead for the hello route), signed in as an owner; the read models are caught up by
a first, unmeasured request. The day sheet is the ledger's busiest day, the card its busiest
client: the worst a front desk meets.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Figure, load_average, median, p99, print_table, repeat_ms

PAGE_TARGET_MS = 100
REPORT_TARGET_MS = 300
USER, PASSWORD = "bench-owner", "bench password 1"


def hello_ms(repeats: int) -> list[float]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    with TestClient(Starlette(routes=[Route("/", hello)])) as client:
        client.get("/")
        return repeat_ms(lambda: client.get("/"), repeats)


def busiest(url: str) -> tuple[str, str]:
    """The day with most bookings, and the client with most visits."""
    from sqlalchemy import func, select

    from practice_es.application import PracticeLedger
    from practice_es.infrastructure.settings import Settings
    from practice_es.projections.engine import build_engine
    from practice_es.projections.visits import visits

    ledger = PracticeLedger(Settings(db_url=url, actor="bench"))
    engine = build_engine(ledger)
    v = visits.c
    try:
        with engine.connect() as conn:
            day = func.date(v.at)
            top_day = conn.execute(select(day).group_by(day)
                                   .order_by(func.count().desc()).limit(1)).scalar_one()
            top_client = conn.execute(select(v.client_id).group_by(v.client_id)
                                      .order_by(func.count().desc()).limit(1)).scalar_one()
    finally:
        engine.dispose()
        ledger.close()
    return str(top_day)[:10], str(top_client)


def _signed_in(client: Any) -> None:
    import re

    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert token is not None
    answer = client.post("/login", data={"username": USER, "password": PASSWORD,
                                          "csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.text


def _add_user(url: str) -> None:
    from practice_es.infrastructure.store import parse_store_url
    from practice_es.infrastructure.users import UserBook

    book = UserBook(parse_store_url(url))
    try:
        if USER not in {user.name for user in book.all()}:
            book.add(USER, "owner", PASSWORD)
    finally:
        book.close()


def run(url: str, repeats: int, ledger_name: str = "the ledger") -> list[Figure]:
    from starlette.testclient import TestClient

    from practice_es.infrastructure.settings import Settings
    from practice_es.web.app import create_app

    _add_user(url)
    app = create_app(Settings(db_url=url, actor="bench"))
    baseline = hello_ms(repeats)
    hello = median(baseline)
    figures = [Figure("web: bare Starlette hello route", hello, "ms median")]
    with TestClient(app, follow_redirects=False) as client:
        _signed_in(client)
        client.get("/health")
        day, busy = busiest(url)
        pages = [("day sheet, busiest day", f"/?day={day}", PAGE_TARGET_MS),
                 ("client card, busiest client", f"/clients/{busy}", PAGE_TARGET_MS),
                 ("worklists", "/worklists", REPORT_TARGET_MS),
                 ("retention report", "/reports/retention", REPORT_TARGET_MS),
                 ("referrals report", "/reports/referrals", REPORT_TARGET_MS)]
        desk = app.state.desk
        for name, path, target in pages:
            assert client.get(path).status_code == 200, path  # catches up, warms caches
            def fresh(path: str = path) -> Any:
                desk.reports.clear()  # as at the server's start: built from nothing
                desk.kept.clear()
                return client.get(path)

            def again(path: str = path) -> Any:
                return client.get(path)

            cold, cpu = repeat_ms(fresh, repeats), cpu_ms(fresh, repeats)
            figures.append(_figure(f"{name} ({ledger_name})", path, cold, hello, target, cpu))
            if target == REPORT_TARGET_MS:  # a report is kept, and brought up to date
                booked = after_booking(desk, busy, again, repeats)
                figures.append(_figure(f"{name}, after one booking", path, booked[0], hello,
                                       target, booked[1]))
                warm = repeat_ms(again, repeats)
                figures.append(_figure(f"{name}, nothing recorded since", path, warm, hello,
                                       target, cpu_ms(again, repeats)))
            print(f"measured {name}: {median(cold):.1f} ms", file=sys.stderr, flush=True)
    return figures


def after_booking(desk: Any, client_id: str, ask: Any, times: int
                  ) -> tuple[list[float], list[float]]:
    """The page's wall and CPU milliseconds just after a booking is recorded (not timed): what
    the front desk meets between two clients."""
    from datetime import datetime, timedelta
    from uuid import UUID

    from practice_es.domain.errors import RuleRefused

    walls, cpus = [], []
    free = (datetime.now().replace(minute=0, second=0, microsecond=0)
            + timedelta(days=30, hours=hours) for hours in range(10_000))
    for _ in range(times):
        for at in free:  # the next time the client has nothing booked
            try:
                desk.record("bench", "", lambda ledger, at=at: str(ledger.schedule_visit(
                    UUID(client_id), at=at)))
                break
            except RuleRefused:
                continue
        start, cpu = time.perf_counter(), time.process_time()
        ask()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return walls, cpus


def cpu_ms(func: Any, times: int) -> list[float]:
    """The process's CPU time per call (every thread): what a page costs the server,
    whatever else the shared machine is running."""
    samples = []
    for _ in range(times):
        start = time.process_time()
        func()
        samples.append((time.process_time() - start) * 1000)
    return samples


def _figure(name: str, path: str, samples: list[float], hello: float, target: int,
            cpu: list[float]) -> Figure:
    return Figure(f"web: {name}", median(samples), "ms median", "bare hello route", hello,
                  target=f"< {target} ms", extra={"path": path.split("?")[0],
                                                  "p99_ms": p99(samples),
                                                  "cpu_ms_median": median(cpu)},
                  met=median(samples) < target)


def build(scale: str, folder: Path) -> str:
    """The bench suite's export of that scale, imported (no deadline) and its read models
    rebuilt, in `folder`; kept there for the next run."""
    from bench.bench_import import write_generic_export
    from bench.run import SCALES

    url = f"sqlite:///{folder / 'ledger.db'}"
    if (folder / "ledger.db").exists():
        return url
    size = SCALES[scale]
    write_generic_export(folder / "export", size.clients, size.appointments)
    subprocess.run([sys.executable, "-m", "bench.child", "import", str(folder / "export"),
                    url], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "practice_es", "--db", url, "projections",
                    "rebuild"], check=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description="The front desk's pages, server side.")
    parser.add_argument("--db", help="the ledger's URL")
    parser.add_argument("--build", choices=("quick", "full"),
                        help="build the bench suite's ledger of that scale first")
    parser.add_argument("--keep", type=Path, help="the folder the built ledger is kept in")
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    before = load_average()
    if args.build:
        folder = args.keep or Path(tempfile.mkdtemp(prefix="practice-web-bench-"))
        folder.mkdir(parents=True, exist_ok=True)
        args.db = build(args.build, folder)
    if not args.db:
        parser.error("give --db URL or --build SCALE")
    figures = run(args.db, args.repeats, f"{args.build} scale" if args.build else "the ledger")
    print_table(figures)
    for figure in figures:
        if "cpu_ms_median" in figure.extra:
            print(f"{figure.name}: CPU {figure.extra['cpu_ms_median']:.1f} ms per page")
    print(f"load average {before} before, {load_average()} after", file=sys.stderr)


if __name__ == "__main__":
    main()
