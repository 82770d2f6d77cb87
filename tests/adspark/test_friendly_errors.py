"""Errors a new user trips over, in their words: 404s without model names, every validation
error of a form in one answer, messages that say "advertiser ID" and "start date"."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import FetchRunFactory

pytestmark = pytest.mark.django_db

TESLA = "AR17828074650563772417"


@pytest.fixture
def bob_client(bob) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(bob)
    return client


def test_another_user_s_watch_is_a_404_that_names_no_model(
    alice_client: APIClient, bob_client: APIClient
) -> None:
    watch = alice_client.post(
        "/api/adspark/watches/", {"name": "Tesla", "advertiser_ids": [TESLA]}, format="json"
    ).json()
    for path in ("", "runs/", "new-creatives/"):
        response = bob_client.get(f"/api/adspark/watches/{watch['id']}/{path}")
        assert response.status_code == 404
        assert response.json() == {"detail": "This watch does not exist or is not yours."}


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/api/adspark/creatives/CR00000000000000000001/", "This creative is not stored."),
        (
            "/api/adspark/advertisers/AR00000000000000000001/",
            "This advertiser is not stored; fetch its creatives first.",
        ),
        ("/api/adspark/fetch-runs/999999/", "This fetch run does not exist or is not yours."),
        ("/api/adspark/watch-runs/999999/", "This watch run does not exist or is not yours."),
        ("/api/adspark/boards/999999/", "This board does not exist or is not yours."),
    ],
)
def test_an_unknown_object_is_a_404_in_words(alice_client: APIClient, path: str, detail: str) -> None:
    response = alice_client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": detail}


def test_a_view_without_its_own_words_says_not_found(alice, bob_client: APIClient) -> None:  # type: ignore[no-untyped-def]
    # the variants API has no message of its own: the handler's default, still no model name
    response = bob_client.get("/api/ai/variants/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_watch_form_gets_every_error_in_one_answer(alice_client: APIClient) -> None:
    # Given a form with a blank name, an interval too short and an unknown region
    response = alice_client.post(
        "/api/adspark/watches/",
        {"name": "", "advertiser_ids": [TESLA], "region": "Narnia", "interval_minutes": 1},
        format="json",
    )
    # Then all three come back together (the region is checked with the query, after the fields)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"name", "interval_minutes", "region"}
    assert body["interval_minutes"] == ["The shortest interval is 15 minutes."]
    assert "Narnia" in body["region"][0]


def test_a_failed_field_does_not_cause_a_misleading_query_error(alice_client: APIClient) -> None:
    # advertiser_ids fails its field's own check (not a string): the query check still flags
    # the region, but not "give at least one advertiser ID" (the IDs were given, just wrong)
    response = alice_client.post(
        "/api/adspark/fetch/", {"advertiser_ids": 5, "region": "Narnia"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"advertiser_ids", "region"}


def test_query_errors_name_fields_in_user_words(alice_client: APIClient) -> None:
    nothing = alice_client.post("/api/adspark/fetch/", {"region": "US"}, format="json").json()
    assert nothing == {"non_field_errors": ["Give at least one advertiser ID or some text to search for."]}
    dates = alice_client.post(
        "/api/adspark/fetch/",
        {"advertiser_ids": TESLA, "start_date": "20250301", "end_date": "20250101", "region": "Narnia"},
        format="json",
    ).json()
    assert dates["end_date"] == ["Must be on or after the start date."]
    assert "region" in dates
    ids = alice_client.post("/api/adspark/fetch/", {"advertiser_ids": "tesla"}, format="json").json()
    assert ids["advertiser_ids"][0].startswith("'tesla' is not an advertiser ID")
    assert not any(
        "_" in message for messages in (nothing, dates) for m in messages.values() for message in m
    )


def test_registration_reports_the_email_and_the_password_in_one_answer(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/auth/register/",
        {"username": "carol", "email": "not-an-email", "password": "password"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_a_finished_run_cannot_be_cancelled(alice, alice_client: APIClient) -> None:  # type: ignore[no-untyped-def]
    run = FetchRunFactory(owner=alice, status="failed")
    response = alice_client.post(f"/api/adspark/fetch-runs/{run.pk}/cancel/")
    assert response.status_code == 409
    assert response.json() == {"detail": "This fetch run has already ended (failed)."}
