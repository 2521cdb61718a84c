"""The API's routers, one per resource; each declares the caller dependency once for all its routes."""

from . import auth, jobs, pact, quarantine, registry, results, uploads, users

ROUTERS = (auth.router, users.router, registry.router, uploads.router, results.router, quarantine.router,
           jobs.router, pact.token_router, pact.router)

__all__ = ["ROUTERS"]
