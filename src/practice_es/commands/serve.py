"""`practice serve`: the front desk in a browser (SPEC §10), on 127.0.0.1 unless told.

The app is named to uvicorn by its import string (web and commands are sibling adapters and
do not import each other); the settings reach it through PRACTICE_DB and the environment."""

from __future__ import annotations

import importlib.util
import logging
import os

import click

from practice_es.commands.context import PracticeContext, pass_practice

WEB_MODULES = ("starlette", "jinja2", "uvicorn", "argon2", "itsdangerous", "multipart")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a TLS reverse proxy in front for other machines).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_practice
def serve(practice: PracticeContext, host: str, port: int) -> None:
    """Serve the front desk: schedule, clients, worklists, reports, audit."""
    missing = [name for name in WEB_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise click.UsageError(f"the front desk is not installed ({', '.join(missing)} "
                               "missing): pip install 'practice-es[web]'")
    import uvicorn

    practice.ledger()  # a ledger that cannot be opened stops here, with its message
    os.environ["PRACTICE_DB"] = practice.settings.db_url
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    click.echo(f"front desk on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    # uvicorn's own access log prints query strings (a search is a name): ours does not.
    uvicorn.run("practice_es.web.app:from_environment", factory=True, host=host, port=port,
                access_log=False, log_level="info", proxy_headers=True, server_header=False)
