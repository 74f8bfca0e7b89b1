"""The actions (forms that record): CSRF and role first, then one service call as the
signed-in user. A rule refusal is shown beside the form and records nothing; a concurrent
change asks to try again; a form sent twice records once (FrontDesk.record)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from html import escape
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from practice_es.application import PracticeLedger
from practice_es.domain.client_rules import RECALL_CHANNELS
from practice_es.domain.errors import ConcurrentChange, InvalidInput, RuleRefused
from practice_es.projections.clients import clients_like
from practice_es.web import roles
from practice_es.web.desk import FrontDesk
from practice_es.web.guard import require_action
from practice_es.web.views import render

Act = Callable[[PracticeLedger], Any]
TRY_AGAIN = "Someone changed this record at the same moment: nothing was recorded. Try again."


def _uuid(text: Any, what: str) -> UUID:
    try:
        return UUID(str(text))
    except ValueError:
        raise HTTPException(404, f"no such {what}") from None


def _moment(form: FormData, name: str) -> datetime:
    try:
        return datetime.fromisoformat(str(form.get(name) or ""))
    except ValueError:
        raise InvalidInput(name, "not a date and time (YYYY-MM-DDTHH:MM)") from None


def _back(form: FormData) -> str:
    """Where to go after: a path of this app only (never another site)."""
    back = str(form.get("back") or "/")
    return back if back.startswith("/") and not back.startswith("//") else "/"


async def _act(request: Request, action: str, make: Callable[[FormData, Any], Act],
               goto: Callable[[str], str] | None = None) -> Response:
    """Check, record once, then back to the page (or to `goto` of what was recorded)."""
    form = await request.form()
    session = require_action(request, form, action)
    desk: FrontDesk = request.app.state.desk
    try:
        act = make(form, session)
        result = await run_in_threadpool(desk.record, session.user.name,
                                         str(form.get("form_id") or ""),
                                         lambda led: str(act(led)))
    except (RuleRefused, InvalidInput, ValidationError, ConcurrentChange) as error:
        return _refusal(request, _message(error))
    target = goto(result) if goto else None
    if request.headers.get("HX-Request"):
        headers = {"HX-Redirect": target} if target else {"HX-Refresh": "true"}
        return Response(status_code=204, headers=headers)
    return RedirectResponse(target or _back(form), status_code=303)


def _message(error: Exception) -> str:
    if isinstance(error, RuleRefused):
        return f"Refused by rule {error}"
    if isinstance(error, ConcurrentChange):
        return TRY_AGAIN
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"Invalid {'.'.join(str(p) for p in first['loc']) or 'input'}: {first['msg']}"
    return f"Invalid {error}"


def _refusal(request: Request, message: str) -> Response:
    if request.headers.get("HX-Request"):  # swapped in beside the form
        return HTMLResponse(f'<span class="refusal" role="alert">{escape(message)}</span>')
    return render(request, "error.html", 422, code=422, message=message)


def _visit(request: Request, form: FormData) -> tuple[UUID, UUID]:
    return (_uuid(form.get("client_id"), "client"),
            _uuid(request.path_params["visit_id"], "visit"))


async def complete(request: Request) -> Response:
    def make(form: FormData, session: Any) -> Act:
        client, visit = _visit(request, form)
        pain, notes = str(form.get("pain") or "").strip(), str(form.get("notes") or "").strip()
        if (pain or notes) and not roles.may_do(session.user.role, "measure"):
            raise HTTPException(403, f"the {session.user.role} role records no measures "
                                     "or notes")
        measures = {"pain": _number(pain, "pain")} if pain else {}
        return lambda led: led.complete_visit(client, visit_id=visit, measures=measures,
                                              notes=notes or None)
    return await _act(request, "complete", make)


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(name, f"'{text}' is not a number") from None


def _closing(request: Request, method: str) -> Callable[[FormData, Any], Act]:
    def make(form: FormData, session: Any) -> Act:
        client, visit = _visit(request, form)
        reason = str(form.get("reason") or "").strip() or None
        return lambda led: getattr(led, method)(client, visit_id=visit, reason=reason)
    return make


async def cancel(request: Request) -> Response:
    return await _act(request, "cancel", _closing(request, "cancel_visit"))


async def no_show(request: Request) -> Response:
    return await _act(request, "no-show", _closing(request, "miss_visit"))


async def book(request: Request) -> Response:
    def make(form: FormData, session: Any) -> Act:
        client = _uuid(request.path_params["client_id"], "client")
        at = _moment(form, "at")
        program = str(form.get("program_id") or "")
        program_id = _uuid(program, "program") if program else None
        return lambda led: led.schedule_visit(client, at=at, program=program_id)
    return await _act(request, "book", make)


async def recall(request: Request) -> Response:
    def make(form: FormData, session: Any) -> Act:
        client = _uuid(request.path_params["client_id"], "client")
        channel = str(form.get("channel") or "")
        if channel not in RECALL_CHANNELS:
            raise InvalidInput("channel", f"must be one of {', '.join(RECALL_CHANNELS)}")
        return lambda led: led.send_recall(client, channel=channel)
    return await _act(request, "recall", make)


def _text(form: FormData, name: str) -> str | None:
    return str(form.get(name) or "").strip() or None


async def intake(request: Request) -> Response:
    def make(form: FormData, session: Any) -> Act:
        name = _text(form, "name")
        if name is None:
            raise InvalidInput("name", "the client's name is required")
        born = _text(form, "date_of_birth")
        fields: dict[str, Any] = {
            "name": name, "phone": _text(form, "phone"), "email": _text(form, "email"),
            "referral_source": _text(form, "source"), "referrer": _text(form, "referrer"),
            "date_of_birth": _day(born, "date_of_birth") if born else None}
        desk: FrontDesk = request.app.state.desk
        # D1 holds here as on the command line: the clients who may be this person.
        known = desk.read(lambda conn: clients_like(conn, name, fields["date_of_birth"],
                                                    fields["email"]))
        return lambda led: led.record_intake(known=known, **fields)
    return await _act(request, "intake", make, goto=lambda ident: f"/clients/{ident}")


async def referral(request: Request) -> Response:
    """A referral received (SPEC §10: the front desk's): who sent whom, before any intake."""
    def make(form: FormData, session: Any) -> Act:
        source, referrer, prospect = (_required(form, name, "a referral received")
                                      for name in ("source", "referrer", "prospect"))
        return lambda led: led.receive_referral(source=source, referrer=referrer,
                                                prospect=prospect)
    return await _act(request, "referral", make)


def _required(form: FormData, name: str, what: str) -> str:
    text = _text(form, name)
    if text is None:
        raise InvalidInput(name, f"is required for {what}")
    return text


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(name, f"'{text}' is not a date (YYYY-MM-DD)") from None


async def contact(request: Request) -> Response:
    def make(form: FormData, session: Any) -> Act:
        client = _uuid(request.path_params["client_id"], "client")
        # Only what was changed on the form is recorded (the form shows the details as were).
        name, phone, email = (_text(form, k) if _text(form, k) != _text(form, f"was_{k}")
                              else None for k in ("name", "phone", "email"))
        if name is None and phone is None and email is None:
            raise InvalidInput("contact", "nothing was changed")
        return lambda led: led.update_contact(client, name=name, phone=phone, email=email)
    return await _act(request, "contact", make)


async def assess(request: Request) -> Response:
    def make(form: FormData, session: Any) -> Act:
        client = _uuid(request.path_params["client_id"], "client")
        findings = _text(form, "findings")
        if findings is None:
            raise InvalidInput("findings", "what was found is required")
        pain = _text(form, "pain")
        measures = {"pain": _number(pain, "pain")} if pain else {}
        return lambda led: led.record_assessment(client, findings=findings, measures=measures)
    return await _act(request, "assess", make)


def routes() -> list[Route]:
    return [
        Route("/visits/{visit_id}/complete", complete, methods=["POST"]),
        Route("/visits/{visit_id}/cancel", cancel, methods=["POST"]),
        Route("/visits/{visit_id}/no-show", no_show, methods=["POST"]),
        Route("/clients/{client_id}/book", book, methods=["POST"]),
        Route("/clients/{client_id}/recall", recall, methods=["POST"]),
        Route("/clients", intake, methods=["POST"]),
        Route("/referrals", referral, methods=["POST"]),
        Route("/clients/{client_id}/contact", contact, methods=["POST"]),
        Route("/clients/{client_id}/assess", assess, methods=["POST"]),
    ]
