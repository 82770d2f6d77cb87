"""Every shared SerpApi recording parses into AdSpark's fields without loss."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from AdSpark.parsing import ParseError, from_unix, from_yyyymmdd, parse_creative, parse_details

RESPONSES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "serpapi" / "responses"
LIST_FILES = sorted(
    p
    for p in RESPONSES.glob("*.json")
    if json.loads(p.read_text())["search_parameters"]["engine"] == "google_ads_transparency_center"
)
DETAIL_FILES = sorted(p for p in RESPONSES.glob("*details*.json"))


def _items(path: Path) -> list[dict]:
    return json.loads(path.read_text()).get("ad_creatives", [])


def test_it_finds_the_shared_recordings() -> None:
    assert len(LIST_FILES) == 6
    assert len(DETAIL_FILES) == 3


@pytest.mark.parametrize("path", LIST_FILES, ids=lambda p: p.stem)
def test_it_parses_every_item_of_every_list_recording_without_loss(path: Path) -> None:
    for item in _items(path):
        record = parse_creative(item)
        # ids, names and links carried over exactly
        assert record.ad_creative_id == item["ad_creative_id"]
        assert record.advertiser_id == item["advertiser_id"]
        assert record.advertiser_name == item["advertiser"]
        assert record.format == item["format"]
        assert record.image_url == item.get("image", "")
        assert record.preview_url == item.get("link", "")
        assert record.width == item.get("width")
        assert record.height == item.get("height")
        assert record.target_domain == item.get("target_domain", "")
        assert record.total_days_shown == item.get("total_days_shown")
        assert record.details_link == item.get("details_link", "")
        assert record.serpapi_details_link == item.get("serpapi_details_link", "")
        # Unix seconds become aware UTC datetimes at the same instant
        assert record.first_shown is not None and record.first_shown.tzinfo is dt.UTC
        assert record.first_shown.timestamp() == item["first_shown"]
        assert record.last_shown is not None and record.last_shown.timestamp() == item["last_shown"]
        # the raw item is kept whole
        assert record.raw == item


def test_it_keeps_the_2025_shape_without_serpapi_details_link_or_domain() -> None:
    items = _items(RESPONSES / "peer_tesla_p1.json")
    records = [parse_creative(i) for i in items]
    assert all(r.serpapi_details_link == "" and r.target_domain == "" for r in records)
    assert {r.format for r in records} == {"text", "video"}
    videos = [r for r in records if r.format == "video"]
    assert sum(1 for r in records if r.format == "text") == 19 and len(videos) == 21
    assert all(r.preview_url or r.image_url for r in videos)


def test_it_keeps_the_2026_shape_with_serpapi_details_link() -> None:
    records = [parse_creative(i) for i in _items(RESPONSES / "holloway_list_nike.json")]
    assert all(r.serpapi_details_link for r in records)


def test_it_accepts_text_creatives_with_a_preview_link_and_no_size() -> None:
    records = [parse_creative(i) for i in _items(RESPONSES / "holloway_list_arcteryx_lastpage.json")]
    link_only = [r for r in records if r.preview_url and not r.image_url]
    assert len(link_only) == 15
    assert all(r.width is None and r.height is None for r in link_only)


def test_it_accepts_a_missing_width_or_height_separately() -> None:
    given = {"ad_creative_id": "CR1", "advertiser_id": "AR1", "format": "image", "width": 300}
    record = parse_creative(given)
    assert (record.width, record.height) == (300, None)


def test_it_keeps_the_target_domain_of_a_domain_search() -> None:
    records = [parse_creative(i) for i in _items(RESPONSES / "exportscout_onlinelighting_gb.json")]
    assert {r.target_domain for r in records} == {"onlinelighting.co.uk"}
    assert any(r.format == "image" and r.preview_url and not r.image_url for r in records)


def test_it_refuses_an_item_without_ids_or_with_an_unknown_format() -> None:
    with pytest.raises(ParseError):
        parse_creative({"advertiser_id": "AR1", "format": "text"})
    with pytest.raises(ParseError):
        parse_creative({"ad_creative_id": "CR1", "advertiser_id": "AR1", "format": "hologram"})


def test_it_parses_ad_details_with_sitelinks_and_ratings() -> None:
    data = json.loads((RESPONSES / "holloway_details_rating_sitelinks.json").read_text())
    fields = parse_details(data)
    assert fields["variations"] == data["ad_creatives"]
    assert fields["title"] == "Under Armour"
    assert fields["visible_link"] == "underarmour.com"
    assert fields["snippet"].startswith("Here\u2019s The Under Armour Deal")
    assert fields["regions"] == [{"region": 2840, "region_name": "United States", "last_shown": 20260812}]
    assert fields["last_shown"] == from_unix(1786573541)
    assert fields["no_results"] is False
    assert fields["raw"] is data


def test_it_parses_a_typical_text_ad_details_response() -> None:
    data = json.loads((RESPONSES / "holloway_details_typical_text.json").read_text())
    fields = parse_details(data)
    assert len(fields["variations"]) == 3
    assert fields["title"] and fields["visible_link"]


def test_it_marks_an_ad_details_no_results_answer() -> None:
    data = json.loads((RESPONSES / "holloway_details_error_noresults.json").read_text())
    fields = parse_details(data)
    assert fields["no_results"] is True
    assert fields["variations"] == []
    assert fields["regions"][0]["region"] == 2840


def test_it_converts_serpapi_time_formats() -> None:
    assert from_unix(0) == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert from_unix("1726590604") == dt.datetime.fromtimestamp(1726590604, tz=dt.UTC)
    assert from_unix(None) is None and from_unix("soon") is None
    assert from_yyyymmdd(20260812) == dt.datetime(2026, 8, 12, tzinfo=dt.UTC)
    assert from_yyyymmdd("2026-13-01") is None
