"""`practice serve`: the front desk in a browser (SPEC §10), on 127.0.0.1 unless told."""

from __future__ import annotations

import logging

import click

from practice_es.commands.context import PracticeContext, pass_practice


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a TLS reverse proxy in front for other machines).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_practice
def serve(practice: PracticeContext, host: str, port: int) -> None:
    """Serve the front desk: schedule, clients, worklists, reports, audit."""
    try:
        import uvicorn

        from practice_es.web.app import create_app
    except ImportError as error:
        raise click.UsageError(f"the front desk is not installed ({error.name} is missing): "
                               "pip install 'practice-es[web]'") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(practice.settings)
    click.echo(f"front desk on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    # uvicorn's own access log prints query strings (a search is a name): ours does not.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info",
                proxy_headers=True, server_header=False)
