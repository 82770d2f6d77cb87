"""Hostile input gets a 400 (or 413) with JSON field errors, never a 500 or an HTML page."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from AdSpark.models import FetchRun
from tests.factories import CreativeFactory

pytestmark = pytest.mark.django_db

TESLA = "AR17828074650563772417"


# --- datetimes PostgreSQL rejects (#2) -------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 once in UTC
        "9999-12-31T23:59:59-05:00",  # after year 9999 once in UTC
        "10000-01-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-01-01T00:00:00+24:00",
    ],
)
def test_it_answers_400_for_datetimes_out_of_range(alice_client: APIClient, value: str) -> None:
    response = alice_client.get("/api/adspark/creatives/", {"shown_after": value})
    assert response.status_code == 400, response.content
    assert "shown_after" in response.json()


@pytest.mark.parametrize(
    "value,found",
    [
        # The probe's case: PostgreSQL refuses offsets beyond ±15:59 ("time zone displacement
        # out of range"); in UTC this is 2025-06-01T18:53Z, after the creative's last day.
        ("2025-06-01T00:00:00-18:53", False),
        ("2025-06-01T23:00:00+23:59", True),  # 2025-05-31T23:01Z
        ("0173-10-14T06:52:56-18:53", True),
    ],
)
def test_it_filters_in_utc_whatever_the_offset(alice_client: APIClient, value: str, found: bool) -> None:
    # Given a creative last shown on 2025-06-01T12:00Z
    CreativeFactory(last_shown=dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC))
    # When alice asks for creatives shown after a time with an offset PostgreSQL would refuse
    response = alice_client.get("/api/adspark/creatives/", {"shown_after": value})
    # Then the offset is applied, in UTC, and nothing fails
    assert response.status_code == 200, response.content
    assert response.json()["count"] == int(found)


# --- deeply nested JSON (#3) -----------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 5000, 100_000])
def test_it_answers_400_for_deeply_nested_json(alice_client: APIClient, depth: int) -> None:
    body = "[" * depth + "]" * depth
    response = alice_client.post("/api/adspark/fetch/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert "nested deeper" in response.json()["detail"]
    assert FetchRun.objects.count() == 0


def test_it_accepts_ordinary_nesting(alice_client: APIClient) -> None:
    response = alice_client.post(
        "/api/adspark/fetch/", {"advertiser_ids": [TESLA], "text": "x", "extra": {"a": [[1]]}}, format="json"
    )
    assert response.status_code == 202, response.content


# --- every error is JSON (#5) ----------------------------------------------------------------


@pytest.mark.parametrize("field,path", [("text", "/api/adspark/fetch/"), ("prompt", "/api/ai/variants/")])
def test_it_answers_json_413_for_a_body_over_the_upload_limit(
    alice_client: APIClient, field: str, path: str
) -> None:
    body = {field: "x" * (5 * 1024 * 1024), "advertiser_ids": TESLA}
    response = alice_client.post(path, body, format="json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "larger than the server accepts" in response.json()["detail"]


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/no-such-endpoint/"),
        ("get", "/api/adspark/creatives/CR00000000000000000000/"),
        ("delete", "/api/adspark/creatives/"),
        ("get", "/api/adspark/fetch-runs/not-a-number/"),
    ],
)
def test_it_answers_json_for_every_api_error(alice_client: APIClient, method: str, path: str) -> None:
    response = getattr(alice_client, method)(path)
    assert response.status_code in (404, 405)
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    assert response.json()["detail"]


def test_it_answers_json_when_not_signed_in(api_client: APIClient) -> None:
    response = api_client.post("/api/adspark/fetch/", {"text": "x"}, format="json")
    assert response.status_code == 401 and response.json()["detail"]


# --- advertiser ids are AR + 20 ASCII digits (#7) --------------------------------------------

NON_ASCII_IDS = [
    "AR" + "١٧٨٢٨٠٧٤٦٥٠٥٦٣٧٧٢٤١٧",  # Arabic-Indic
    "AR" + "１７８２８０７４６５０５６３７７２４１７",  # fullwidth
    "AR" + "१७८२८०७४६५०५६३७७२४१७",  # Devanagari
]


@pytest.mark.parametrize("advertiser_id", NON_ASCII_IDS)
def test_it_refuses_advertiser_ids_that_are_not_ascii_digits_for_a_fetch(
    alice_client: APIClient, advertiser_id: str
) -> None:
    response = alice_client.post("/api/adspark/fetch/", {"advertiser_ids": advertiser_id}, format="json")
    assert response.status_code == 400 and "advertiser_ids" in response.json()
    assert FetchRun.objects.count() == 0


@pytest.mark.parametrize("advertiser_id", NON_ASCII_IDS)
def test_it_refuses_them_for_a_watch_too(alice_client: APIClient, advertiser_id: str) -> None:
    response = alice_client.post(
        "/api/adspark/watches/", {"name": "w", "advertiser_ids": [advertiser_id]}, format="json"
    )
    assert response.status_code == 400 and "advertiser_ids" in response.json()


def test_it_refuses_non_ascii_digits_in_numbers_and_dates(alice_client: APIClient) -> None:
    for field, value in (("start_date", "٢٠٢٤٠١٠١"), ("max_pages", "٣"), ("num", "１０")):
        response = alice_client.post("/api/adspark/fetch/", {"text": "x", field: value}, format="json")
        assert response.status_code == 400 and field in response.json(), (field, response.content)


# --- text and prompts: controls, bidi overrides, invisible text, numbers (#8) ----------------


@pytest.mark.parametrize(
    "text,message",
    [
        ("tesla\x00model", "control character (U+0000)"),
        ("tesla\x1b[31m", "control character (U+001B)"),
        ("tesla\u202egnp.exe", "bidirectional control character (U+202E)"),
        ("\u2066tesla\u2069", "bidirectional control character (U+2066)"),
    ],
)
def test_it_refuses_control_and_bidi_characters_in_text(
    alice_client: APIClient, text: str, message: str
) -> None:
    fetch = alice_client.post("/api/adspark/fetch/", {"text": text}, format="json")
    watch = alice_client.post("/api/adspark/watches/", {"name": "w", "text": text}, format="json")
    for response in (fetch, watch):
        assert response.status_code == 400, response.content
        assert message in " ".join(response.json()["text"])


def test_it_stores_text_in_nfc(alice_client: APIClient) -> None:
    response = alice_client.post("/api/adspark/fetch/", {"text": "cafe\u0301"}, format="json")
    assert response.status_code == 202 and FetchRun.objects.get().params["text"] == "caf\u00e9"


def test_it_refuses_a_number_where_text_is_expected(alice_client: APIClient) -> None:
    response = alice_client.post("/api/adspark/fetch/", {"text": 12345}, format="json")
    assert response.status_code == 400 and response.json()["text"] == ["Not a valid string."]


@pytest.mark.parametrize(
    "prompt,message",
    [
        ("\u200b\u200b\u200b\u200b", "The prompt is empty."),
        ("\ufeff\u2060 \u200d", "The prompt is empty."),
        (12345, "Not a valid string."),
        (["Summer sale"], "Not a valid string."),
        ("Summer\u202e sale", "bidirectional control character (U+202E)"),
        ("Summer\x07 sale", "control character (U+0007)"),
    ],
)
def test_it_refuses_unusable_prompts_with_a_field_error(
    alice_client: APIClient, prompt: object, message: str
) -> None:
    creative = CreativeFactory()
    response = alice_client.post(
        "/api/ai/variants/", {"creative": creative.ad_creative_id, "prompt": prompt}, format="json"
    )
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()["prompt"])


def test_it_keeps_line_breaks_in_a_prompt(alice_client: APIClient) -> None:
    creative = CreativeFactory()
    response = alice_client.post(
        "/api/ai/variants/",
        {"creative": creative.ad_creative_id, "prompt": "Line one\nLine two"},
        format="json",
    )
    assert response.status_code == 202, response.content


# --- echoed values are truncated (#20) -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"advertiser_ids": "AR" + "9" * 2_000_000},
        {"text": "x", "platform": "P" * 2_000_000},
        {"text": "x", "start_date": "2" * 2_000_000},
    ],
)
def test_it_does_not_echo_a_huge_value_back(alice_client: APIClient, settings: object, body: dict) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
    response = alice_client.post("/api/adspark/fetch/", body, format="json")
    assert response.status_code == 400
    assert len(response.content) < 1000, response.content[:300]


def test_it_does_not_echo_a_huge_creative_id_back(alice_client: APIClient) -> None:
    response = alice_client.post(
        "/api/ai/variants/", {"creative": "CR" + "1" * 30, "prompt": "Summer sale"}, format="json"
    )
    assert response.status_code == 400 and len(response.content) < 300


# --- schema truth, concretely (#21) ----------------------------------------------------------


@pytest.mark.parametrize("page_size", ["true", "null", "0", "201", "-1", "1.5", "٣", ""])
def test_it_answers_400_for_a_page_size_it_cannot_use(alice_client: APIClient, page_size: str) -> None:
    response = alice_client.get("/api/adspark/creatives/", {"page_size": page_size})
    assert response.status_code == 400 and "page_size" in response.json()


def test_it_answers_400_for_a_list_of_page_sizes(alice_client: APIClient) -> None:
    response = alice_client.get("/api/adspark/creatives/?page_size=[1,2]")
    assert response.status_code == 400


def test_it_still_honours_a_good_page_size(alice_client: APIClient) -> None:
    CreativeFactory.create_batch(3)
    response = alice_client.get("/api/adspark/creatives/", {"page_size": "2"})
    assert response.status_code == 200 and len(response.json()["results"]) == 2
