"""Property-based tests of the API against its own OpenAPI document (schemathesis): whatever a client sends that
the schema allows, no operation answers 5xx, and every error is a problem document.

Bounded (25 examples per operation for the centre, 10 for the enterprise; derandomised) so the run stays well under a minute; as the centre (every code
path open) and as an enterprise user (the refusals). The app is built at import (its route table needs no
database); the region is filled in by the module fixture before the first case runs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from carbonmet.services import Workspace
from carbonmet.web import WebConfig, create_app, is_pact

from .conftest import SECRET, USERS, build, login

_ROOT = Path(tempfile.mkdtemp(prefix="carbonmet-fuzz-"))
_WS = Workspace(f"sqlite:///{_ROOT / 'registry.db'}", store_root=_ROOT / "store", home=_ROOT / "home")
APP = create_app(_WS, WebConfig(secret=SECRET))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
HEADERS: dict[str, dict[str, str]] = {}
BOUNDED = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
REFUSALS = settings(BOUNDED, max_examples=10)  # an enterprise is mostly refused: fewer examples find the same


@pytest.fixture(scope="module", autouse=True)
def region() -> Iterator[None]:
    build(f"sqlite:///{_ROOT / 'registry.db'}", _ROOT).close()
    with TestClient(APP) as client:
        HEADERS.update({u: login(client, u) for u in USERS})
        yield
    _WS.close()


def _check(case: schemathesis.Case, user: str) -> None:
    response = case.call(headers=HEADERS[user])
    where = f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        ctype = response.headers.get("content-type") or [""]  # schemathesis gives each header as a list
        body = response.json()
        if is_pact(case.formatted_path):  # the PACT v3 routes answer PACT Error objects (code, message)
            assert ctype[0].startswith("application/json"), where
            assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str), where
            return
        assert ctype[0].startswith("application/problem+json"), where
        assert {"type", "title", "status", "detail", "instance"} <= set(body), where
        assert body["status"] == response.status_code, where


@schema.parametrize()
@BOUNDED
def test_no_operation_answers_a_server_error_to_the_centre(case: schemathesis.Case) -> None:
    _check(case, "centre")


@schema.parametrize()
@REFUSALS
def test_no_operation_answers_a_server_error_to_an_enterprise(case: schemathesis.Case) -> None:
    _check(case, "alice")
