"""The review web app (issue 6): mounted on the same FastAPI app as the matching API by `vigil serve`."""

from __future__ import annotations

from fastapi import FastAPI

from vigil.store import Store


def mount(app: FastAPI, store: Store) -> None:
    """Add the review app's routes to `app` (sharing the API's store)."""
