"""``POST /api/adspark/creatives/{id}/fetch-details/``: the details panel's "Fetch ad details"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from AdSpark import views
from AdSpark.models import CreativeDetails
from AdSpark.serpapi_client import SerpApiPermanentError, SerpApiTransientError
from AdSpark.services import creative_upsert_page

pytestmark = pytest.mark.django_db

RESPONSES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "serpapi" / "responses"


@pytest.fixture
def creative_id() -> str:
    """An Under Armour text creative whose ad-details response is recorded."""
    params = json.loads((RESPONSES / "holloway_details_rating_sitelinks.json").read_text())[
        "search_parameters"
    ]
    creative_upsert_page(
        items=[
            {
                "ad_creative_id": params["creative_id"],
                "advertiser_id": params["advertiser_id"],
                "advertiser": "Under Armour",
                "format": "text",
            }
        ],
        region="2840",
    )
    return str(params["creative_id"])


def test_it_fetches_and_answers_the_creative_with_its_details(
    alice_client: APIClient, creative_id, serpapi
) -> None:  # type: ignore[no-untyped-def]
    before = alice_client.get(f"/api/adspark/creatives/{creative_id}/").json()
    assert before["details"] is None

    response = alice_client.post(f"/api/adspark/creatives/{creative_id}/fetch-details/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ad_creative_id"] == creative_id
    assert body["details"]["title"] == "Under Armour" and len(body["details"]["variations"]) == 3
    assert CreativeDetails.objects.filter(creative_id=creative_id).count() == 1
    assert (
        alice_client.get(f"/api/adspark/creatives/{creative_id}/").json()["details"]["title"]
        == "Under Armour"
    )


def test_an_unknown_creative_is_404_and_anonymous_is_401(
    alice_client: APIClient, api_client: APIClient
) -> None:
    assert (
        alice_client.post("/api/adspark/creatives/CR00000000000000000000/fetch-details/").status_code == 404
    )
    assert api_client.post("/api/adspark/creatives/CR00000000000000000000/fetch-details/").status_code == 401


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (SerpApiTransientError("timeout", retry_after=12.2), 503, "try again"),
        (SerpApiPermanentError("Invalid API key. Your API key should be here"), 502, "operator"),
    ],
)
def test_serpapi_failures_answer_in_plain_words_without_serpapi_text(  # type: ignore[no-untyped-def]
    alice_client: APIClient, creative_id, monkeypatch, error, status, words
) -> None:
    def fail(**kwargs):  # type: ignore[no-untyped-def]
        raise error

    monkeypatch.setattr(views, "creative_details_fetch", fail)
    response = alice_client.post(f"/api/adspark/creatives/{creative_id}/fetch-details/")
    assert response.status_code == status
    assert words in response.json()["detail"] and "API key should be here" not in response.json()["detail"]
    if status == 503:
        assert response["Retry-After"] == "12"
