"""Migration 0005 on a store with data at 0004: existing assessments are trusted; down and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from vigil.store import Store
from vigil.store.db import alembic_config, make_engine


def test_upgrade_from_0004_keeps_imported_gradings_trusted(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    try:
        cfg = alembic_config(engine)
        command.upgrade(cfg, "0004")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO source (name, kind, trust, created_at) VALUES ('s', 'agency', 50, :t)"),
                {"t": "2026-01-01"},
            )
            conn.execute(
                text(
                    "INSERT INTO entry (victim_identified, status, disputed, first_seen, updated_at) "
                    "VALUES (false, 'active', false, :t, :t)"
                ),
                {"t": "2026-01-01"},
            )
            conn.execute(
                text(
                    "INSERT INTO assessment (entry_id, source_id, category, created_at) "
                    "VALUES (1, 1, 'B', :t)"
                ),
                {"t": "2026-01-01"},
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT trusted FROM assessment")).scalar_one() in (True, 1)
        command.downgrade(cfg, "0004")
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
    with Store(any_db_url) as store, store.session() as s:
        assert s.execute(text("SELECT count(*) FROM review_item")).scalar_one() == 0
