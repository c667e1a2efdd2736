"""Fixtures for the review web app's tests: a scanned, attached site on SQLite (and PostgreSQL where a test
asks for `any_site`), served by a real `vigil serve` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.harness import Browser, Served, Site, build_site, serve


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Site:
    return build_site(sqlite_url, tmp_path)


@pytest.fixture
def any_site(any_db_url: str, tmp_path: Path) -> Site:
    return build_site(any_db_url, tmp_path)


@pytest.fixture
def server(site: Site) -> Iterator[Served]:
    with serve(site) as served:
        yield served


@pytest.fixture
def browsers(server: Served) -> Iterator[dict[str, Browser]]:
    """One logged-in browser per user name, opened on first use."""
    opened: dict[str, Browser] = {}

    class Lazy(dict[str, Browser]):
        def __missing__(self, name: str) -> Browser:
            opened[name] = Browser(server.base).login(name)
            self[name] = opened[name]
            return opened[name]

    yield Lazy()
    for b in opened.values():
        b.close()
