"""Where things live: the registry database, the readings store and the time zone (工作区)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ._deps import (
    Catalog,
    DccTrustError,
    RegistryError,
    Settings,
    Store,
    TrustStore,
    catalog_from_files,
    load_trust_store,
    make_engine,
    migrate,
    session_scope,
)
from ._errors import ServiceError


@dataclass(frozen=True, slots=True)
class CatalogFiles:
    """Registry import files that give the point catalogue instead of the registry database (计量点目录文件).

    For working on files alone (a field laptop, a test): the points, and optionally the instruments
    installed at them, their certificates and the sites mapping each site to its enterprise, in the
    registry import format (docs/formats/registry-import.md). Tenancy applies as with the registry:
    a point belongs to its site's enterprise.
    """

    points: Path
    instruments: Path | None = None
    certificates: Path | None = None
    sites: Path | None = None


class Workspace:
    """The registry database and the readings store a set of use cases works on, opened once.

    Parameters
    ----------
    database_url : str, optional
        SQLAlchemy URL of the registry (default: ``$CARBONMET_DATABASE_URL`` or ``./.carbonmet``).
        Ignored when ``engine`` is given. The database is opened (and migrated) on first use, so a
        workspace used only for the readings store or pure helpers never touches it.
    store_root : path, optional
        Directory of the readings store; the metering use cases need it.
    time_zone : str
        IANA zone in which periods are cut and naive input times are read (default ``Asia/Shanghai``).
    engine : sqlalchemy.Engine, optional
        An engine already open (it is migrated on first use, and not disposed by :meth:`close`).
    catalog_files : CatalogFiles, optional
        Take the point catalogue from these registry import files instead of the registry database.
    dcc_trust_dir : path, optional
        Trust anchors for DCC signatures (``CARBONMET_DCC_TRUST_DIR``; :meth:`dcc_trust`).
    audit_key : path, optional
        The operator's Ed25519 key file (``CARBONMET_AUDIT_KEY``): with a private key every audited write
        signs the audit chain's new head, and ``verify_audit_log`` checks the signed heads with it.
    settings : carbonmet.db.Settings, optional
        Where the embedded database lives (``home``) when no ``database_url`` is given, resolved on first
        use (default: the ``CARBONMET_*`` environment, read then).
    home : path, optional
        The installation's data directory for files the platform keeps (deposited evidence under
        ``home/evidence``); default ``settings.home`` when ``settings`` is given (see :attr:`home`).

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
        catalog_files: CatalogFiles | None = None,
        audit_key: str | Path | None = None,
        settings: Settings | None = None,
        home: str | Path | None = None,
        dcc_trust_dir: str | Path | None = None,
    ) -> None:
        self._own_engine = engine is None
        self._database_url = database_url
        self._settings = settings
        self._engine: Engine | None = engine
        self._migrated = False
        self.store_root = Path(store_root) if store_root is not None else None
        self.time_zone = time_zone
        self.catalog_files = catalog_files
        self.audit_key = Path(audit_key) if audit_key is not None else None
        self._home = Path(home) if home is not None else None
        self._store: Store | None = None
        self._file_catalog: Catalog | None = None
        self.dcc_trust_dir = Path(dcc_trust_dir) if dcc_trust_dir is not None else None
        self._trust: TrustStore | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        database_url: str | None = None,
        store_root: str | Path | None = None,
        time_zone: str | None = None,
        catalog_files: CatalogFiles | None = None,
        audit_key: str | Path | None = None,
        dcc_trust_dir: str | Path | None = None,
    ) -> Workspace:
        """The workspace of an installation: what is not given comes from ``settings`` (default: the
        ``CARBONMET_*`` environment, read now) — the database URL, the time zone, the audit key and the DCC trust
        directory; the readings store only when given or set by ``CARBONMET_STORE_ROOT``.
        """
        cfg = settings if settings is not None else Settings()
        root = store_root if store_root is not None else cfg.store_root
        return cls(database_url or cfg.database_url, root, time_zone or cfg.time_zone, catalog_files=catalog_files,
                   audit_key=audit_key if audit_key is not None else cfg.audit_key, settings=cfg,
                   dcc_trust_dir=dcc_trust_dir if dcc_trust_dir is not None else cfg.dcc_trust_dir)

    @property
    def home(self) -> Path:
        """The data directory for files the platform keeps (``home=``, else ``settings.home``).

        Raises
        ------
        ServiceError
            Neither was given (a workspace built from a URL alone keeps no files).
        """
        if self._home is not None:
            return self._home
        if self._settings is not None:
            return self._settings.home
        raise ServiceError("工作区未配置数据目录 / the workspace has no home directory for kept files (home=, or "
                           "Workspace.from_settings with CARBONMET_HOME)")

    @property
    def engine(self) -> Engine:
        """The registry database engine (created and migrated to the current schema on first use)."""
        if self._engine is None:
            self._engine = make_engine(self._database_url, settings=self._settings)
        if not self._migrated:
            migrate(self._engine)
            self._migrated = True
        return self._engine

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

    def file_catalog(self) -> Catalog | None:
        """The point catalogue of :attr:`catalog_files` (read once), or ``None`` without them.

        Raises
        ------
        ServiceError
            A file is unreadable or a row is invalid (the message names file, row and field).
        """
        if self.catalog_files is None:
            return None
        if self._file_catalog is None:
            f = self.catalog_files
            try:
                self._file_catalog = catalog_from_files(f.points, f.instruments, f.certificates, f.sites)
            except RegistryError as exc:
                raise ServiceError(f"计量点目录错误 catalog: {exc}") from None
        return self._file_catalog

    def dcc_trust(self) -> TrustStore | None:
        """The trust anchors for DCC signatures from :attr:`dcc_trust_dir` (read once), or None without one.

        Raises
        ------
        ServiceError
            The directory or a file in it cannot be read (the message names the file and line).
        """
        if self.dcc_trust_dir is None:
            return None
        if self._trust is None:
            try:
                self._trust = load_trust_store(self.dcc_trust_dir)
            except DccTrustError as exc:
                raise ServiceError(f"DCC 信任目录错误 / DCC trust directory (CARBONMET_DCC_TRUST_DIR): {exc}") from None
        return self._trust

    def fork(self) -> Workspace:
        """A workspace on the same database (the engine, migrated already), store root, zone, keys and home,
        with its own readings-store handle: one per request or thread. Closing it leaves the engine open."""
        w = Workspace(None, self.store_root, self.time_zone, engine=self.engine, catalog_files=self.catalog_files,
                      audit_key=self.audit_key, settings=self._settings, home=self._home,
                      dcc_trust_dir=self.dcc_trust_dir)
        w._migrated = True
        return w

    def close(self) -> None:
        """Close the store and, when the workspace created it, dispose of the engine."""
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._own_engine and self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._migrated = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
