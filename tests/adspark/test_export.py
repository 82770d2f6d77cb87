"""Export of creatives (``/creatives/export/``) and boards (``/boards/{id}/export/``): streamed
CSV and JSON of every matching row (all pages), the list's own filters, no query per row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.http import StreamingHttpResponse
from rest_framework.test import APIClient

from AdSpark.exports import COLUMNS
from tests.factories import AdvertiserFactory, CreativeFactory

pytestmark = pytest.mark.django_db

TESLA = "AR17828074650563772417"


def _body(response) -> str:  # type: ignore[no-untyped-def]
    assert isinstance(response, StreamingHttpResponse), type(response)
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def tesla() -> list:
    advertiser = AdvertiserFactory(advertiser_id=TESLA, name="Tesla, Inc.")
    return [
        CreativeFactory(
            advertiser=advertiser,
            format="image" if n % 2 else "text",
            regions=["2840", "2826"],
            platforms=["SEARCH", "YOUTUBE"],
            target_domain="tesla.com",
            last_shown=dt.datetime(2025, 6, 1, tzinfo=dt.UTC) - dt.timedelta(days=n),
        )
        for n in range(120)
    ]


def test_it_streams_every_matching_creative_as_csv_past_the_page_size(
    alice_client: APIClient, tesla, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    # Given 120 Tesla creatives and 30 of another advertiser (more than two pages of 50)
    CreativeFactory.create_batch(30)
    # When alice exports Tesla's image creatives
    with django_assert_max_num_queries(3):  # the user, the creatives (one cursor); no query per row
        response = alice_client.get(
            "/api/adspark/creatives/export/",
            {"export_format": "csv", "advertiser_id": TESLA, "creative_format": "image"},
        )
        body = _body(response)
    # Then she gets all 60, in the list's order, as a CSV download
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    assert response["Content-Disposition"] == f'attachment; filename="adspark-creatives-{day}.csv"'
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 60
    assert tuple(rows[0]) == COLUMNS
    expected = [c.ad_creative_id for c in tesla if c.format == "image"]
    assert [row["ad_creative_id"] for row in rows] == expected
    first = rows[0]
    assert first["advertiser_name"] == "Tesla, Inc." and first["format"] == "image"
    assert first["regions"] == "United States; United Kingdom"
    assert first["platforms"] == "SEARCH; YOUTUBE"
    assert first["archived_image_url"] == ""


def test_it_exports_json_with_region_names_and_iso_dates(alice_client: APIClient, tesla) -> None:  # type: ignore[no-untyped-def]
    response = alice_client.get(
        "/api/adspark/creatives/export/", {"export_format": "json", "advertiser_id": TESLA, "region": "GB"}
    )
    rows = json.loads(_body(response))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith('.json"')
    assert len(rows) == 120
    assert rows[0]["regions"] == ["United States", "United Kingdom"]
    assert rows[0]["last_shown"] == "2025-06-01T00:00:00Z"
    assert rows[0]["archived_thumbnail_url"] is None


def test_it_exports_only_the_chosen_ids(alice_client: APIClient, tesla) -> None:  # type: ignore[no-untyped-def]
    chosen = [tesla[3].ad_creative_id, tesla[1].ad_creative_id]
    response = alice_client.get("/api/adspark/creatives/export/", {"ids": ",".join(chosen)})
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [row["ad_creative_id"] for row in rows] == [tesla[1].ad_creative_id, tesla[3].ad_creative_id]


def test_it_applies_the_list_s_search_and_refuses_bad_filters_like_the_list(
    alice_client: APIClient, tesla
) -> None:  # type: ignore[no-untyped-def]
    CreativeFactory(target_domain="rivian.com")
    found = alice_client.get("/api/adspark/creatives/export/", {"export_format": "json", "search": "rivian"})
    assert [row["target_domain"] for row in json.loads(_body(found))] == ["rivian.com"]
    bad = alice_client.get(
        "/api/adspark/creatives/export/", {"export_format": "xml", "region": "Narnia", "ids": "CR1"}
    )
    # every error at once: the export's own parameters and the list's filters
    assert bad.status_code == 400
    assert set(bad.json()) == {"export_format", "region", "ids"}
    assert bad.json()["export_format"] == ["Choose csv or json."]
    list_answer = alice_client.get("/api/adspark/creatives/", {"region": "Narnia"})
    export_answer = alice_client.get("/api/adspark/creatives/export/", {"region": "Narnia"})
    assert export_answer.status_code == list_answer.status_code == 400
    assert export_answer.json() == list_answer.json()


def test_it_refuses_malformed_ids(alice_client: APIClient) -> None:
    response = alice_client.get("/api/adspark/creatives/export/", {"ids": "CR1,CR2"})
    assert response.status_code == 400
    assert response.json() == {"ids": ["'CR1' is not a creative ID (CR followed by 20 digits)."]}


def test_it_ignores_an_accept_header_that_names_another_type(alice_client: APIClient, tesla) -> None:  # type: ignore[no-untyped-def]
    response = alice_client.get("/api/adspark/creatives/export/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_it_defuses_spreadsheet_formulas_in_csv_cells(alice_client: APIClient) -> None:
    CreativeFactory(advertiser=AdvertiserFactory(name='=HYPERLINK("http://evil")'), target_domain="+1")
    rows = list(csv.DictReader(io.StringIO(_body(alice_client.get("/api/adspark/creatives/export/")))))
    assert rows[0]["advertiser_name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["target_domain"] == "'+1"


def test_it_exports_a_board_with_its_notes(alice_client: APIClient, bob, tesla) -> None:  # type: ignore[no-untyped-def]
    board = alice_client.post("/api/adspark/boards/", {"name": "Swipe"}, format="json").json()
    alice_client.post(
        f"/api/adspark/boards/{board['id']}/items/bulk/",
        {"creative_ids": [c.ad_creative_id for c in tesla[:3]], "note": "hero shot"},
        format="json",
    )
    response = alice_client.get(f"/api/adspark/boards/{board['id']}/export/")
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    day = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    assert response["Content-Disposition"] == f'attachment; filename="adspark-board-{board["id"]}-{day}.csv"'
    assert tuple(rows[0]) == (*COLUMNS, "note")
    assert sorted(row["ad_creative_id"] for row in rows) == sorted(c.ad_creative_id for c in tesla[:3])
    assert {row["note"] for row in rows} == {"hero shot"}
    as_json = json.loads(
        _body(alice_client.get(f"/api/adspark/boards/{board['id']}/export/?export_format=json"))
    )
    assert len(as_json) == 3 and as_json[0]["note"] == "hero shot"
