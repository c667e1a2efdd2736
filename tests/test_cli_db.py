"""`vigil db init|stats|migrate`, exit codes, and the schema on both backends."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from vigil.cli import main
from vigil.store import Store, normalise_url
from vigil.store.db import current_revision, head_revision

TABLES = {"source", "series", "entry", "signal", "assessment", "change", "case", "scan", "scan_item"}


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_db_init_stats_migrate(any_db_url: str) -> None:
    result = cli("--db", any_db_url, "db", "init")
    assert result.exit_code == 0, result.stderr
    assert "store ready" in result.stderr
    engine = create_engine(normalise_url(any_db_url))
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert current_revision(engine) == head_revision()
    engine.dispose()

    result = cli("db", "stats", "--db", any_db_url, "--json")  # options after the command work too
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["entries"] == 0 and stats["change_seq"] == 0 and stats["categories"] == {}

    assert cli("--db", any_db_url, "db", "init").exit_code == 0  # idempotent
    result = cli("--db", any_db_url, "db", "migrate")
    assert result.exit_code == 0 and head_revision() in result.stderr


def test_store_refuses_an_unknown_schema(any_db_url: str) -> None:
    Store(any_db_url).close()
    engine = create_engine(normalise_url(any_db_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    engine.dispose()
    result = cli("--db", any_db_url, "db", "stats")
    assert result.exit_code == 1
    assert "newer than this vigil knows" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_errors_exit_2_and_failures_exit_1(tmp_path) -> None:
    db = str(tmp_path / "s.db")
    result = cli("--db", db, "import", str(tmp_path / "missing.csv"), "--format", "csv")
    assert result.exit_code == 2
    (tmp_path / "a.csv").write_text("md5\n" + "0" * 32 + "\n")
    result = cli("--db", db, "import", str(tmp_path / "a.csv"), "--format", "nope")
    assert result.exit_code == 2 and "--format" in result.stderr
    result = cli("--db", db, "import", str(tmp_path / "a.csv"), "--format", "csv", "--category", "Q")
    assert result.exit_code == 2 and "unknown category" in result.stderr
    result = cli("--db", "postgresql://postgres@127.0.0.1:1/none", "db", "stats")
    assert result.exit_code == 1 and result.stderr.startswith("Error: store error:")


def test_scan_on_postgresql(pg_url: str, tmp_path) -> None:
    """The scanner's store reads and scan records work on PostgreSQL as on SQLite."""
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "a.txt").write_bytes(b"alpha\n")
    (ev / "b.txt").write_bytes(b"beta\n")
    h = json.loads(cli("hash", str(ev / "a.txt")).stdout)
    (tmp_path / "k.csv").write_text(f"sha256,category,series\n{h['sha256']},X,s-1\n")
    assert cli("--db", pg_url, "import", str(tmp_path / "k.csv"), "--format", "csv").exit_code == 0
    result = cli("--db", pg_url, "scan", str(ev), "--out", str(tmp_path / "out"), "--workers", "2")
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["verdicts"]["known"] == 1 and summary["verdicts"]["unknown"] == 1
    assert summary["categories"] == {"X": 1} and summary["series"] == {"s-1": 1}
    assert summary["store"]["url"].startswith("postgresql+psycopg://")
    with Store(pg_url) as store, store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM scan_item")).scalar_one() == 2
