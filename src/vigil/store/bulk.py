"""Bulk writes for imports of millions of rows, inside the caller's transaction.

SQLAlchemy's per-row parameter processing costs more than the database does at this scale, so rows go
straight to the driver: `executemany` on SQLite, `COPY` on PostgreSQL. Ids for new rows are allocated
up front (the transaction holds SQLite's single write lock; PostgreSQL hands out sequence values).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, text

from vigil.store.db import write_lock

LOOKUP_CHUNK = 5000


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar_one()
        rows = conn.execute(text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq, "n": count})
        return [int(r[0]) for r in rows]
    write_lock(conn)  # SQLite: the write lock first, so no other writer can allocate the same ids
    top = conn.exec_driver_sql(f'SELECT COALESCE(MAX(id), 0) FROM "{table.name}"').scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + count))


def insert_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    if not rows:
        return
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None  # a Connection inside a transaction always has one
    cols = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name == "postgresql":
        copy_sql = f'COPY "{table.name}" ({cols}) FROM STDIN'
        with dbapi.cursor() as cur, cur.copy(copy_sql) as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cur = dbapi.cursor()
    try:
        sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})'
        cur.executemany(sql, _sqlite_rows(rows))  # type: ignore[arg-type]
    finally:
        cur.close()


def _sqlite_rows(rows: Sequence[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """SQLAlchemy stores SQLite DATETIME as ISO text without zone; convert the same way, once per value."""
    stamps = [i for i, v in enumerate(rows[0]) if isinstance(v, datetime)]
    if not stamps:
        yield from rows
        return
    memo: dict[datetime, str] = {}
    for row in rows:
        out = list(row)
        for i in stamps:
            v = out[i]
            if isinstance(v, datetime):
                out[i] = memo.get(v) or memo.setdefault(v, v.strftime("%Y-%m-%d %H:%M:%S.%f"))
        yield out


def lookup_signal_owners(conn: Connection, signal_type: str, values: Sequence[bytes]) -> dict[bytes, int]:
    """value -> entry id for the stored values of one signal type among `values` (straight to the driver)."""
    found: dict[bytes, int] = {}
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    try:
        if conn.dialect.name == "postgresql":
            for i in range(0, len(values), LOOKUP_CHUNK):
                cur.execute(
                    "SELECT value, entry_id FROM signal WHERE type = %s AND value = ANY(%s)",
                    (signal_type, list(values[i : i + LOOKUP_CHUNK])),
                )
                found.update((bytes(v), int(e)) for v, e in cur.fetchall())
            return found
        for i in range(0, len(values), LOOKUP_CHUNK):
            chunk = values[i : i + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            cur.execute(
                f"SELECT value, entry_id FROM signal WHERE type = ? AND value IN ({marks})",
                (signal_type, *chunk),
            )
            found.update((bytes(v), int(e)) for v, e in cur.fetchall())
        return found
    finally:
        cur.close()


def iter_signal_rows(conn: Connection, batch: int = 200_000) -> Iterator[list[tuple[str, int, bytes]]]:
    """(type, entry id, value) of every stored signal, in batches, straight from the driver, in one
    pass over the table (a scan's snapshot of millions of hashes: a filtered read would go through
    the (type, value) index and fetch each row by id, several times slower)."""
    for rows in _stream(conn, "vigil_signal_rows", "SELECT type, entry_id, value FROM signal", batch):
        yield [(str(t), int(e), bytes(v)) for t, e, v in rows]


def iter_active_entries(
    conn: Connection, batch: int = 200_000
) -> Iterator[list[tuple[int, str | None, int | None, int | None]]]:
    """(id, category, series id, source id) of every active entry, in batches, straight from the driver."""
    sql = "SELECT id, category, series_id, source_id FROM entry WHERE status = 'active'"
    for rows in _stream(conn, "vigil_entries", sql, batch):
        yield [(int(i), c, s, o) for i, c, s, o in rows]


def _stream(conn: Connection, name: str, sql: str, batch: int) -> Iterator[Sequence[Any]]:
    """Rows of a query in batches, straight from the driver; on PostgreSQL through a named (server-side)
    cursor, so they arrive batch by batch instead of all at once."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor(name=name) if conn.dialect.name == "postgresql" else dbapi.cursor()
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(batch):
            yield rows
    finally:
        cur.close()
