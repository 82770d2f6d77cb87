"""API → data_fetch queue → a real worker process → PostgreSQL, with the local SerpApi server.

These tests run a real ``celery -A backend worker`` (fixture ``celery_worker``) against the
test database and Redis; data is committed (``transaction=True``) so the worker sees it.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from AdSpark.models import Creative, FetchRun
from AdSpark.tasks import fetch_creatives_task
from tests.conftest import wait_for

TESLA = "AR17828074650563772417"

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _finished(run_id: int) -> FetchRun | None:
    run = FetchRun.objects.get(pk=run_id)
    return run if run.status in ("succeeded", "failed") else None


def _fetch(client: APIClient, **payload: object) -> dict:
    response = client.post("/api/adspark/fetch/", payload, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def test_it_fetches_through_the_queue_into_the_database(alice_client, serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    # Given the Tesla advertiser recorded on the local SerpApi server
    # When alice asks for it through the API
    job = _fetch(alice_client, advertiser_ids=TESLA, region="US")
    # Then the worker stores all 40 creatives and the run says so
    run = wait_for(lambda: _finished(job["id"]), timeout=60, message="fetch run to finish")
    assert run.status == "succeeded", run.error
    assert (run.pages_fetched, run.creatives_seen, run.creatives_new) == (1, 40, 40)
    assert Creative.objects.filter(advertiser_id=TESLA).count() == 40
    # and the status endpoints agree
    body = alice_client.get(job["status_url"]).json()
    assert body["status"] == "succeeded" and body["progress"]["percent"] == 100.0
    task = alice_client.get(f"/api/tasks/{job['task_id']}/").json()
    assert task["state"] == "SUCCESS" and task["summary"]["creatives_new"] == 40


def test_it_creates_no_duplicates_when_the_same_fetch_is_replayed(
    alice_client, serpapi, celery_worker
) -> None:  # type: ignore[no-untyped-def]
    first = _fetch(alice_client, advertiser_ids=TESLA, region="US", num=15)
    wait_for(lambda: _finished(first["id"]), timeout=60)
    second = _fetch(alice_client, advertiser_ids=TESLA, region="US", num=15)
    run = wait_for(lambda: _finished(second["id"]), timeout=60)
    assert (run.status, run.creatives_seen, run.creatives_new, run.creatives_updated) == (
        "succeeded",
        40,
        0,
        0,
    )
    assert Creative.objects.count() == 40


def test_it_follows_re_paginated_pages_to_the_end(alice_client, serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    job = _fetch(alice_client, advertiser_ids=TESLA, region="2840", num=10, max_pages=10)
    run = wait_for(lambda: _finished(job["id"]), timeout=60)
    assert (run.status, run.pages_fetched, run.searches_used, run.stop_reason) == (
        "succeeded",
        4,
        4,
        "last_page",
    )
    assert len(set(run.creative_ids)) == 40
    tokens = [r["params"].get("next_page_token") for r in serpapi.requests]
    assert tokens[0] is None and all(tokens[1:]) and len(set(tokens[1:])) == 3


def test_it_retries_a_429_and_then_succeeds(alice_client, serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    serpapi.inject_fault(status=429, count=2)
    job = _fetch(alice_client, advertiser_ids=TESLA, region="US")
    run = wait_for(lambda: _finished(job["id"]), timeout=60)
    assert run.status == "succeeded" and run.retries == 2 and run.creatives_new == 40
    assert [r["status"] for r in serpapi.requests] == [429, 429, 200]


def test_it_fails_at_once_on_a_401_with_a_readable_error(alice_client, serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    serpapi.inject_fault(status=401)
    job = _fetch(alice_client, advertiser_ids=TESLA, region="US")
    run = wait_for(lambda: _finished(job["id"]), timeout=60)
    assert run.status == "failed" and run.retries == 0
    assert "401" in run.error and "Invalid API key" in run.error
    assert len(serpapi.requests) == 1
    # the row fails before the task's own result is stored: wait for Celery's FAILURE
    task = wait_for(
        lambda: (t := alice_client.get(f"/api/tasks/{job['task_id']}/").json())["state"] == "FAILURE" and t,
        timeout=30,
    )
    assert task["error"] == run.error


def test_it_fails_a_malformed_body_without_retrying(alice_client, serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    serpapi.inject_fault(body="malformed")
    job = _fetch(alice_client, advertiser_ids=TESLA, region="US")
    run = wait_for(lambda: _finished(job["id"]), timeout=60)
    assert run.status == "failed" and "not JSON" in run.error and len(serpapi.requests) == 1


def test_it_retries_a_timeout(alice_client, serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    # SERPAPI_TIMEOUT is 5 s in the tests: one slow answer times out, the retry succeeds
    serpapi.inject_fault(delay=6)
    job = _fetch(alice_client, advertiser_ids=TESLA, region="US")
    run = wait_for(lambda: _finished(job["id"]), timeout=90)
    assert run.status == "succeeded" and run.retries == 1, run.error
    # the slow answer is logged once the server finishes it; wait so the next test starts clean
    wait_for(lambda: len(serpapi.requests) == 2, timeout=10, message="the delayed answer")


def test_it_gives_up_after_bounded_retries_and_says_why(alice_client, serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    serpapi.inject_fault(status=503, count=10)
    job = _fetch(alice_client, advertiser_ids=TESLA, region="US")
    run = wait_for(lambda: _finished(job["id"]), timeout=90)
    assert run.status == "failed" and "Gave up after 6 attempts" in run.error
    assert [r["status"] for r in serpapi.requests] == [503] * 6


def test_it_accepts_the_seed_delay_call_as_written(serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    result = fetch_creatives_task.delay(advertiser_ids=TESLA, text="", region="US")
    summary = result.get(timeout=60)
    run = FetchRun.objects.get(celery_task_id=result.id)
    assert summary["fetch_run_id"] == run.pk and summary["creatives_new"] == 40
    assert run.owner is None and run.status == "succeeded" and run.params["region"] == "2840"


def test_it_refuses_a_seed_call_with_bad_parameters_without_creating_a_run(serpapi, celery_worker) -> None:  # type: ignore[no-untyped-def]
    result = fetch_creatives_task.delay(advertiser_ids="AR1", region="US")
    with pytest.raises(Exception, match="advertiser_ids"):
        result.get(timeout=30)
    assert FetchRun.objects.count() == 0 and serpapi.requests == []


def test_it_reports_health_with_the_queues_that_have_a_worker(alice_client, celery_worker) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.delete("health:consumers")
    body = alice_client.get("/api/health/").json()
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["queues"]["data_fetch"]["workers"] and body["queues"]["default"]["workers"]
    # the session worker serves two of the four queues: the others have nobody, so degraded
    assert body["queues"]["maintenance"]["workers"] == [] and body["status"] == "degraded"
    assert body["queues"]["data_fetch"]["waiting"] == 0
