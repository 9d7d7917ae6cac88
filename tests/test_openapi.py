"""The OpenAPI 3.1 document (``docs/openapi.json``, generated from the models): current, valid, and true
of the running endpoints, checked by schemathesis' property-based requests against the emulators."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_rules import allows, bodies, unstatable
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


def test_the_openapi_function_serves_the_document_with_its_own_address_first() -> None:
    response = httpx.get(f"{os.environ['FUNCTIONS_EMULATOR_URL']}/openapi", timeout=30)
    assert response.status_code == 200
    served, committed = response.json(), json.loads(DOCUMENT.read_text())
    assert served["servers"][0]["url"] == os.environ["FUNCTIONS_EMULATOR_URL"], "where it was reached, any port"
    assert {**served, "servers": served["servers"][1:]} == committed


def test_every_method_the_document_refuses_is_refused_with_405() -> None:
    document = json.loads(DOCUMENT.read_text())
    refused = [(path, method) for path, item in document["paths"].items() for method, op in item.items()
               if "405" in op["responses"]]  # fmt: skip
    assert {path for path, _ in refused} == {"/chatEvents", "/openapi"}
    for path, method in refused:
        response = httpx.request(method.upper(), f"{os.environ['FUNCTIONS_EMULATOR_URL']}{path}", timeout=30)
        allowed = document["paths"][path][method]["responses"]["405"]["headers"]["Allow"]["schema"]["enum"]
        assert (response.status_code, response.headers.get("allow")) == (405, allowed[0]), (path, method)
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.fixture(scope="module")
def id_token() -> str:
    auth = os.environ["FIREBASE_AUTH_EMULATOR_HOST"]
    url = f"http://{auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=demo-api-key"
    return str(httpx.post(url, json={"returnSecureToken": True}, timeout=30).json()["idToken"])


def allowed_never_refused_as_invalid(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """A request the document allows (judged with ECMA-262 patterns: ``openapi_rules``) is never
    refused as invalid for a reason the document could state."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if not positive or response.status_code != 400 or case.method != "POST" or not isinstance(case.body, dict):
        return
    error = response.json().get("error", {})
    schema = bodies().get(case.path)
    if error.get("status") == "INVALID_ARGUMENT" and schema and allows(schema, case.body):
        assert unstatable(error.get("message", "")), f"refused although the document allows it: {error}"


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_response_matches_the_document(case: schemathesis.Case, id_token: str) -> None:
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    case.call_and_validate(
        base_url=os.environ["FUNCTIONS_EMULATOR_URL"],
        headers={"Authorization": f"Bearer {id_token}", "Connection": "close"},
        checks=[*checks, allowed_never_refused_as_invalid],
        timeout=60,
    )
