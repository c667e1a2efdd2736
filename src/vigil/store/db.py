"""Engines, sessions and schema management for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

from vigil.config import Settings
from vigil.core.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(db: str) -> str:
    """A plain path means SQLite; postgresql:// uses psycopg 3."""
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().resolve()}"
    url = make_url(db)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def make_engine(db: str) -> Engine:
    url = make_url(normalise_url(db))
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (so DDL is transactional).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-262144")  # up to 256 MiB of page cache: bulk imports touch big indexes
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def write_lock(db: Session | Connection) -> None:
    """On SQLite, take the database's write lock now, with a write that changes nothing: a transaction
    that reads and then writes cannot then fail half-way because another writer committed in between,
    and ids read under the lock stay free. Nothing to do on PostgreSQL, which locks the rows written."""
    bind = db.get_bind() if isinstance(db, Session) else db
    if bind.dialect.name == "sqlite":
        db.execute(text("UPDATE entry SET id = id WHERE 0"))


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


@cache
def _revisions() -> tuple[frozenset[str], str]:
    """Every known revision and the head, read from the migration files' headers (opening a store
    must not cost alembic's import: most commands never migrate)."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text()
        rev = re.search(r'^revision = "([^"]+)"', source, re.M)
        down = re.search(r'^down_revision = (?:"([^"]+)"|None)', source, re.M)
        if rev and down:
            revisions[rev.group(1)] = down.group(1)
    heads = set(revisions) - {d for d in revisions.values() if d}
    assert len(heads) == 1, f"the migrations must have one head, found {heads}"  # packaging invariant
    return frozenset(revisions), heads.pop()


def head_revision() -> str:
    return _revisions()[1]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (creates it on an empty database)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def ensure_schema(engine: Engine) -> None:
    """Create the schema on a new, empty store; refuse a store whose schema is behind or unknown."""
    current = current_revision(engine)
    if current is None:
        migrate(engine)
        return
    known, head = _revisions()
    if current != head:
        if current not in known:
            raise StoreError(f"store schema {current} is newer than this vigil knows; upgrade vigil")
        raise StoreError(f"store schema {current} is older than {head}; run 'vigil db migrate'")


class Store:
    """One store: an engine plus a session factory. Query functions never commit; `transaction()` does."""

    def __init__(self, db: str, *, create: bool = True, settings: Settings | None = None) -> None:
        """Open the store at `db`; `settings` (read from the environment when not given) travel with it to
        the code below the edge: index and data folders, thresholds, review rules."""
        self.settings = settings if settings is not None else Settings()
        self.url = normalise_url(db)
        self.engine = make_engine(db)
        if create:
            ensure_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings, *, create: bool = True) -> Store:
        """The store the settings name (`settings.db`)."""
        return cls(settings.db, create=create, settings=settings)

    @property
    def index_root(self) -> Path:
        return self.settings.index_root(self.url)

    @property
    def data_root(self) -> Path:
        return self.settings.data_root(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed at the end of the block, or rolled back whole on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def session(self) -> Session:
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
