"""POST /api/search/save-as-watch/: a search becomes a watch of its owner."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from AdSpark.models import Watch

pytestmark = pytest.mark.django_db

TESLA = "AR17828074650563772417"


def test_it_saves_a_text_search_as_a_watch(alice_client: APIClient, alice: object) -> None:
    response = alice_client.post(
        "/api/search/save-as-watch/",
        {"q": "tesla.com", "region": "US", "creative_format": "text", "interval_minutes": 30},
    )

    assert response.status_code == 201, response.data
    watch = Watch.objects.get(pk=response.data["id"])
    assert watch.owner == alice
    assert watch.name == "Search: tesla.com (US, text)"
    assert (watch.text, watch.advertiser_ids, watch.region, watch.creative_format) == (
        "tesla.com",
        [],
        "2840",
        "text",
    )
    assert watch.interval_minutes == 30
    assert response.data["text"] == "tesla.com"


def test_it_watches_the_advertisers_a_search_names(alice_client: APIClient) -> None:
    response = alice_client.post(
        "/api/search/save-as-watch/", {"q": TESLA, "name": "Tesla US", "region": "US"}
    )

    assert response.status_code == 201, response.data
    watch = Watch.objects.get(pk=response.data["id"])
    assert watch.advertiser_ids == [TESLA]
    assert watch.text == ""
    assert watch.name == "Tesla US"


def test_it_answers_bad_watch_settings_with_field_errors(alice_client: APIClient) -> None:
    too_often = alice_client.post("/api/search/save-as-watch/", {"q": "tesla", "interval_minutes": 1})
    bad_region = alice_client.post("/api/search/save-as-watch/", {"q": "tesla", "region": "Atlantis"})
    no_text = alice_client.post("/api/search/save-as-watch/", {"q": ""})

    assert too_often.status_code == 400 and "interval_minutes" in too_often.data
    assert bad_region.status_code == 400 and "region" in bad_region.data
    assert no_text.status_code == 400 and "q" in no_text.data
    assert not Watch.objects.exists()


def test_the_watch_is_private_to_whoever_saved_it(alice_client: APIClient, bob: object) -> None:
    watch_id = alice_client.post("/api/search/save-as-watch/", {"q": "tesla"}).data["id"]
    bob_client = APIClient()
    bob_client.force_authenticate(bob)

    assert bob_client.get(f"/api/adspark/watches/{watch_id}/").status_code == 404
    assert alice_client.get(f"/api/adspark/watches/{watch_id}/").status_code == 200
