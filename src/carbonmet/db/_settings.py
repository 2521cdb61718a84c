"""Settings of a carbonmet installation (运行配置), read once from the environment and passed explicitly."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: File name of the embedded SQLite database under ``home`` (the name predates the other packages' tables).
SQLITE_FILE = "registry.db"


class Settings(BaseSettings):
    """Where carbonmet keeps its data, from ``CARBONMET_*`` environment variables.

    Build one at start-up (``Settings()`` reads the environment once) and pass it to what needs it;
    nothing reads the environment behind the caller's back, so tests build ``Settings(home=tmp_path)``.

    Attributes
    ----------
    database_url : str or None
        ``CARBONMET_DATABASE_URL``: a SQLAlchemy URL (``postgresql://…`` or ``sqlite:///…``).
        None means the embedded SQLite file ``home/registry.db``.
    home : Path
        ``CARBONMET_HOME``: the data directory, default ``./.carbonmet``.
    store_root : Path or None
        ``CARBONMET_STORE_ROOT``: root of the readings store (Parquet); None means ``home/store``.
    time_zone : str
        ``CARBONMET_TIME_ZONE``: IANA zone of local times (naive timestamps, reporting periods),
        default ``Asia/Shanghai`` (China Standard Time, UTC+8, no daylight saving).
    audit_key : Path or None
        ``CARBONMET_AUDIT_KEY``: the operator's Ed25519 key file (审计签名密钥, ``carbonmet audit keygen``).
        A private key signs the audit chain's head after each write and verifies the signed heads; a
        public key (``<key>.pub``) only verifies. None: writes are not signed and ``audit verify`` checks
        signatures only against a ``--signed-head`` file.
    dcc_trust_dir : Path or None
        ``CARBONMET_DCC_TRUST_DIR``: the trust anchors for DCC signatures (数字证书签名信任锚): a directory of the
        signing institutes' CA certificates (``*.pem``/``*.crt``/``*.cer``), their revocation lists (``*.crl``)
        and ``revoked-serials.txt`` (see :func:`carbonmet.registry.dcc.load_trust_store`). None: no signer is
        trusted, so a signed DCC imports only when an operator accepts it.
    """

    model_config = SettingsConfigDict(env_prefix="CARBONMET_", frozen=True, extra="ignore")

    database_url: str | None = None
    home: Path = Path(".carbonmet")
    store_root: Path | None = None
    time_zone: str = "Asia/Shanghai"
    audit_key: Path | None = None
    dcc_trust_dir: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v.strip() or None if v is not None else None

    @field_validator("audit_key", "dcc_trust_dir", mode="before")
    @classmethod
    def _blank_key_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知时区 unknown IANA time zone {v!r} (CARBONMET_TIME_ZONE)") from None
        return v

    @property
    def url(self) -> str:
        """The database URL: ``database_url``, else ``sqlite:///<home>/registry.db`` (the directory is created)."""
        if self.database_url:
            return self.database_url
        self.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.home / SQLITE_FILE}"

    @property
    def readings_root(self) -> Path:
        """Root directory of the readings store: ``store_root``, else ``home/store``."""
        return self.store_root if self.store_root is not None else self.home / "store"

    @property
    def zone(self) -> ZoneInfo:
        """``time_zone`` as a :class:`zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.time_zone)


def default_url(settings: Settings | None = None) -> str:
    """The database URL of ``settings`` (default: read from the environment now).

    ``$CARBONMET_DATABASE_URL``, else a SQLite file ``$CARBONMET_HOME/registry.db`` (default ``./.carbonmet``).
    """
    return (settings if settings is not None else Settings()).url
