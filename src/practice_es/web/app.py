"""The front desk's ASGI app: routes, templates, static files, sign-in and sign-out.

Built over one FrontDesk (the ledger, its read models and the users); `create_app` takes a
clock and a pause so tests can move time and skip the slowing of failed sign-ins."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from practice_es.infrastructure.settings import Settings
from practice_es.infrastructure.users import Clock, utc_now
from practice_es.web import actions, pages
from practice_es.web.desk import FrontDesk, Pause
from practice_es.web.guard import LOGIN_COOKIE, SESSION_COOKIE, Guard, set_cookie, unsign
from practice_es.web.views import render, templates

LOGIN_FORM_AGE = 3600  # seconds a sign-in form's CSRF cookie lasts


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def favicon(request: Request) -> Response:
    return Response(status_code=204)


async def login_page(request: Request) -> Response:
    return _login_form(request)


def _login_form(request: Request, message: str = "", status: int = 200) -> Response:
    # One token per browser until it signs in: a second tab (or a favicon's redirect here)
    # must not void the form the first one shows.
    signer = request.app.state.desk.signer
    token = unsign(signer, request.cookies.get(LOGIN_COOKIE)) or secrets.token_urlsafe(32)
    response = render(request, "login.html", status, message=message, login_csrf=token)
    set_cookie(request, response, LOGIN_COOKIE, signer.sign(token).decode(),
               max_age=LOGIN_FORM_AGE)
    return response


async def login(request: Request) -> Response:
    desk: FrontDesk = request.app.state.desk
    form = await request.form()
    expected = unsign(desk.signer, request.cookies.get(LOGIN_COOKIE))
    sent = str(form.get("csrf_token") or "")
    if not expected or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "the sign-in form has expired; reload it and try again")
    name, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
    outcome = await run_in_threadpool(desk.users.sign_in, name, password)
    if outcome.delay:
        await desk.pause(outcome.delay)
    if outcome.user is None:
        message = ("Too many failed sign-ins: this name is locked for a while."
                   if outcome.locked else "Wrong name or password.")
        return _login_form(request, message, 401)
    token = await run_in_threadpool(desk.users.open_session, outcome.user)
    response = RedirectResponse("/", status_code=303)
    set_cookie(request, response, SESSION_COOKIE, desk.signer.sign(token).decode())
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    desk: FrontDesk = request.app.state.desk
    form = await request.form()
    session = request.state.session
    if session is None or not secrets.compare_digest(str(form.get("csrf_token") or ""),
                                                     session.csrf):
        raise HTTPException(403, "the form has expired; reload it and try again")
    token = unsign(desk.signer, request.cookies.get(SESSION_COOKIE))
    if token:
        await run_in_threadpool(desk.users.close_session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.headers.get("HX-Request"):
        return HTMLResponse(f'<p class="refusal" role="alert">{_text(exc.detail)}</p>',
                            status_code=exc.status_code)
    return render(request, "error.html", exc.status_code, code=exc.status_code,
                  message=exc.detail)


def _text(value: str) -> str:
    from html import escape

    return escape(value)


def create_app(settings: Settings, clock: Clock = utc_now,
               pause: Pause | None = None, warm: bool = False) -> Starlette:
    """The app; `warm` builds the report pages' reports in the background as it starts."""
    desk = FrontDesk.open(settings, clock, pause) if pause else FrontDesk.open(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if warm:
            from practice_es.web.kept_reports import warm_up

            warm_up(desk)
        yield
        desk.close()

    routes = [
        Route("/health", health),
        Route("/favicon.ico", favicon),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        *pages.routes(),
        *actions.routes(),
        Mount("/static", StaticFiles(packages=[("practice_es.web", "static")]), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(Guard, desk=desk)],
                    exception_handlers={HTTPException: refused}, lifespan=lifespan)
    app.state.desk = desk
    app.state.templates = templates()
    return app


def from_environment() -> Starlette:
    """The app over the ledger the environment names (PRACTICE_DB, PRACTICE_TZ, …): what
    `practice serve` runs, and `uvicorn --factory practice_es.web.app:from_environment`."""
    return create_app(Settings.from_env(), warm=True)
