"""Hostile input gets a 400 (or 413) with JSON field errors, never a 500 or an HTML page."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from AdSpark.models import FetchRun
from tests.factories import CreativeFactory

pytestmark = pytest.mark.django_db

TESLA = "AR17828074650563772417"


# --- datetimes PostgreSQL rejects (#2) -------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 once in UTC
        "9999-12-31T23:59:59-05:00",  # after year 9999 once in UTC
        "10000-01-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-01-01T00:00:00+24:00",
    ],
)
def test_it_answers_400_for_datetimes_out_of_range(alice_client: APIClient, value: str) -> None:
    response = alice_client.get("/api/adspark/creatives/", {"shown_after": value})
    assert response.status_code == 400, response.content
    assert "shown_after" in response.json()


@pytest.mark.parametrize(
    "value,found",
    [
        # The probe's case: PostgreSQL refuses offsets beyond ±15:59 ("time zone displacement
        # out of range"); in UTC this is 2025-06-01T18:53Z, after the creative's last day.
        ("2025-06-01T00:00:00-18:53", False),
        ("2025-06-01T23:00:00+23:59", True),  # 2025-05-31T23:01Z
        ("0173-10-14T06:52:56-18:53", True),
    ],
)
def test_it_filters_in_utc_whatever_the_offset(alice_client: APIClient, value: str, found: bool) -> None:
    # Given a creative last shown on 2025-06-01T12:00Z
    CreativeFactory(last_shown=dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC))
    # When alice asks for creatives shown after a time with an offset PostgreSQL would refuse
    response = alice_client.get("/api/adspark/creatives/", {"shown_after": value})
    # Then the offset is applied, in UTC, and nothing fails
    assert response.status_code == 200, response.content
    assert response.json()["count"] == int(found)


# --- deeply nested JSON (#3) -----------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 5000, 100_000])
def test_it_answers_400_for_deeply_nested_json(alice_client: APIClient, depth: int) -> None:
    body = "[" * depth + "]" * depth
    response = alice_client.post("/api/adspark/fetch/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert "nested deeper" in response.json()["detail"]
    assert FetchRun.objects.count() == 0


def test_it_accepts_ordinary_nesting(alice_client: APIClient) -> None:
    response = alice_client.post(
        "/api/adspark/fetch/", {"advertiser_ids": [TESLA], "text": "x", "extra": {"a": [[1]]}}, format="json"
    )
    assert response.status_code == 202, response.content


# --- every error is JSON (#5) ----------------------------------------------------------------


@pytest.mark.parametrize("field,path", [("text", "/api/adspark/fetch/"), ("prompt", "/api/ai/variants/")])
def test_it_answers_json_413_for_a_body_over_the_upload_limit(alice_client: APIClient, field: str, path: str) -> None:
    body = {field: "x" * (5 * 1024 * 1024), "advertiser_ids": TESLA}
    response = alice_client.post(path, body, format="json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "larger than the server accepts" in response.json()["detail"]


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/no-such-endpoint/"),
        ("get", "/api/adspark/creatives/CR00000000000000000000/"),
        ("delete", "/api/adspark/creatives/"),
        ("get", "/api/adspark/fetch-runs/not-a-number/"),
    ],
)
def test_it_answers_json_for_every_api_error(alice_client: APIClient, method: str, path: str) -> None:
    response = getattr(alice_client, method)(path)
    assert response.status_code in (404, 405)
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    assert response.json()["detail"]


def test_it_answers_json_when_not_signed_in(api_client: APIClient) -> None:
    response = api_client.post("/api/adspark/fetch/", {"text": "x"}, format="json")
    assert response.status_code == 401 and response.json()["detail"]
