"""Engine, sessions and migrations. Embedded default: a SQLite file; server: PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ._settings import Settings


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


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


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations of every package up to ``revision`` (from empty on a new database)."""
    cfg = alembic_config()
    with engine.begin() as conn:
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
