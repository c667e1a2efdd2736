"""`vigil serve`: the matching API (/api/v1) and the review web app, under uvicorn."""

from __future__ import annotations

import click

from vigil.cli.context import Context, common


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8700, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    default=None,
    help="comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto are believed (default: "
    "none; the client address is the connection's, so no client can forge it to dodge the login throttle)",
)
@common
def serve_cmd(obj: Context, host: str, port: int, workers: int, forwarded_allow_ips: str | None) -> None:
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
        # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: any local client could then pick its
        # address for the per-address login throttle and the audit chain. Only from proxies named here.
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
    )
