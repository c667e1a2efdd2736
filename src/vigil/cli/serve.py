"""`vigil serve`: the matching API (/api/v1) and the review web app, under uvicorn."""

from __future__ import annotations

import click

from vigil.cli.context import Context, common


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8700, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@common
def serve_cmd(obj: Context, host: str, port: int, workers: int) -> None:
    """Run the matching API (/api/v1) and the review web app (uvicorn; workers share the store and index)."""
    import os

    import uvicorn

    with obj.store():  # create or check the schema once, before the workers start
        pass
    os.environ["VIGIL_DB"] = obj.settings.db
    uvicorn.run(
        "vigil.server.app:app_from_env",
        factory=True,
        http="vigil.server.protocol:NoDelayProtocol",  # TCP_NODELAY also under --workers N
        host=host,
        port=port,
        workers=workers,
        log_level="warning" if obj.verbosity <= 0 else "info",
        timeout_graceful_shutdown=10,
    )
