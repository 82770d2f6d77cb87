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
    assert watch.name == "“tesla.com” in United States (text ads)"
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


def test_it_names_an_advertiser_watch_by_the_advertiser_and_region(alice_client: APIClient) -> None:
    from tests.factories import AdvertiserFactory

    AdvertiserFactory(advertiser_id=TESLA, name="Tesla, Inc.")
    response = alice_client.post("/api/search/save-as-watch/", {"q": TESLA, "region": "US"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["name"] == "Tesla, Inc. in United States"
    assert (response.data["region"], response.data["region_name"]) == ("2840", "United States")
    text = alice_client.post(
        "/api/search/save-as-watch/", {"q": "running shoes", "region": "CA"}, format="json"
    )
    assert text.data["name"] == "“running shoes” in Canada"
    anywhere = alice_client.post("/api/search/save-as-watch/", {"q": "AR00000000000000000001"}, format="json")
    assert anywhere.data["name"] == "AR00000000000000000001 in all regions"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_first_scheduled_run_is_one_interval_after_the_baseline(alice_client: APIClient, serpapi) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from AdSpark.watches.dispatch import watch_run_create, watches_dispatch_due
    from AdSpark.watches.services import watch_run

    # Given a watch saved from a search, whose baseline runs at once (triggered by hand)
    body = alice_client.post(
        "/api/search/save-as-watch/", {"q": TESLA, "region": "US", "interval_minutes": 60}
    ).data
    watch = Watch.objects.get(pk=body["id"])
    with transaction.atomic():
        run = watch_run_create(watch=watch)
    run = watch_run(watch_run_id=run.pk, task_id="baseline-task")
    assert run.status == "succeeded" and run.is_baseline, run.error
    # Then the next scheduled run is an interval later, not due at once
    watch.refresh_from_db()
    assert watch.next_run_at > timezone.now() + dt.timedelta(minutes=59)
    assert watches_dispatch_due() == 0
