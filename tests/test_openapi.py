"""The OpenAPI 3.1 document (``docs/openapi.json``, generated from the models): current, valid, and true
of the running endpoints, checked by schemathesis' property-based requests against the emulators."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"
schema = schemathesis.openapi.from_path(DOCUMENT)


def test_the_committed_document_is_the_generated_one() -> None:
    import main

    generated = json.dumps(main.app.openapi(**main.OPENAPI), indent=2) + "\n"
    assert DOCUMENT.read_text() == generated, "docs/openapi.json is stale: run docs/build-openapi"


def test_the_document_is_valid_openapi_3_1() -> None:
    document = json.loads(DOCUMENT.read_text())
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/calculate", "/postToCalculate", "/closeCalculate", "/stopCalculate", "/deleteMyData", "/chatEvents",
        "/openapi",
    }  # fmt: skip


def test_the_openapi_function_serves_the_document() -> None:
    response = httpx.get(f"{os.environ['FUNCTIONS_EMULATOR_URL']}/openapi", timeout=30)
    assert response.status_code == 200
    assert response.json() == json.loads(DOCUMENT.read_text())


@pytest.fixture(scope="module")
def id_token() -> str:
    auth = os.environ["FIREBASE_AUTH_EMULATOR_HOST"]
    url = f"http://{auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=demo-api-key"
    return str(httpx.post(url, json={"returnSecureToken": True}, timeout=30).json()["idToken"])


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_response_matches_the_document(case: schemathesis.Case, id_token: str) -> None:
    case.call_and_validate(
        base_url=os.environ["FUNCTIONS_EMULATOR_URL"],
        headers={"Authorization": f"Bearer {id_token}", "Connection": "close"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        timeout=60,
    )
