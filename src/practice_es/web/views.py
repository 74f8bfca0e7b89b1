"""Rendering a page: the templates shipped in the package, and what every page is given."""

from __future__ import annotations

import secrets
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from practice_es.web import roles


def templates() -> Jinja2Templates:
    env = Environment(loader=PackageLoader("practice_es.web", "templates"),
                      autoescape=select_autoescape(default=True), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["plain"] = plain
    env.globals["new_form_id"] = lambda: secrets.token_urlsafe(16)  # one per form shown
    return Jinja2Templates(env=env)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    session = getattr(request.state, "session", None)
    context.setdefault("user", session.user if session else None)
    context.setdefault("csrf", session.csrf if session else "")
    role = session.user.role if session else ""
    context.setdefault("can", lambda action: roles.may_do(role, action) if role else False)
    context.setdefault("sees", lambda page: roles.may_see(role, page) if role else False)
    context.setdefault("here", request.url.path)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status)
    return response


def plain(value: Any) -> str:
    """A recorded value as a person reads it: no None, brackets or quotes."""
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {plain(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
