"""The OpenAPI schema tells the truth: schemathesis over every operation, with 0 failures.

Each operation of ``/api/schema/`` gets generated requests, valid and invalid (schemathesis'
positive and negative modes), sent in-process to the Django WSGI app as alice (token auth);
every answer is checked: no 5xx, a documented status code, a body and headers matching the
documented schema, schema-valid requests accepted and schema-invalid ones rejected.

Budget: ``SCHEMATHESIS_MAX_EXAMPLES`` examples per operation and mode (default 10), which
keeps this file under 3 minutes on the CI machine; raise it for a deeper local run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.services import token_issue
from backend.wsgi import application
from tests.factories import CreativeFactory, FetchRunFactory, UserFactory

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def _keep_the_test_connection() -> Iterator[None]:
    """As Django's test client does: a request's end must not close the test transaction's
    database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The schema as the server serves it; generated requests go to the WSGI app in-process.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def alice_token(db: None, _keep_the_test_connection: None) -> str:
    alice = UserFactory(username="alice")
    CreativeFactory.create_batch(2)
    FetchRunFactory(owner=alice)
    token, _expiry = token_issue(user=alice)
    return token


# Operations whose acceptance of a well-formed request depends on facts a schema cannot state:
# the server's data (a creative or a region must exist, a username be free, credentials be
# right), rules across fields, or the outside world (a webhook host must resolve). For them a
# schema-valid request may rightly get a 400, so "schema-valid request accepted" is not
# checked; every other check is.
SEMANTIC_VALIDATION = {
    ("GET", "/api/adspark/creatives/"): "region must be a known region",
    ("GET", "/api/search/"): "q must contain a word; region must be known",
    ("POST", "/api/adspark/fetch/"): "advertiser_ids or text required; region must be known",
    ("POST", "/api/adspark/watches/"): "as fetch, and the webhook host must resolve to a public address",
    ("PUT", "/api/adspark/watches/{id}/"): "as POST /api/adspark/watches/",
    ("PATCH", "/api/adspark/watches/{id}/"): "as POST /api/adspark/watches/",
    ("POST", "/api/search/fetch/"): "q must contain a word; region must be known",
    ("POST", "/api/search/save-as-watch/"): "as POST /api/search/fetch/, and the webhook host must resolve",
    ("POST", "/api/ai/variants/"): "the creative must exist; the provider must be configured",
    ("POST", "/api/auth/register/"): "Django's password validators; the username must be free",
    ("POST", "/api/auth/token/"): "the credentials must be right",
    ("PATCH", "/api/auth/me/"): "default_region must be a known region",
    ("GET", "/api/adspark/creatives/export/"): "as GET /api/adspark/creatives/",
    ("POST", "/api/adspark/boards/"): "the owner may have one board of each name",
    ("PATCH", "/api/adspark/boards/{id}/"): "as POST /api/adspark/boards/",
    ("POST", "/api/adspark/boards/{id}/items/"): "the creative must be stored",
    ("POST", "/api/adspark/boards/{id}/items/bulk/"): "every creative must be stored",
}


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
def test_every_answer_matches_the_schema(case: schemathesis.Case, alice_token: str) -> None:
    excluded = [positive_data_acceptance] if (case.method.upper(), case.path) in SEMANTIC_VALIDATION else []
    case.call_and_validate(headers={"Authorization": f"Token {alice_token}"}, excluded_checks=excluded)


def test_the_schema_says_a_watch_may_have_no_run_and_a_run_no_stop_reason_yet(
    alice_client: object, alice: object
) -> None:
    # Given a new watch (no run yet) and a pending fetch run (no stop reason yet)
    components = schema.raw_schema["components"]["schemas"]
    watch = alice_client.post("/api/adspark/watches/", {"name": "w", "text": "shoes"}, format="json").json()  # type: ignore[attr-defined]
    run = alice_client.get(f"/api/adspark/fetch-runs/{FetchRunFactory(owner=alice).pk}/").json()  # type: ignore[attr-defined]
    # Then what the API answers is what the schema allows
    assert watch["last_run"] is None and components["Watch"]["properties"]["last_run"]["nullable"] is True
    assert run["stop_reason"] == ""
    choices = [
        ref["$ref"].rsplit("/", 1)[1] for ref in components["FetchRun"]["properties"]["stop_reason"]["oneOf"]
    ]
    assert "" in components[choices[1]]["enum"] and "" not in components[choices[0]]["enum"]
    assert run["task_id"] is None and components["FetchRun"]["properties"]["task_id"]["nullable"] is True


def test_the_schema_documents_the_error_answers_of_every_operation() -> None:
    for path, item in schema.raw_schema["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = set(operation["responses"])
            assert {"400", "404", "429", "503"} <= codes, (method, path, codes)
            if "requestBody" in operation:
                assert {"413", "415"} <= codes, (method, path, codes)
