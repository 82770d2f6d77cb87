"""Fetch runs in a marketer's words (summary, user_message, progress_percent, retry_at), the
regions endpoint, region names, and cancelling a run through the API (no worker here: see
test_fetch_cancel.py for a cancel honoured by a real worker)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from AdSpark.models import FetchRun
from tests.factories import AdvertiserFactory, FetchRunFactory

TESLA = "AR17828074650563772417"
UNKNOWN = "AR00000000000000000001"

pytestmark = pytest.mark.django_db


def _run(owner, **fields) -> FetchRun:  # type: ignore[no-untyped-def]
    params = fields.pop("params", {"advertiser_ids": [TESLA], "region": "2840", "num": 100, "max_pages": 3})
    return FetchRunFactory(owner=owner, params=params, **fields)


def test_it_lists_every_region_with_its_name_and_letters_sorted_by_name(alice_client: APIClient) -> None:
    response = alice_client.get("/api/adspark/regions/")
    assert response.status_code == 200
    regions = response.json()
    assert len(regions) == 239
    assert {"code": "2840", "name": "United States", "letters": "US"} in regions
    names = [region["name"] for region in regions]
    assert names == sorted(names, key=str.casefold)


def test_it_refuses_the_regions_to_anonymous_callers(api_client: APIClient) -> None:
    assert api_client.get("/api/adspark/regions/").status_code == 401


def test_it_summarises_a_run_with_the_advertiser_name_region_format_and_counts(
    alice, alice_client: APIClient
) -> None:  # type: ignore[no-untyped-def]
    # Given a finished 3-page fetch of Tesla's images in the United States
    AdvertiserFactory(advertiser_id=TESLA, name="Tesla, Inc.")
    run = _run(
        alice,
        params={"advertiser_ids": [TESLA], "region": "2840", "creative_format": "image", "max_pages": 3},
        status="succeeded",
        pages_fetched=3,
        progress_done=3,
        progress_total=3,
        creatives_seen=40,
        creatives_new=12,
        total_results=40,
    )
    # When alice reads it
    body = alice_client.get(f"/api/adspark/fetch-runs/{run.pk}/").json()
    # Then it reads like a sentence, not like "AR1782… · region 2840"
    assert body["summary"] == "Tesla, Inc. · United States · images · 3 pages · 40 creatives (12 new)"
    assert body["advertiser_names"] == ["Tesla, Inc."]
    assert body["region_name"] == "United States"
    assert body["user_message"] == "" and body["retry_at"] is None
    assert body["progress_percent"] == 100.0


def test_it_says_that_serpapi_found_nothing_for_an_unknown_advertiser(alice, alice_client: APIClient) -> None:  # type: ignore[no-untyped-def]
    run = _run(
        alice,
        params={"advertiser_ids": [UNKNOWN], "region": "2124", "max_pages": 1},
        status="succeeded",
        pages_fetched=1,
        stop_reason="no_results",
    )
    body = alice_client.get(f"/api/adspark/fetch-runs/{run.pk}/").json()
    assert body["user_message"] == f"SerpApi found no ads for advertiser {UNKNOWN} in Canada."
    assert body["advertiser_names"] == [UNKNOWN]  # no stored name: the id


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            "SerpApi HTTP 401: Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key",
            "SerpApi rejected the API key — an operator must set SERPAPI_API_KEY.",
        ),
        (
            "Gave up after 6 attempts: SerpApi HTTP 503: Internal server error",
            "SerpApi had a server error (HTTP 503); AdSpark gave up after 6 attempts. Try again later.",
        ),
        (
            "SerpApi answered with a body that is not JSON: '{\"search_meta'",
            "SerpApi sent an answer AdSpark could not read. Try again later.",
        ),
    ],
)
def test_it_explains_a_failure_without_serpapi_s_own_words(
    alice, alice_client: APIClient, error: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    # Given a run that failed after 1 of 5 planned pages
    run = _run(alice, status="failed", error=error, pages_fetched=1, progress_done=1, progress_total=5)
    run.total_results = 200
    run.save()
    body = alice_client.get(f"/api/adspark/fetch-runs/{run.pk}/").json()
    # Then the marketer reads an explanation and a bar that is not full
    assert body["user_message"] == expected
    assert "should be here" not in body["user_message"]
    assert body["progress_percent"] == 20.0
    # while engineers keep the real text
    assert body["error"] == error


def test_it_never_shows_a_full_bar_for_a_failed_run(alice, alice_client: APIClient) -> None:  # type: ignore[no-untyped-def]
    run = _run(alice, status="failed", error="SerpApi HTTP 403: x", progress_done=5, progress_total=5)
    run.total_results = 500
    run.save()
    assert alice_client.get(f"/api/adspark/fetch-runs/{run.pk}/").json()["progress_percent"] == 99.0


def test_it_has_no_percent_while_the_number_of_pages_is_unknown(alice, alice_client: APIClient) -> None:  # type: ignore[no-untyped-def]
    run = _run(alice, status="running", progress_total=5)
    assert alice_client.get(f"/api/adspark/fetch-runs/{run.pk}/").json()["progress_percent"] is None


def test_it_gives_the_time_a_waiting_retry_is_due(alice, alice_client: APIClient) -> None:  # type: ignore[no-untyped-def]
    # Given a run waiting 39 s for the retry of a 429 (no delivery holds it)
    due = timezone.now() + dt.timedelta(seconds=39)
    run = _run(
        alice,
        status="running",
        lease_owner="",
        retry_at=due,
        error="Retrying in 39 s after: SerpApi HTTP 429: Your account has run out of searches.",
    )
    body = alice_client.get(f"/api/adspark/fetch-runs/{run.pk}/").json()
    # Then the web app can count down to retry_at, and reads why in its own words
    assert dt.datetime.fromisoformat(body["retry_at"]) == due
    assert body["user_message"] == (
        "SerpApi is rate-limiting AdSpark (too many requests); AdSpark tries again automatically."
    )
    # and once a delivery holds it again, there is nothing to count down to
    FetchRun.objects.filter(pk=run.pk).update(lease_owner="task@host#1")
    assert alice_client.get(f"/api/adspark/fetch-runs/{run.pk}/").json()["retry_at"] is None


def test_it_lists_runs_with_names_in_one_query_for_the_whole_page(
    alice, alice_client: APIClient, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for n in range(10):
        advertiser = AdvertiserFactory(name=f"Brand {n}")
        _run(alice, params={"advertiser_ids": [advertiser.advertiser_id], "max_pages": 1})
    with django_assert_max_num_queries(4):  # session/user, count, page, advertiser names
        body = alice_client.get("/api/adspark/fetch-runs/").json()
    assert sorted(run["advertiser_names"][0] for run in body["results"]) == [f"Brand {n}" for n in range(10)]
    assert {run["region_name"] for run in body["results"]} == {None}


def test_it_cancels_a_pending_run_and_revokes_its_task(
    alice, alice_client: APIClient, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from backend.celery import app

    revoked: list[str] = []
    monkeypatch.setattr(app.control, "revoke", lambda task_id, **kw: revoked.append(task_id))
    run = _run(alice, status="pending", celery_task_id="task-1")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/api/adspark/fetch-runs/{run.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["user_message"].startswith("This fetch was cancelled")
    assert revoked == ["task-1"]


def test_it_answers_409_when_the_run_had_already_ended(alice, alice_client: APIClient) -> None:  # type: ignore[no-untyped-def]
    run = _run(alice, status="succeeded")
    response = alice_client.post(f"/api/adspark/fetch-runs/{run.pk}/cancel/")
    assert response.status_code == 409
    assert response.json() == {"detail": "This fetch run has already ended (succeeded)."}
    assert FetchRun.objects.get(pk=run.pk).status == "succeeded"


def test_it_does_not_let_bob_cancel_alice_s_run(alice, bob) -> None:  # type: ignore[no-untyped-def]
    run = _run(alice, status="running")
    client = APIClient()
    client.force_authenticate(bob)
    response = client.post(f"/api/adspark/fetch-runs/{run.pk}/cancel/")
    assert response.status_code == 404
    assert response.json() == {"detail": "This fetch run does not exist or is not yours."}
    assert FetchRun.objects.get(pk=run.pk).status == "running"


def test_it_names_the_region_of_watches_and_search_history(alice_client: APIClient) -> None:
    watch = alice_client.post(
        "/api/adspark/watches/",
        {"name": "Tesla GB", "advertiser_ids": [TESLA], "region": "GB"},
        format="json",
    ).json()
    assert watch["region"] == "2826" and watch["region_name"] == "United Kingdom"
    alice_client.get("/api/search/", {"q": "tesla", "region": "CA"})
    history = alice_client.get("/api/search/history/").json()["results"]
    assert history[0]["region_name"] == "Canada"
