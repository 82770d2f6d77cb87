"""``GET /api/adspark/advertisers/{id}/timeline/``: creatives first shown and active per week by
format, and what changed in the last week, counted by aggregate queries."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from tests.factories import AdvertiserFactory, CreativeFactory

pytestmark = pytest.mark.django_db

TESLA = "AR17828074650563772417"


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=dt.UTC)


@pytest.fixture
def tesla():  # type: ignore[no-untyped-def]
    # The newest date in Tesla's data is Wednesday 2025-06-11 (a creative last shown then).
    advertiser = AdvertiserFactory(advertiser_id=TESLA, name="Tesla, Inc.")

    def creative(first: str, last: str, creative_format: str = "image"):  # type: ignore[no-untyped-def]
        return CreativeFactory(
            advertiser=advertiser, format=creative_format, first_shown=_at(first), last_shown=_at(last)
        )

    return {
        # runs through the whole window
        "long": creative("2025-05-01", "2025-06-11", "video"),
        # new this week (first shown within 7 days of 2025-06-11)
        "new": creative("2025-06-09", "2025-06-10"),
        "new_text": creative("2025-06-06", "2025-06-11", "text"),
        # stopped: last shown in the 7 days before 2025-06-04, not since
        "stopped": creative("2025-05-20", "2025-06-01"),
        # stopped earlier than that: neither new nor stopped
        "old": creative("2025-04-01", "2025-05-02", "text"),
    }


def test_it_counts_first_shown_and_active_creatives_per_week_by_format(
    alice_client: APIClient, tesla
) -> None:  # type: ignore[no-untyped-def]
    response = alice_client.get(f"/api/adspark/advertisers/{TESLA}/timeline/", {"weeks": 3})
    assert response.status_code == 200
    body = response.json()
    assert (body["advertiser_id"], body["name"]) == (TESLA, "Tesla, Inc.")
    # Three Monday-weeks ending with the week of 2025-06-11
    weeks = {week["week_start"]: week for week in body["weeks"]}
    assert list(weeks) == ["2025-05-26", "2025-06-02", "2025-06-09"]
    assert weeks["2025-06-09"]["first_shown"] == {"text": 0, "image": 1, "video": 0}
    assert weeks["2025-06-02"]["first_shown"] == {"text": 1, "image": 0, "video": 0}
    assert weeks["2025-05-26"]["first_shown"] == {"text": 0, "image": 0, "video": 0}
    # active: long (video) every week; stopped in 05-26 (shown until 06-01, a Sunday);
    # new_text from 06-02's week (first shown Friday 06-06); new in 06-09's week
    assert weeks["2025-05-26"]["active"] == {"text": 0, "image": 1, "video": 1}
    assert weeks["2025-06-02"]["active"] == {"text": 1, "image": 0, "video": 1}
    assert weeks["2025-06-09"]["active"] == {"text": 1, "image": 1, "video": 1}


def test_it_lists_what_changed_in_the_last_week(alice_client: APIClient, tesla) -> None:  # type: ignore[no-untyped-def]
    changes = alice_client.get(f"/api/adspark/advertisers/{TESLA}/timeline/").json()["changes"]
    assert changes["since"] == "2025-06-04"
    assert [c["ad_creative_id"] for c in changes["new"]] == [
        tesla["new"].ad_creative_id,
        tesla["new_text"].ad_creative_id,
    ]
    assert [c["ad_creative_id"] for c in changes["stopped"]] == [tesla["stopped"].ad_creative_id]
    assert (changes["new_count"], changes["stopped_count"]) == (2, 1)
    assert changes["new"][0]["advertiser_name"] == "Tesla, Inc."


def test_it_defaults_to_26_weeks_and_counts_with_a_few_aggregate_queries(
    alice_client: APIClient, tesla, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    CreativeFactory.create_batch(
        50, advertiser=tesla["long"].advertiser, first_shown=_at("2025-01-06"), last_shown=_at("2025-03-01")
    )
    # user, advertiser, newest date, first-shown series, active series, new, stopped, two counts
    with django_assert_max_num_queries(9):
        body = alice_client.get(f"/api/adspark/advertisers/{TESLA}/timeline/").json()
    assert len(body["weeks"]) == 26
    assert body["weeks"][-1]["week_start"] == "2025-06-09"
    assert sum(week["first_shown"]["text"] for week in body["weeks"]) == 52  # 50 + new_text + old
    assert body["weeks"][0]["week_start"] == "2024-12-16"


def test_it_refuses_weeks_outside_1_to_104_with_user_words(alice_client: APIClient, tesla) -> None:  # type: ignore[no-untyped-def]
    for weeks in ("0", "105", "many"):
        response = alice_client.get(f"/api/adspark/advertisers/{TESLA}/timeline/", {"weeks": weeks})
        assert response.status_code == 400
        assert response.json() == {"weeks": ["Choose from 1 to 104 weeks."]}


def test_it_answers_404_for_an_advertiser_it_does_not_have(alice_client: APIClient) -> None:
    response = alice_client.get("/api/adspark/advertisers/AR00000000000000000009/timeline/")
    assert response.status_code == 404
    assert response.json() == {"detail": "This advertiser is not stored; fetch its creatives first."}


def test_it_has_empty_weeks_for_an_advertiser_without_dates(alice_client: APIClient) -> None:
    AdvertiserFactory(advertiser_id=TESLA)
    body = alice_client.get(f"/api/adspark/advertisers/{TESLA}/timeline/", {"weeks": 2}).json()
    assert len(body["weeks"]) == 2
    assert all(week["active"] == {"text": 0, "image": 0, "video": 0} for week in body["weeks"])
    assert body["changes"]["new"] == [] and body["changes"]["new_count"] == 0
