"""The HTTP API: auth, fetch (202 / 400), fetch runs, creatives, advertisers, task status, health."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from AdSpark.models import FetchRun
from AdSpark.ratelimit import SlidingWindowThrottle, redis_client
from AdSpark.services import creative_upsert_page
from tests.factories import CreativeFactory, FetchRunFactory

RESPONSES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "serpapi" / "responses"
TESLA = "AR17828074650563772417"

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_enqueue(monkeypatch):  # type: ignore[no-untyped-def]
    """Record enqueued fetch tasks instead of sending them (API tests need no worker)."""
    sent: list[dict] = []
    from AdSpark import tasks

    def record(args=None, kwargs=None, **options):  # type: ignore[no-untyped-def]  # a signature passes them positionally
        sent.append({**({"kwargs": kwargs} if kwargs else {}), **options})

    monkeypatch.setattr(tasks.fetch_creatives_task, "apply_async", record)
    return sent


@pytest.fixture
def stored() -> None:
    for name, region in (("peer_tesla_p1.json", "2840"), ("exportscout_onlinelighting_gb.json", "2826")):
        creative_upsert_page(items=json.loads((RESPONSES / name).read_text())["ad_creatives"], region=region)


def test_it_registers_signs_in_with_a_token_and_shows_me(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/auth/register/",
        {"username": "carol", "email": "c@example.com", "password": "s3cure-enough-pass"},
    )
    assert response.status_code == 201
    assert response.json()["user"]["username"] == "carol" and response.json()["token"]

    token = api_client.post(
        "/api/auth/token/", {"username": "carol", "password": "s3cure-enough-pass"}
    ).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api_client.get("/api/auth/me/").json()
    assert me["username"] == "carol" and me["settings"] == {"default_region": "", "email_alerts": True}

    updated = api_client.patch("/api/auth/me/", {"default_region": "GB"}).json()
    assert updated["settings"]["default_region"] == "2826"


def test_it_rejects_bad_registrations_with_field_errors(api_client: APIClient, alice) -> None:  # type: ignore[no-untyped-def]
    response = api_client.post("/api/auth/register/", {"username": "alice", "password": "123"})
    assert response.status_code == 400
    assert set(response.json()) >= {"username", "password"}
    assert api_client.post("/api/auth/token/", {"username": "alice", "password": "wrong"}).status_code == 400


def test_it_answers_an_anonymous_write_with_401(api_client: APIClient, no_enqueue) -> None:  # type: ignore[no-untyped-def]
    response = api_client.post("/api/adspark/fetch/", {"advertiser_ids": TESLA})
    assert response.status_code == 401
    assert api_client.get("/api/adspark/creatives/").status_code == 401
    assert no_enqueue == []


def test_it_accepts_a_fetch_with_202_and_enqueues_it_after_commit(
    alice_client: APIClient, no_enqueue, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            "/api/adspark/fetch/", {"advertiser_ids": TESLA, "region": "US"}, format="json"
        )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["task_id"]
    assert body["status_url"].endswith(f"/api/adspark/fetch-runs/{body['id']}/")
    assert response["Location"] == body["status_url"]
    assert body["params"]["region"] == "2840" and body["params"]["advertiser_ids"] == [TESLA]
    assert no_enqueue == [{"kwargs": {"fetch_run_id": body["id"]}, "task_id": body["task_id"]}]


def test_it_throttles_fetches_per_user_with_429_and_retry_after(
    alice_client: APIClient, bob, no_enqueue, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # Given a fetch rate of 2 per minute
    monkeypatch.setattr(SlidingWindowThrottle, "THROTTLE_RATES", {"fetch": "2/minute"})
    body = {"advertiser_ids": TESLA, "region": "US"}
    try:
        # When alice asks three times
        codes = [alice_client.post("/api/adspark/fetch/", body, format="json").status_code for _ in range(3)]
        refused = alice_client.post("/api/adspark/fetch/", body, format="json")
        # Then the third and later are refused with a wait, and bob still gets his
        bob_client = APIClient()
        bob_client.force_authenticate(bob)
        bobs = bob_client.post("/api/adspark/fetch/", body, format="json").status_code
    finally:
        keys = redis_client(settings.REDIS_URL).keys("adspark:ratelimit:throttle:fetch:*")
        if keys:
            redis_client(settings.REDIS_URL).delete(*keys)
    assert codes == [202, 202, 429]
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert bobs == 202
    assert FetchRun.objects.count() == 3


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"advertiser_ids": "AR1"}, "advertiser_ids"),
        ({"text": "a", "region": "Atlantis"}, "region"),
        ({"text": "a", "platform": "TIKTOK"}, "platform"),
        ({"text": "a", "creative_format": "gif"}, "creative_format"),
        ({"text": "a", "start_date": "20250230"}, "start_date"),
        ({"text": "a", "start_date": "20250301", "end_date": "20250201"}, "end_date"),
        ({"text": "a", "political_ads": True}, "political_ads"),
        ({"text": "a", "num": 0}, "num"),
        ({"text": "a", "num": "many"}, "num"),
        ({"text": "a", "max_pages": 1000}, "max_pages"),
        ({}, "non_field_errors"),
    ],
)
def test_it_answers_every_bad_fetch_parameter_with_a_400_naming_the_field(
    alice_client: APIClient, no_enqueue, payload, field
) -> None:  # type: ignore[no-untyped-def]
    response = alice_client.post("/api/adspark/fetch/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert FetchRun.objects.count() == 0 and no_enqueue == []


def test_it_survives_a_body_that_is_not_json(alice_client: APIClient) -> None:
    response = alice_client.post("/api/adspark/fetch/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_it_shows_only_the_callers_own_fetch_runs(alice_client: APIClient, alice, bob) -> None:  # type: ignore[no-untyped-def]
    mine = FetchRunFactory(owner=alice)
    theirs = FetchRunFactory(owner=bob)
    listed = alice_client.get("/api/adspark/fetch-runs/").json()
    assert [r["id"] for r in listed["results"]] == [mine.pk]
    assert alice_client.get(f"/api/adspark/fetch-runs/{theirs.pk}/").status_code == 404
    assert alice_client.get(f"/api/adspark/fetch-runs/{mine.pk}/").json()["progress"] == {
        "done": 0,
        "total": 0,
        "percent": 0.0,
    }


def test_it_lists_and_filters_creatives(alice_client: APIClient, stored) -> None:  # type: ignore[no-untyped-def]
    everything = alice_client.get("/api/adspark/creatives/?page_size=100").json()
    assert everything["count"] == 46
    first = everything["results"][0]
    assert {"ad_creative_id", "image_url", "preview_url", "first_shown", "last_shown", "regions"} <= set(
        first
    )
    assert first["last_shown"].endswith("Z")

    def count(query: str) -> int:
        response = alice_client.get(f"/api/adspark/creatives/?{query}")
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert count(f"advertiser_id={TESLA}") == 40
    assert count("creative_format=video") == 21
    assert count("region=GB") == 6 and count("region=2840") == 40
    assert count("search=onlinelighting") == 6 and count("search=tesla") == 40
    assert count("shown_after=2025-08-14T10:00:00Z") > 0
    assert count("shown_before=2000-01-01T00:00:00Z") == 0
    ordered = alice_client.get("/api/adspark/creatives/?ordering=first_shown").json()["results"]
    assert ordered[0]["first_shown"] <= ordered[-1]["first_shown"]


def test_it_answers_bad_filters_with_400(alice_client: APIClient, stored) -> None:  # type: ignore[no-untyped-def]
    assert "region" in alice_client.get("/api/adspark/creatives/?region=Atlantis").json()
    assert alice_client.get("/api/adspark/creatives/?creative_format=hologram").status_code == 400
    assert alice_client.get("/api/adspark/creatives/?shown_after=yesterday").status_code == 400


def test_it_shows_a_creative_with_its_details_and_404s_unknown_ids(alice_client: APIClient) -> None:
    creative = CreativeFactory()
    body = alice_client.get(f"/api/adspark/creatives/{creative.ad_creative_id}/").json()
    assert body["ad_creative_id"] == creative.ad_creative_id and body["details"] is None
    assert alice_client.get("/api/adspark/creatives/CR99999999999999999999/").status_code == 404


def test_it_lists_advertisers_with_counts_and_their_creatives(alice_client: APIClient, stored) -> None:  # type: ignore[no-untyped-def]
    advertisers = alice_client.get("/api/adspark/advertisers/").json()["results"]
    assert {a["advertiser_id"]: a["creative_count"] for a in advertisers}[TESLA] == 40
    tesla = alice_client.get(f"/api/adspark/advertisers/{TESLA}/").json()
    assert tesla["name"] == "Tesla Inc." and tesla["first_seen"] < tesla["last_seen"]
    creatives = alice_client.get(f"/api/adspark/advertisers/{TESLA}/creatives/").json()
    assert creatives["count"] == 40
    assert alice_client.get("/api/adspark/advertisers/AR99999999999999999999/").status_code == 404


def test_it_reports_a_task_only_to_the_owner_of_its_job(alice_client: APIClient, alice, bob) -> None:  # type: ignore[no-untyped-def]
    mine = FetchRunFactory(
        owner=alice, celery_task_id="task-of-alice", progress_total=4, progress_done=1, status="running"
    )
    FetchRunFactory(owner=bob, celery_task_id="task-of-bob")
    body = alice_client.get("/api/tasks/task-of-alice/").json()
    assert body["job_type"] == "fetchrun" and body["job_id"] == mine.pk
    assert body["status"] == "running" and body["progress"]["percent"] == 25.0
    assert alice_client.get("/api/tasks/task-of-bob/").status_code == 404
    assert alice_client.get("/api/tasks/no-such-task/").status_code == 404


def test_it_publishes_an_openapi_schema_and_swagger_ui(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"/api/adspark/fetch/", "/api/adspark/creatives/", "/api/tasks/{task_id}/", "/api/health/"} <= set(
        paths
    )
    assert api_client.get("/api/docs/").status_code == 200
