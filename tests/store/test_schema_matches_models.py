"""The migrations build exactly the schema the models describe (no drift between the two)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vigil.store import Store
from vigil.store.models import Base


def test_migrated_schema_equals_the_models(any_store: Store) -> None:
    with any_store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
