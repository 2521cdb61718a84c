"""Engine, sessions and migrations. Embedded default: a SQLite file; server: PostgreSQL by URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

ENV_URL = "CARBONMET_DATABASE_URL"
ENV_HOME = "CARBONMET_HOME"


def default_url() -> str:
    """``$CARBONMET_DATABASE_URL``, else a SQLite file ``$CARBONMET_HOME/registry.db`` (default ``./.carbonmet``)."""
    url = os.environ.get(ENV_URL)
    if url:
        return url
    home = Path(os.environ.get(ENV_HOME, ".carbonmet"))
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'registry.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine. PostgreSQL URLs ``postgresql://…`` use psycopg 3."""
    url = url or default_url()
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("carbonmet.registry").joinpath("migrations")))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision`` (from empty on a new database)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: commit on success, roll back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session
