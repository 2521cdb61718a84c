"""The web API (FastAPI): REST under ``/api/v1``, OpenAPI at ``/docs``, errors as RFC 9457 problem details.

Routers per resource; one dependency turns the request's credential (bearer token or API key) into the caller's
:class:`carbonmet.services.Scope`, and handlers only call services with it. See ``docs/web.md``.
"""

from ._app import WebConfig, app_from_environment, create_app, secret_for
from ._auth import LoginLimiter, issue_token
from ._problems import is_pact

__all__ = ["LoginLimiter", "WebConfig", "app_from_environment", "create_app", "is_pact", "issue_token", "secret_for"]
