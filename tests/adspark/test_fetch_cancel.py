"""``POST /api/adspark/fetch-runs/{id}/cancel/`` honoured by a real worker: between two pages,
and while the run waits for the retry of a transient error (its ETA message is revoked)."""

from __future__ import annotations

import datetime as dt
import socket
import time
import uuid

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from AdSpark.models import FetchRun
from tests.conftest import wait_for

TESLA = "AR17828074650563772417"
LIMITER_KEY = "adspark:ratelimit:serpapi"

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _fetch(client: APIClient, **payload: object) -> dict:
    response = client.post("/api/adspark/fetch/", payload, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def test_it_stops_a_running_fetch_before_its_next_page(alice_client, serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    # Given an 8-page fetch (40 Tesla creatives, 5 a page) whose pages take a second each
    serpapi.inject_fault(delay=1.0, count=20)
    job = _fetch(alice_client, advertiser_ids=TESLA, region="US", num=5, max_pages=10)
    wait_for(lambda: FetchRun.objects.get(pk=job["id"]).pages_fetched >= 1, timeout=60, message="a page")

    # When alice cancels it
    response = alice_client.post(f"/api/adspark/fetch-runs/{job['id']}/cancel/")

    # Then the answer is the cancelled run, and the worker stops before the next page
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    time.sleep(3)  # a page already requested (prefetched) may still be answered
    count = serpapi.search_count
    time.sleep(2.5)
    run = FetchRun.objects.get(pk=job["id"])
    assert run.status == "cancelled" and run.pages_fetched < 8
    assert serpapi.search_count == count < 8  # no request after it stopped
    # and a second cancel says it has ended
    assert alice_client.post(f"/api/adspark/fetch-runs/{job['id']}/cancel/").status_code == 409


def test_it_cancels_a_fetch_waiting_for_its_retry_and_revokes_the_waiting_message(
    alice_client, serpapi, celery_worker
) -> None:  # type: ignore[no-untyped-def]
    from backend.celery import app

    # Given the cluster-wide SerpApi limit is used up for the next hour (its Redis window full)
    limiter = redis.Redis.from_url(settings.REDIS_URL)
    now = time.time()
    limiter.zadd(
        LIMITER_KEY, {f"{now}:{uuid.uuid4().hex}": now for _ in range(settings.SERPAPI_RATE_LIMIT_PER_HOUR)}
    )
    try:
        # When alice fetches, the worker puts the run back to wait for a slot (an hour)
        job = _fetch(alice_client, advertiser_ids=TESLA, region="US")
        body = wait_for(
            lambda: (b := alice_client.get(job["status_url"]).json())["retry_at"] and b,
            timeout=60,
            message="the run to wait for its retry",
        )
        assert body["status"] == "running"
        assert body["user_message"] == (
            "AdSpark's hourly SerpApi request limit is used up; AdSpark tries again automatically."
        )
        assert dt.datetime.fromisoformat(body["retry_at"]).timestamp() - now > 3000

        # and alice cancels it while it waits
        response = alice_client.post(f"/api/adspark/fetch-runs/{job['id']}/cancel/")

        # Then it is cancelled at once, with nothing left to count down to
        assert response.status_code == 200, response.content
        assert (response.json()["status"], response.json()["retry_at"]) == ("cancelled", None)
        # and the worker holding the retry's message has it revoked
        hostname = celery_worker.name.replace("%h", socket.gethostname())
        revoked = wait_for(
            lambda: (
                job["task_id"]
                in (app.control.inspect(destination=[hostname], timeout=1).revoked() or {}).get(hostname, [])
            ),
            timeout=15,
            message="the task to be revoked on the worker",
        )
        assert revoked
        assert serpapi.search_count == 0  # SerpApi was never asked
    finally:
        limiter.delete(LIMITER_KEY)
