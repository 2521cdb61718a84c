"""The FastAPI application factory (``create_app``) and its configuration."""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from carbonmet.services import ServiceError, Workspace

from ._auth import LoginLimiter, WorkspaceCleanup
from ._jobs import JobRegistry
from ._pages import install_pages
from ._problems import JSONOut, install
from ._routers import ROUTERS

SECRET_ENV = "CARBONMET_WEB_SECRET"
SECRET_FILE = "web-secret"


@dataclass(frozen=True, slots=True)
class WebConfig:
    """Settings of the web API.

    Attributes
    ----------
    secret : str
        HS256 key of the access tokens (``CARBONMET_WEB_SECRET``, else generated once into
        ``<home>/web-secret``, mode 0600; see :func:`secret_for`).
    token_minutes : float
        Lifetime of an access token (default 30 min).
    login_limit, login_window : int, float
        Failed sign-ins allowed per user name and client within the window (seconds) before 429.
    max_upload_bytes : int
        Largest uploaded file (default 64 MiB; the readers' own limits apply after that).
    job_workers : int
        Threads running jobs.
    pact_years : tuple of int, optional
        Reference years of the footprints the PACT v3 routes exchange (default: the previous calendar year).
    """

    secret: str
    token_minutes: float = 30.0
    login_limit: int = 5
    login_window: float = 300.0
    max_upload_bytes: int = 64 * 1024 * 1024
    job_workers: int = 2
    pact_years: tuple[int, ...] | None = None


def secret_for(ws: Workspace) -> str:
    """The token key: ``$CARBONMET_WEB_SECRET``, else the one in ``<home>/web-secret`` (generated on first use).

    Raises
    ------
    ServiceError
        Neither the variable nor a workspace home is set.
    """
    env = os.environ.get(SECRET_ENV, "").strip()
    if env:
        return env
    path: Path = ws.home / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < 32:
        raise ServiceError(f"{path}: 令牌密钥过短 the token key must have at least 32 characters")
    return text


def create_app(workspace: Workspace, config: WebConfig | None = None) -> FastAPI:
    """The carbonmet REST API over ``workspace`` (REST under ``/api/v1``, OpenAPI at ``/docs``) and its pages.

    Parameters
    ----------
    workspace : Workspace
        The installation's workspace (registry database, readings store, home); each request works on a
        :meth:`Workspace.fork` of it.
    config : WebConfig, optional
        Default: the token key from :func:`secret_for` and the defaults of :class:`WebConfig`.
    """
    cfg = config if config is not None else WebConfig(secret=secret_for(workspace))
    if len(cfg.secret) < 32:
        raise ServiceError("令牌密钥至少 32 个字符 / the token key must have at least 32 characters")
    jobs = JobRegistry(cfg.job_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the modules, the app and everything else alive at start-up out of the cycle collector's scans: a full
        # collection then walks what requests and the caches made since (~40 k objects for a region's accounts)
        # instead of ~250 k more, which took 150–200 ms with every other request waiting (docs/web.md)
        gc.collect()
        gc.freeze()
        yield
        jobs.shutdown()

    app = FastAPI(
        title="carbonmet 碳计量平台 API",
        version="1",
        description="Carbon metrology platform: registry, readings, laboratory results, certificates, accounts, "
                    "comparison and review, by role and tenant. Errors are RFC 9457 problem details.",
        default_response_class=JSONOut,
        lifespan=lifespan,
    )
    app.state.workspace = workspace
    app.state.config = cfg
    app.state.limiter = LoginLimiter(cfg.login_limit, cfg.login_window)
    app.state.jobs = jobs
    app.add_middleware(WorkspaceCleanup)
    install(app)
    for router in ROUTERS:
        app.include_router(router)
    install_pages(app)
    return app


def app_from_environment() -> FastAPI:
    """The app over the installation's workspace from the ``CARBONMET_*`` environment (database URL, readings
    store, home, time zone): the factory ``carbonmet serve --workers N`` gives uvicorn, which builds one app in each
    worker process (each with its own caches, docs/web.md)."""
    from carbonmet.db import Settings

    settings = Settings()
    return create_app(Workspace.from_settings(settings, store_root=settings.readings_root))
