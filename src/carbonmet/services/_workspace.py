"""Where things live: the registry database, the readings store and the time zone (工作区)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ._deps import Store, make_engine, migrate, session_scope
from ._errors import ServiceError


class Workspace:
    """The registry database and the readings store a set of use cases works on, opened once.

    Parameters
    ----------
    database_url : str, optional
        SQLAlchemy URL of the registry (default: ``$CARBONMET_DATABASE_URL`` or ``./.carbonmet``).
        Ignored when ``engine`` is given.
    store_root : path, optional
        Directory of the readings store; the metering use cases need it.
    time_zone : str
        IANA zone in which periods are cut and naive input times are read (default ``Asia/Shanghai``).
    engine : sqlalchemy.Engine, optional
        An engine already open (it is migrated, and not disposed by :meth:`close`).

    Examples
    --------
    >>> with Workspace("sqlite:///reg.db", store_root="store") as ws:   # doctest: +SKIP
    ...     items = due_items(ws, Scope.enterprise("E01"), date.today())
    """

    def __init__(
        self,
        database_url: str | None = None,
        store_root: str | Path | None = None,
        time_zone: str = "Asia/Shanghai",
        *,
        engine: Engine | None = None,
    ) -> None:
        self._own_engine = engine is None
        self.engine: Engine = engine if engine is not None else make_engine(database_url)
        migrate(self.engine)
        self.store_root = Path(store_root) if store_root is not None else None
        self.time_zone = time_zone
        self._store: Store | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: commit on success, roll back on any error."""
        with session_scope(self.engine) as s:
            yield s

    def store(self) -> Store:
        """The readings store (opened on first use, kept until :meth:`close`)."""
        if self.store_root is None:
            raise ServiceError("工作区未配置数据存储目录 / the workspace has no readings store (store_root)")
        if self._store is None:
            self._store = Store(self.store_root, local_tz=self.time_zone)
        return self._store

    def close(self) -> None:
        """Close the store and, when the workspace created it, dispose of the engine."""
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._own_engine:
            self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
