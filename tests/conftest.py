"""Shared fixtures: stores on SQLite and PostgreSQL, and the PostgreSQL test server.

PostgreSQL server, resolved once per test process (each pytest-xdist worker is one process):

1. ``VIGIL_TEST_PG_URL`` if set (it must answer);
2. else ``postgresql://postgres@127.0.0.1:5432/postgres`` if it answers within 3 s;
3. else a throwaway cluster from Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``), run as the
   ``postgres`` OS user when we are root, listening on 127.0.0.1 on a free port, trust auth, stopped and
   deleted at the end of the session.

If none works the PostgreSQL tests fail with the reason; they are never skipped. Each process creates its own
database ``vigil_test_<worker>_<random hex>`` and drops it at the end, so concurrent runs and xdist workers
never share data. Every test that uses PostgreSQL gets an empty ``public`` schema.
"""

from __future__ import annotations

import glob
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from vigil.store import Store

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_ENV = "VIGIL_TEST_PG_URL"
CONNECT_TIMEOUT = 3
# Fixtures that need the PostgreSQL server; tests using them get the `postgres` marker automatically.
PG_FIXTURES = {"pg_server_url", "pg_database_url", "pg_url", "pg_store"}


# ----------------------------------------------------------------------------------------------------
# PostgreSQL server


def _libpq_url(url: str) -> str:
    """A SQLAlchemy-style URL (postgresql+psycopg://, postgres://) as a plain libpq URI for psycopg."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _answers(url: str) -> str | None:
    """None if the server accepts a connection at `url`, else the reason it does not."""
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure is a reason to try the next option
        return f"{type(exc).__name__}: {exc}".strip()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bindir() -> Path | None:
    """The newest Debian PostgreSQL bin directory with initdb and pg_ctl, else the ones on PATH."""

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True):
        bindir = Path(initdb).parent
        if (bindir / "pg_ctl").exists():
            return bindir
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


@dataclass
class _Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory."""

    bindir: Path
    root: Path
    port: int
    as_postgres: bool  # run the server binaries as the `postgres` OS user (they refuse to run as root)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            runuser = shutil.which("runuser")
            cmd = (
                [runuser, "-u", "postgres", "--", *cmd] if runuser else ["su", "postgres", "-c", _quote(cmd)]
            )
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root, check=False
        )

    def start(self) -> None:
        init = self.run(
            "initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
        )
        if init.returncode != 0:
            raise RuntimeError(
                f"initdb failed ({init.returncode}): {init.stderr.strip() or init.stdout.strip()}"
            )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        logfile = self.root / "server.log"
        start = self.run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(logfile), "-o", options, "-w", "-t", "60", "start"
        )
        if start.returncode != 0:
            log = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else ""
            raise RuntimeError(
                f"pg_ctl start failed ({start.returncode}): {start.stderr.strip()} {log}".strip()
            )

    def stop(self) -> None:
        try:
            if (self.datadir / "postmaster.pid").exists():
                self.run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "-t", "30", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _quote(cmd: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in cmd)


def _start_cluster() -> _Cluster:
    bindir = _pg_bindir()
    if bindir is None:
        raise RuntimeError(
            "no initdb/pg_ctl found under /usr/lib/postgresql/*/bin or on PATH "
            "(install Debian's postgresql package: make deps)"
        )
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
    if as_postgres:
        try:
            shutil.chown(root, user="postgres", group=None)
        except (LookupError, PermissionError) as exc:
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(
                f"running as root but cannot hand {root} to the postgres OS user: {exc}"
            ) from None
        root.chmod(0o700)
    cluster = _Cluster(bindir=bindir, root=root, port=_free_port(), as_postgres=as_postgres)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server where the tests may create and drop databases."""
    env = os.environ.get(PG_ENV)
    if env:
        reason = _answers(env)
        if reason:
            pytest.fail(f"{PG_ENV} is set but the server does not answer: {reason}", pytrace=False)
        yield env
        return
    reason_default = _answers(DEFAULT_PG_URL)
    if reason_default is None:
        yield DEFAULT_PG_URL
        return
    cluster: _Cluster | None = None
    reason_cluster = ""
    try:
        cluster = _start_cluster()
    except Exception as exc:
        reason_cluster = str(exc)
    if cluster is None:
        pytest.fail(
            f"no PostgreSQL server for the tests: {DEFAULT_PG_URL} does not answer ({reason_default}), "
            f"{PG_ENV} is not set, and a throwaway cluster could not be started: {reason_cluster}",
            pytrace=False,
        )
    try:
        deadline = time.monotonic() + 30
        while (reason := _answers(cluster.url)) is not None:
            if time.monotonic() > deadline:
                pytest.fail(f"the throwaway PostgreSQL cluster does not answer: {reason}", pytrace=False)
            time.sleep(0.2)
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_database_url(pg_server_url: str) -> Iterator[str]:
    """A database of this test process's own on the server, dropped at the end of the session."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"vigil_test_{worker}_{secrets.token_hex(6)}".lower()
    with psycopg.connect(_libpq_url(pg_server_url), connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(pg_server_url, name)
    finally:
        with psycopg.connect(
            _libpq_url(pg_server_url), connect_timeout=CONNECT_TIMEOUT, autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reset_schema(url: str) -> None:
    """Empty the database: close its other connections, then drop and recreate the public schema."""
    with psycopg.connect(_libpq_url(url), connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
        # Connections a previous test left open (e.g. an engine it never disposed) would hold locks.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        conn.execute("SET lock_timeout = '10s'")
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture
def pg_url(pg_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """URL of this process's test database with an empty schema (no tables, no alembic_version).

    Its perceptual index and data directory live in the test's temporary directory, not in the user's
    data directory."""
    _reset_schema(pg_database_url)
    monkeypatch.setenv("VIGIL_INDEX_DIR", str(tmp_path / "pg-index"))
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path / "pg-data"))
    return pg_database_url


# ----------------------------------------------------------------------------------------------------
# Stores


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Path of a new SQLite store file (a plain path means SQLite to vigil)."""
    return str(tmp_path / "store" / "vigil.db")


@pytest.fixture
def tmp_store(sqlite_url: str) -> Iterator[Store]:
    """A fresh store on a temporary SQLite file, schema created."""
    store = Store(sqlite_url)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    """A fresh store on the PostgreSQL test database, schema created by the migrations."""
    store = Store(pg_url)
    try:
        yield store
    finally:
        store.close()


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def any_db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL on each backend in turn (for tests that open stores themselves, e.g. the CLI)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest) -> Store:
    """A fresh store on each backend in turn: store tests run the same assertions on SQLite and PostgreSQL."""
    name = "tmp_store" if request.param == "sqlite" else "pg_store"
    store: Store = request.getfixturevalue(name)
    return store


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use a PostgreSQL fixture directly carry the `postgres` marker too (`-m "not postgres"`)."""
    for item in items:
        if (
            set(getattr(item, "fixturenames", ())) & PG_FIXTURES
            and item.get_closest_marker("postgres") is None
        ):
            item.add_marker(pytest.mark.postgres)
