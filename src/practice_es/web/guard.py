"""Every request passes here: who is signed in (else to /login), the security headers, and
one access-log line without the query string (a search is a client's name)."""

from __future__ import annotations

import logging
import os
import secrets
import time
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, Signer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from practice_es.infrastructure.users import Session
from practice_es.web import roles

if TYPE_CHECKING:
    from practice_es.web.desk import FrontDesk

SESSION_COOKIE = "practice_session"
LOGIN_COOKIE = "practice_login"  # the sign-in form's CSRF token, before there is a session
PUBLIC = ("/login", "/health", "/static/", "/favicon.ico")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
access_log = logging.getLogger("practice.web.access")
error_log = logging.getLogger("practice.web.error")


class Guard(BaseHTTPMiddleware):
    def __init__(self, app: Any, desk: FrontDesk) -> None:
        super().__init__(app)
        self.desk = desk

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        path = request.url.path
        request.state.session = await run_in_threadpool(self.session_of, request)
        if request.state.session is None and not path.startswith(PUBLIC):
            response: Response = to_login(request)
        else:
            response = await self.answer(request, call_next)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if not path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        if request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        access_log.info("%s %s %d %.1f ms", request.method, path, response.status_code,
                        (time.perf_counter() - started) * 1000)
        return response

    async def answer(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """The page, or for a bug of ours a 500 logged by its type only: an error's message
        or traceback may quote a name or a note (a database error quotes its parameters)."""
        try:
            return await call_next(request)
        except Exception as error:
            if os.environ.get("PRACTICE_DEBUG"):
                raise
            error_log.error("internal error (%s) on %s %s", type(error).__name__,
                            request.method, request.url.path)
            return PlainTextResponse(
                f"Internal error ({type(error).__name__}). What was recorded before it stays "
                "recorded; the server's log names the error (PRACTICE_DEBUG=1 shows more).",
                status_code=500)

    def session_of(self, request: Request) -> Session | None:
        token = unsign(self.desk.signer, request.cookies.get(SESSION_COOKIE))
        return self.desk.users.session(token) if token else None


def to_login(request: Request) -> Response:
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", status_code=303)


def unsign(signer: Signer, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return signer.unsign(value).decode()
    except BadSignature:
        return None


def set_cookie(request: Request, response: Response, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def session(request: Request) -> Session:
    found: Session | None = request.state.session
    if found is None:
        raise HTTPException(403, "sign in first")
    return found


def require_page(request: Request, page: str) -> Session:
    found = session(request)
    if not roles.may_see(found.user.role, page):
        raise HTTPException(403, f"the {found.user.role} role does not see this page")
    return found


def require_action(request: Request, form: Any, action: str) -> Session:
    """The action's CSRF token, then the role: a refusal records nothing (403)."""
    found = session(request)
    sent = str(form.get("csrf_token") or "")
    if not sent or not secrets.compare_digest(sent, found.csrf):
        raise HTTPException(403, "the form has expired or did not come from this page; "
                                 "reload it and try again")
    if not roles.may_do(found.user.role, action):
        raise HTTPException(403, f"the {found.user.role} role may not do this")
    return found
