"""The `vigil serve` app: the matching API (/api/v1) and the review web app on one FastAPI application.

`create_app(settings)` builds it for the store the settings name; `app_from_env()` is uvicorn's factory
(`vigil serve` runs ``vigil.server.app:app_from_env`` with VIGIL_DB set for its workers), the one place
here that reads the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vigil.config import Settings
from vigil.server import api, web
from vigil.store import Store


def create_app(settings: Settings) -> FastAPI:
    """The app over the store at `settings.db` (its schema created or checked first)."""
    store = Store.open(settings)
    state = api.ApiState.open(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()  # graceful shutdown: the calls served so far are in the audit chain

    app = FastAPI(
        title="vigil matching API",
        version="1",
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    api.mount(app, state)
    web.mount(app, store)
    return app


def app_from_env() -> FastAPI:
    """The app for uvicorn's factory mode (`vigil serve` sets VIGIL_DB for its workers)."""
    return create_app(Settings())
