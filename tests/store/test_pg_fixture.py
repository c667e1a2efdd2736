"""The shared store fixtures give working, isolated stores on both backends."""

from __future__ import annotations

import os

from sqlalchemy import func, inspect, select

from vigil.store import Store
from vigil.store.db import current_revision, head_revision
from vigil.store.models import Source


def test_any_store_round_trips_a_source(any_store: Store, request) -> None:
    backend = request.node.callspec.params["any_store"]
    assert any_store.dialect == backend
    assert current_revision(any_store.engine) == head_revision()
    with any_store.transaction() as session:
        session.add(Source(name="Fixture Hotline", kind="hotline", trust=70))
    with any_store.session() as session:
        source = session.scalars(select(Source)).one()
        assert (source.name, source.kind, source.trust) == ("Fixture Hotline", "hotline", 70)


def test_any_store_starts_empty(any_store: Store) -> None:
    # Whatever ran before on this backend (e.g. the test above inserting a source), each test starts empty.
    with any_store.session() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 0
    assert "source" in inspect(any_store.engine).get_table_names()


def test_pg_store_is_postgresql(pg_store: Store) -> None:
    assert pg_store.dialect == "postgresql"
    # Each test process (xdist worker) has a database of its own, dropped at the end of its session.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    assert pg_store.engine.url.database.startswith(f"vigil_test_{worker}_")
