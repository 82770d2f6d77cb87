"""POST /api/search/fetch/: a search that found nothing locally starts a SerpApi fetch (202)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from AdSpark.models import FetchRun

pytestmark = pytest.mark.django_db

TESLA = "AR17828074650563772417"


def test_it_starts_a_text_fetch_for_a_search(alice_client: APIClient, alice: object) -> None:
    response = alice_client.post(
        "/api/search/fetch/", {"q": "onlinelighting.co.uk", "region": "GB", "creative_format": "image"}
    )

    assert response.status_code == 202
    run = FetchRun.objects.get(pk=response.data["id"])
    assert run.owner == alice
    assert run.status == "pending"
    assert run.params["text"] == "onlinelighting.co.uk"
    assert run.params["region"] == "2826"
    assert run.params["creative_format"] == "image"
    assert response.data["task_id"] == run.celery_task_id
    assert response["Location"].endswith(f"/api/adspark/fetch-runs/{run.pk}/")


def test_it_turns_advertiser_ids_into_an_advertiser_fetch(alice_client: APIClient) -> None:
    response = alice_client.post("/api/search/fetch/", {"q": TESLA.lower(), "region": "US", "max_pages": 1})

    assert response.status_code == 202
    run = FetchRun.objects.get(pk=response.data["id"])
    assert run.params["advertiser_ids"] == [TESLA]
    assert run.params["text"] == ""
    assert run.params["max_pages"] == 1


def test_it_refuses_a_search_that_is_not_a_valid_query(alice_client: APIClient) -> None:
    bad_region = alice_client.post("/api/search/fetch/", {"q": "tesla", "region": "Atlantis"})
    too_long = alice_client.post("/api/search/fetch/", {"q": "x" * 201})
    missing = alice_client.post("/api/search/fetch/", {})

    assert bad_region.status_code == 400 and "region" in bad_region.data
    assert too_long.status_code == 400 and "q" in too_long.data
    assert missing.status_code == 400 and "q" in missing.data
    assert not FetchRun.objects.exists()


def test_it_needs_a_signed_in_user(api_client: APIClient) -> None:
    assert api_client.post("/api/search/fetch/", {"q": "tesla"}).status_code == 401
