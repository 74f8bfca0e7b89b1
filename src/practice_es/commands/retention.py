"""`practice client retention-sweep`: destroy the records whose legal keeping period is over
(SPEC §12), by erasing their clients (ADR 9), and document the destruction."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import click

from practice_es.commands.context import PracticeContext, pass_practice
from practice_es.commands.erasure import rewrite_read_models
from practice_es.commands.output import FORMATS, dumps, emit_rows, plain, say
from practice_es.commands.params import DATE

LOG_COLUMNS = ("client", "last_activity", "erased_on")


@click.command("retention-sweep")
@click.option("--years", type=click.IntRange(min=1), required=True,
              help="The legal keeping period after the last activity, in years.")
@click.option("--minors-until-age", "minors_until_age", type=click.IntRange(1, 30),
              help="A minor's record is kept until this age, plus --years.")
@click.option("--as-of", "as_of", type=DATE, required=True,
              help="The day the periods are counted to (not after today).")
@click.option("--dry-run", is_flag=True, help="List the clients due; erase nobody.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@pass_practice
def retention_sweep(practice: PracticeContext, years: int, minors_until_age: int | None,
                    as_of: date, dry_run: bool, fmt: str, as_json: bool) -> None:
    """Erase every client whose last activity is more than --years before --as-of
    (ClientErased, reason `retention`), and print the destruction log and the chain head.

    A client with a booking on or after --as-of is kept; with --minors-until-age, a client is
    kept until they reach that age plus --years. Running it again erases nobody new.
    """
    from practice_es.domain.retention import RetentionRule
    from practice_es.projections.retention import retention_candidates

    rule = RetentionRule(years, minors_until_age)
    runner = practice.runner()
    runner.catch_up()
    with runner.engine.connect() as conn:
        candidates = [(UUID(c), day) for c, day in
                      retention_candidates(conn, rule.cutoff(as_of), as_of)]
    ledger = practice.ledger()
    log: list[dict[str, Any]] = []
    try:
        for done in ledger.sweep_retention(candidates, rule, as_of=as_of, dry_run=dry_run):
            log.append({"client_id": done.client_id, "client": done.client_id.hex[:8],
                        "last_activity": done.last_activity, "erased_on": done.erased_on})
    except Exception:
        if log:  # what is recorded is said, then the error
            _print_log(log, ledger, "json" if as_json else fmt, dry_run)
            say(f"the sweep stopped after erasing the {len(log)} client(s) listed; "
                "run it again to finish")
        raise
    if log and not dry_run and not rewrite_read_models():
        say("another process was reading the ledger: the erased details' old bytes leave the "
            "database file at its next checkpoint")
    _print_log(log, ledger, "json" if as_json else fmt, dry_run)


def _print_log(log: list[dict[str, Any]], ledger: Any, fmt: str, dry_run: bool) -> None:
    head = ledger.recorder.chain_head()[1].hex()
    if fmt == "json":
        click.echo(dumps({"dry_run": dry_run, "chain_head": head,
                          "erased": [{k: plain(v) for k, v in row.items()} for row in log]}))
        return
    title = "Due for destruction (dry run: nothing erased)" if dry_run else "Destruction log"
    emit_rows(log, LOG_COLUMNS, fmt, title=title)
    if fmt == "table":
        click.echo(f"chain head {head}")
    else:
        say(f"chain head {head}")
