"""With Redis unreachable, sign-in, registration and reads keep working; the rest is 503 JSON."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from core import health
from core import views as core_views
from tests.factories import CreativeFactory, FetchRunFactory

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every Redis call is refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"
REDIS_DOWN = override_settings(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    },
    CELERY_BROKER_URL=DEAD_REDIS,
    REDIS_URL=DEAD_REDIS,
)


@REDIS_DOWN
def test_it_registers_and_signs_in_while_redis_is_down(api_client: APIClient) -> None:
    # Given Redis (the throttles' cache) unreachable
    # When carol registers and then asks for a token
    registered = api_client.post(
        "/api/auth/register/",
        {"username": "carol", "email": "carol@example.com", "password": "correct-horse-battery"},
        format="json",
    )
    token = api_client.post(
        "/api/auth/token/", {"username": "carol", "password": "correct-horse-battery"}, format="json"
    )
    # Then both work, and the token reads her data
    assert registered.status_code == 201, registered.content
    assert token.status_code == 200, token.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api_client.get("/api/auth/me/").json()["username"] == "carol"


@REDIS_DOWN
def test_it_serves_reads_while_redis_is_down(alice_client: APIClient, alice: object) -> None:
    CreativeFactory()
    run = FetchRunFactory(owner=alice)
    assert alice_client.get("/api/adspark/creatives/").json()["count"] == 1
    assert alice_client.get(f"/api/adspark/fetch-runs/{run.pk}/").json()["id"] == run.pk


@REDIS_DOWN
def test_health_says_down_in_json_and_nothing_more_to_the_public(
    api_client: APIClient, alice_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the broker unreachable (its PING goes to a port where nothing listens)
    monkeypatch.setattr(core_views, "check_redis", lambda: health.check_redis(DEAD_REDIS))
    # When anyone asks
    public = api_client.get("/api/health/")
    # Then the answer is 503 and only the status; a signed-in caller gets the details
    assert public.status_code == 503 and public.json() == {"status": "down"}
    detailed = alice_client.get("/api/health/").json()
    assert detailed["status"] == "down" and detailed["redis"]["ok"] is False and "queues" in detailed


def test_public_health_names_no_worker_or_queue(api_client: APIClient, alice_client: APIClient) -> None:
    assert set(api_client.get("/api/health/").json()) == {"status"}
    assert {"status", "database", "redis", "queues"} <= set(alice_client.get("/api/health/").json())
