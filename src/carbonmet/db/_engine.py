"""Engine, sessions and migrations. Embedded default: a SQLite file; server: PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ._settings import Settings

#: How long a SQLite connection waits for another writer's lock before "database is locked" (ms). Set before
#: the WAL switch, which itself needs the lock: a process opening the file while another migrates it waits.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    _wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _wal(cur: Any) -> None:
    """Switch the file to WAL, waiting up to :data:`SQLITE_BUSY_TIMEOUT_MS` for other connections.

    The switch needs the file to itself. When another connection holds a write lock that this one would
    deadlock with (another process migrating a fresh file: D18), SQLite answers "database is locked" at
    once instead of calling the busy handler, so the switch is tried again until the timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def make_engine(url: str | None = None, *, settings: Settings | None = None, **kwargs: Any) -> Engine:
    """Create an engine on ``url``, else on ``settings.url`` (default: settings read from the environment).

    PostgreSQL URLs ``postgresql://…`` use psycopg 3; SQLite connections get foreign keys on and WAL.
    Extra keyword arguments go to :func:`sqlalchemy.create_engine`.
    """
    url = url or (settings if settings is not None else Settings()).url
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config() -> Config:
    """Alembic configuration of the one migration chain (``carbonmet/db/migrations``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("carbonmet.db").joinpath("migrations")))
    return cfg


#: Key of the PostgreSQL advisory lock that serialises migrations (another key than the audit chain's).
MIGRATE_LOCK = 7201713

#: How long a SQLite migration waits for another process's migration to finish [ms].
SQLITE_MIGRATE_WAIT_MS = 120_000


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations of every package up to ``revision`` (from empty on a new database).

    Processes that migrate the same database at once are serialised: the first migrates, the others wait
    and then find the database at ``revision`` (nothing to do). On PostgreSQL a transaction-level advisory
    lock is taken before Alembic reads the version; on SQLite the whole migration runs in one
    ``BEGIN IMMEDIATE`` transaction (SQLite's DDL is transactional; the write lock is taken first), waiting
    up to :data:`SQLITE_MIGRATE_WAIT_MS` for another writer.
    """
    cfg = alembic_config()
    if engine.dialect.name == "sqlite":
        # the driver's own transaction handling would start no transaction before DDL: take it ourselves
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_MIGRATE_WAIT_MS}")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATE_LOCK})")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def session_factory(engine: Engine | Connection) -> sessionmaker[Session]:
    """Sessions on ``engine`` whose objects stay readable after commit.

    A :class:`~sqlalchemy.Connection` inside a transaction works too: the sessions join that transaction
    (a caller that must check the changes before they commit, such as a service's write guard, passes one).
    """
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | Connection) -> Iterator[Session]:
    """A session in one transaction: commit on success, roll back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session
