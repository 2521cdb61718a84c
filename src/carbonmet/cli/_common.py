"""Small helpers shared by the CLI modules: JSON output and error reporting."""

from __future__ import annotations

import json
import sys
from importlib import import_module
from typing import Any, NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

#: Packages with tables on :class:`carbonmet.db.Base`. Importing one registers its tables' reconcilers,
#: so they are imported before the audit log is reconciled (a package adding tables adds itself here).
AUDITED_PACKAGES = ("carbonmet.registry", "carbonmet.sites")


def load_audited_packages() -> None:
    """Import every package in :data:`AUDITED_PACKAGES` (so :func:`carbonmet.db.reconcile` covers its tables)."""
    for name in AUDITED_PACKAGES:
        import_module(name)


def print_json(obj: Any) -> None:
    """Print one JSON document to stdout (UTF-8, Chinese kept readable)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error (zh-CN first, English second where the caller gives both) and exit."""
    err_console.print(f"[bold red]错误 error:[/] {message}")
    raise typer.Exit(code)


def point_catalog(
    points: Any = None, instruments: Any = None, certificates: Any = None, sites: Any = None, db: str | None = None
) -> Any:
    """The measurement points readers validate against: from registry import CSVs when ``points`` is
    given, else from the registry database (``db``, ``$CARBONMET_DATABASE_URL`` or ``./.carbonmet``)."""
    if points is not None:
        from ..registry import RegistryError, catalog_from_files

        try:
            return catalog_from_files(points, instruments, certificates, sites)
        except RegistryError as exc:
            fail(f"计量点目录错误 catalog: {exc}")
    from ..db import make_engine, migrate, session_scope
    from ..registry import catalog_from_registry

    engine = make_engine(db)
    migrate(engine)
    with session_scope(engine) as s:
        return catalog_from_registry(s)
