"""The API's routers, one per resource; each declares the caller dependency once for all its routes."""

from . import auth, jobs, quarantine, registry, results, uploads, users

ROUTERS = (auth.router, users.router, registry.router, uploads.router, results.router, quarantine.router,
           jobs.router)

__all__ = ["ROUTERS"]
