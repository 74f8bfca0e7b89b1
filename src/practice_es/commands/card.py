"""A client's card as text: what the front desk and the practitioner look at first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from practice_es.reports.render import percent


def _when(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M") if iso else "none"


def _short(ident: str | None) -> str:
    return ident.replace("-", "")[:8] if ident else ""


def card_text(card: dict[str, Any]) -> str:
    contact = [f"born {card['date_of_birth']}" if card["date_of_birth"] else None,
               f"phone {card['phone']}" if card["phone"] else None, card["email"]]
    since = (card["intake_on"] or "")[:10]
    came = (f" (came by {card['referral_source']}"
            f"{' ' + card['referrer'] if card['referrer'] else ''})"
            if card["referral_source"] else "")
    lines = [
        f"{card['name']}  ({_short(card['client_id'])})  {card['status']}",
        "  " + (" · ".join(c for c in contact if c) or "no contact details"),
        f"  client since {since}{came}; {card['completed_visits']} visit(s) completed",
        "  open contraindications: " + (", ".join(card["open_contraindications"]) or "none"),
        "  program: " + _program(card["current_program"]),
        f"  last visit: {_when(card['last_visit_on'])}",
        "  next visit: " + (f"{_when(card['next_visit']['at'])} "
                            f"({_short(card['next_visit']['visit_id'])})"
                            if card["next_visit"] else "none booked"),
        "  open referrals: " + (", ".join(
            f"to {r['provider']} since {r['made_on']} ({_short(r['referral_id'])})"
            for r in card["open_referrals"]) or "none"),
    ]
    if card["reasons"] or card["goals"]:
        lines.append(f"  reasons: {', '.join(card['reasons']) or '-'}; "
                     f"goals: {', '.join(card['goals']) or '-'}")
    return "\n".join(lines)


def _program(program: dict[str, Any] | None) -> str:
    if program is None:
        return "none"
    measures = "; ".join(f"{name} {m['first']}→{m['latest']} ({m['change']:+g})"
                         for name, m in program["measures"].items())
    return (f"{program['phase']} ({program['status']}), {program['visits_completed']} of "
            f"{program['visits_planned']} visits, adherence {percent(program['adherence'])}"
            f"{'; ' + measures if measures else ''} ({_short(program['program_id'])})")
