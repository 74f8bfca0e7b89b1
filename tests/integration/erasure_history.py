"""A client's history full of personal and health text (every kind the ledger holds), for
the tests that erase it and then look for any trace of it."""

from __future__ import annotations

from tests.cli.helpers import Practice

PROSPECT = "Philippa Wynter-Hale"
NAME = "Philippa Wynter Hale"
EMAIL = "pip@wynter.example"
SECRETS = {
    "name": NAME, "prospect": PROSPECT, "email": EMAIL, "condition": "lupus nephritis",
    "contraindication": "deep vein thrombosis", "findings": "antalgic gait, L5 radiculopathy",
    "goal": "walk to the allotment", "rationale": "flare after the miscarriage",
    "notes": "cried when talking about work", "reevaluation": "straight leg raise negative",
    "care report": "responding well to mobilisation", "correction": "typo in the notes",
}


def record_a_history(practice: Practice) -> str:
    """A client referred by a doctor, referred out and cleared, through a program."""
    s, new, ok = SECRETS, practice.new, practice.ok
    referral = new("referral", "receive", "--source", "doctor", "--referrer", "Dr Amadi",
                   "--prospect", PROSPECT, "--on", "2026-02-01")
    client = new("client", "intake", "--name", NAME, "--email", EMAIL, "--condition",
                 s["condition"], "--contraindication", s["contraindication"], "--referral",
                 referral, "--on", "2026-02-02")
    new("client", "assess", client, "--findings", s["findings"], "--measure", "pain=7",
        "--on", "2026-02-02")
    out = new("referral", "make", client, "--to", "Dr Amadi", "--reason",
              s["contraindication"], "--on", "2026-02-02")
    ok("referral", "outcome", out, "--cleared", "--on", "2026-02-05")
    program = new("program", "recommend", client, "--phase", "relief", "--visits", "2",
                  "--per-week", "1", "--goal", s["goal"], "--rationale", s["rationale"],
                  "--on", "2026-02-06")
    ok("program", "accept", program, "--on", "2026-02-06")
    new("visit", "complete", client, "--program", program, "--measure", "pain=5",
        "--notes", s["notes"], "--on", "2026-02-07")
    ok("client", "correct", client, "--version", "4", "--set", "notes=" + s["notes"] + ".",
       "--reason", s["correction"])
    ok("program", "reevaluate", program, "--findings", s["reevaluation"], "--measure",
       "pain=3", "--outcome", "discharge", "--on", "2026-02-14")
    ok("referral", "report", out, "--summary", s["care report"], "--on", "2026-02-15")
    return client
