"""GET /api/search/: full-text search over advertisers and creatives, filters, pagination, history."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from AdSpark.models import CreativeDetails
from search import selectors
from search.models import SearchHistoryEntry
from tests.factories import AdvertiserFactory, CreativeFactory

pytestmark = pytest.mark.django_db

TESLA = "AR17828074650563772417"


@pytest.fixture
def catalogue() -> dict[str, object]:
    """Tesla with three creatives (one with ad copy), and Nike with one."""
    tesla = AdvertiserFactory(advertiser_id=TESLA, name="Tesla Inc.")
    nike = AdvertiserFactory(advertiser_id="AR16735076323512287233", name="Nike")
    model_y = CreativeFactory(
        advertiser=tesla, ad_creative_id="CR00000000000000000001", target_domain="tesla.com", format="text"
    )
    CreativeDetails.objects.create(
        creative=model_y,
        title="Model Y Juniper",
        snippet="Order the new Model Y with free supercharging.",
        visible_link="www.tesla.com/modely",
    )
    video = CreativeFactory(
        advertiser=tesla, ad_creative_id="CR00000000000000000002", format="video", regions=["2826"]
    )
    shoes = CreativeFactory(
        advertiser=nike, ad_creative_id="CR00000000000000000003", target_domain="nike.com"
    )
    CreativeDetails.objects.create(
        creative=shoes, title="Air Max", snippet="Running shoes for every supercharged runner."
    )
    return {"tesla": tesla, "nike": nike, "model_y": model_y, "video": video, "shoes": shoes}


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [row["ad_creative_id"] for row in response.data["results"]]


def test_it_finds_an_advertisers_creatives_by_name(alice_client: APIClient, catalogue: dict) -> None:
    response = alice_client.get("/api/search/", {"q": "tesla"})

    assert response.status_code == 200
    assert response.data["engine"] == "full_text"
    assert set(ids(response)) == {"CR00000000000000000001", "CR00000000000000000002"}
    assert [a["advertiser_id"] for a in response.data["advertisers"]] == [TESLA]
    assert response.data["advertisers"][0]["creative_count"] == 2
    assert response.data["advertisers"][0]["rank"] > 0


def test_it_ranks_the_creative_whose_copy_matches_first(alice_client: APIClient, catalogue: dict) -> None:
    response = alice_client.get("/api/search/", {"q": "tesla model"})

    # "model" is only in the Model Y ad copy; the video matches neither word in one document.
    assert ids(response) == ["CR00000000000000000001"]
    row = response.data["results"][0]
    assert row["title"] == "Model Y Juniper"
    assert row["rank"] > 0


def test_it_matches_ad_copy_by_word_prefix(alice_client: APIClient, catalogue: dict) -> None:
    response = alice_client.get("/api/search/", {"q": "supercharg"})

    assert set(ids(response)) == {"CR00000000000000000001", "CR00000000000000000003"}
    assert response.data["advertisers"] == []


def test_it_matches_a_domain_by_its_parts_and_whole(alice_client: APIClient, catalogue: dict) -> None:
    assert ids(alice_client.get("/api/search/", {"q": "nike.com"})) == ["CR00000000000000000003"]
    assert ids(alice_client.get("/api/search/", {"q": "NIKE"})) == ["CR00000000000000000003"]


def test_it_finds_an_advertiser_and_a_creative_by_id(alice_client: APIClient, catalogue: dict) -> None:
    by_advertiser = alice_client.get("/api/search/", {"q": TESLA.lower()})
    by_creative = alice_client.get("/api/search/", {"q": "CR00000000000000000003"})

    assert [a["advertiser_id"] for a in by_advertiser.data["advertisers"]] == [TESLA]
    assert len(by_advertiser.data["results"]) == 2
    assert ids(by_creative) == ["CR00000000000000000003"]


def test_it_applies_the_creative_list_filters(alice_client: APIClient, catalogue: dict) -> None:
    text_only = alice_client.get("/api/search/", {"q": "tesla", "creative_format": "text"})
    in_gb = alice_client.get("/api/search/", {"q": "tesla", "region": "GB"})
    one_advertiser = alice_client.get("/api/search/", {"q": "supercharging", "advertiser_id": TESLA})

    assert ids(text_only) == ["CR00000000000000000001"]
    assert ids(in_gb) == ["CR00000000000000000002"]
    assert ids(one_advertiser) == ["CR00000000000000000001"]


def test_it_refuses_bad_input_with_field_errors(alice_client: APIClient, catalogue: dict) -> None:
    assert alice_client.get("/api/search/", {"q": "  "}).data == {
        "q": ["Enter a word, name, domain or advertiser id to search for."]
    }
    assert alice_client.get("/api/search/").status_code == 400
    bad_region = alice_client.get("/api/search/", {"q": "tesla", "region": "XX"})
    assert bad_region.status_code == 400
    assert "region" in bad_region.data
    bad_format = alice_client.get("/api/search/", {"q": "tesla", "creative_format": "hologram"})
    assert bad_format.status_code == 400
    assert "creative_format" in bad_format.data


def test_it_ignores_tsquery_syntax_in_the_query(alice_client: APIClient, catalogue: dict) -> None:
    response = alice_client.get("/api/search/", {"q": "tesla' & !(:* | <->"})

    assert response.status_code == 200
    assert len(response.data["results"]) == 2


def test_it_paginates(alice_client: APIClient, catalogue: dict) -> None:
    tesla = catalogue["tesla"]
    CreativeFactory.create_batch(5, advertiser=tesla)

    first = alice_client.get("/api/search/", {"q": "tesla", "page_size": 3})
    last = alice_client.get("/api/search/", {"q": "tesla", "page_size": 3, "page": 3})

    assert first.data["count"] == 7
    assert len(first.data["results"]) == 3
    assert first.data["next"] is not None and first.data["previous"] is None
    assert len(last.data["results"]) == 1
    assert last.data["next"] is None


def test_it_needs_a_signed_in_user(api_client: APIClient, catalogue: dict) -> None:
    assert api_client.get("/api/search/", {"q": "tesla"}).status_code == 401


def test_the_sqlite_fallback_matches_every_word_somewhere(
    alice_client: APIClient, catalogue: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "uses_full_text", lambda: False)

    response = alice_client.get("/api/search/", {"q": "tesla juniper"})
    advertisers = alice_client.get("/api/search/", {"q": "nik"})

    assert response.data["engine"] == "fallback"
    assert ids(response) == ["CR00000000000000000001"]
    assert response.data["results"][0]["rank"] is None
    assert [a["name"] for a in advertisers.data["advertisers"]] == ["Nike"]


class TestHistory:
    def test_it_records_the_first_page_of_each_search_once(
        self, alice_client: APIClient, alice: object, catalogue: dict
    ) -> None:
        alice_client.get("/api/search/", {"q": "tesla", "creative_format": "text"})
        alice_client.get("/api/search/", {"q": "tesla", "creative_format": "text"})
        alice_client.get("/api/search/", {"q": "tesla", "creative_format": "text", "page": 1, "page_size": 1})
        alice_client.get("/api/search/", {"q": "nike"})

        history = alice_client.get("/api/search/history/").data["results"]

        assert [(h["q"], h["filters"], h["result_count"]) for h in history] == [
            ("nike", {}, 1),
            ("tesla", {"creative_format": "text"}, 1),
        ]

    def test_it_keeps_one_entry_per_search_refreshed_when_it_is_repeated(
        self, alice_client: APIClient, alice: object, catalogue: dict
    ) -> None:
        # Given alice searched tesla, then nike
        alice_client.get("/api/search/", {"q": "tesla"})
        alice_client.get("/api/search/", {"q": "nike"})
        # When she searches tesla again (typed differently)
        alice_client.get("/api/search/", {"q": "Tesla"})
        # Then tesla is one chip, moved to the top with the new text, not a duplicate
        history = alice_client.get("/api/search/history/").data["results"]
        assert [h["q"] for h in history] == ["Tesla", "nike"]
        assert SearchHistoryEntry.objects.count() == 2

    def test_it_forgets_one_entry_on_delete_with_a_friendly_404_after(
        self, alice_client: APIClient, alice: object, catalogue: dict
    ) -> None:
        alice_client.get("/api/search/", {"q": "tesla"})
        alice_client.get("/api/search/", {"q": "nike"})
        tesla = SearchHistoryEntry.objects.get(q="tesla")
        assert alice_client.delete(f"/api/search/history/{tesla.pk}/").status_code == 204
        assert [h["q"] for h in alice_client.get("/api/search/history/").data["results"]] == ["nike"]
        again = alice_client.delete(f"/api/search/history/{tesla.pk}/")
        assert again.status_code == 404
        assert again.json() == {"detail": "This search is not in your history."}

    def test_it_is_private_to_each_user(
        self, alice_client: APIClient, alice: object, bob: object, catalogue: dict
    ) -> None:
        alice_client.get("/api/search/", {"q": "tesla"})
        entry = SearchHistoryEntry.objects.get(owner=alice)
        bob_client = APIClient()
        bob_client.force_authenticate(bob)

        assert bob_client.get("/api/search/history/").data["results"] == []
        assert bob_client.delete(f"/api/search/history/{entry.pk}/").status_code == 404
        assert alice_client.delete(f"/api/search/history/{entry.pk}/").status_code == 204
        assert not SearchHistoryEntry.objects.exists()

    def test_it_can_be_cleared(
        self, alice_client: APIClient, alice: object, bob: object, catalogue: dict
    ) -> None:
        alice_client.get("/api/search/", {"q": "tesla"})
        alice_client.get("/api/search/", {"q": "nike"})
        SearchHistoryEntry.objects.create(owner=bob, q="bob's")

        assert alice_client.post("/api/search/history/clear/").status_code == 204
        assert list(SearchHistoryEntry.objects.values_list("q", flat=True)) == ["bob's"]
