"""Validation and normalisation of fetch parameters, and the region mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pycountry
import pytest

from AdSpark.queries import FetchParamsError, normalize_fetch_params, validate_creative_ref
from AdSpark.regions import UnknownRegionError, geo_to_letters, normalize_region, regions

TESLA = "AR17828074650563772417"
SPEC = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "serpapi" / "spec" / "regions.json"


def _errors(**raw: object) -> dict[str, list[str]]:
    with pytest.raises(FetchParamsError) as caught:
        normalize_fetch_params(raw)
    return caught.value.errors


def test_it_normalises_the_seed_call() -> None:
    query = normalize_fetch_params({"advertiser_ids": TESLA, "text": "  model  y ", "region": "US"})
    assert query.advertiser_ids == (TESLA,)
    assert query.text == "model y"
    assert query.region == "2840"
    assert query.serpapi_params() == {
        "engine": "google_ads_transparency_center",
        "advertiser_id": TESLA,
        "text": "model y",
        "region": "2840",
        "num": "100",
    }


def test_it_accepts_several_ids_as_a_string_or_a_list_and_drops_duplicates() -> None:
    other = "AR16735076323512287233"
    assert normalize_fetch_params({"advertiser_ids": f"{TESLA}, {other},{TESLA}"}).advertiser_ids == (
        TESLA,
        other,
    )
    assert normalize_fetch_params({"advertiser_id": [TESLA, other]}).advertiser_ids == (TESLA, other)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"advertiser_ids": "AR123"}, "advertiser_ids"),
        ({"advertiser_ids": "CR17828074650563772417"}, "advertiser_ids"),
        ({"text": "x" * 201}, "text"),
        ({"text": "a", "region": "XX"}, "region"),
        ({"text": "a", "region": "9999"}, "region"),
        ({"text": "a", "platform": "TIKTOK"}, "platform"),
        ({"text": "a", "creative_format": "gif"}, "creative_format"),
        ({"text": "a", "start_date": "2025-02-30"}, "start_date"),
        ({"text": "a", "end_date": "tomorrow"}, "end_date"),
        ({"text": "a", "start_date": "20250301", "end_date": "20250201"}, "end_date"),
        ({"text": "a", "political_ads": True}, "political_ads"),
        ({"text": "a", "political_ads": "maybe", "region": "US"}, "political_ads"),
        ({"text": "a", "num": 0}, "num"),
        ({"text": "a", "num": 101}, "num"),
        ({"text": "a", "num": "ten"}, "num"),
        ({"text": "a", "max_pages": 0}, "max_pages"),
        ({"text": "a", "colour": "red"}, "colour"),
        ({}, "non_field_errors"),
        ({"region": "US"}, "non_field_errors"),
    ],
)
def test_it_names_the_field_of_every_bad_parameter(raw: dict, field: str) -> None:
    assert field in _errors(**raw)


def test_it_reports_every_problem_at_once() -> None:
    errors = _errors(text="a", region="XX", num=0, platform="TIKTOK")
    assert set(errors) == {"region", "num", "platform"}


def test_it_normalises_dates_platforms_formats_and_political_ads() -> None:
    query = normalize_fetch_params(
        {
            "text": "shoes",
            "region": "2826",
            "platform": "search",
            "creative_format": "IMAGE",
            "start_date": "2025-01-01",
            "end_date": "20250131",
            "political_ads": "true",
            "num": "40",
            "max_pages": 3,
        }
    )
    assert (query.platform, query.creative_format) == ("SEARCH", "image")
    assert (query.start_date, query.end_date) == ("20250101", "20250131")
    assert query.political_ads is True and query.num == 40 and query.max_pages == 3
    assert query.serpapi_params()["political_ads"] == "true"


def test_it_gives_equal_queries_equal_fingerprints() -> None:
    a = normalize_fetch_params({"advertiser_ids": TESLA, "region": "US"})
    b = normalize_fetch_params({"advertiser_id": [TESLA], "region": "2840"})
    c = normalize_fetch_params({"advertiser_ids": TESLA, "region": "GB"})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert normalize_fetch_params(a.as_dict()) == a


def test_it_knows_all_239_serpapi_regions() -> None:
    spec = json.loads(SPEC.read_text())
    assert len(spec) == 239
    assert regions() == {code: name for code, name in spec}


@pytest.mark.parametrize("code", [code for code, _ in json.loads(SPEC.read_text())])
def test_it_maps_every_region_code_and_its_iso_letters(code: str) -> None:
    assert normalize_region(code) == code
    assert normalize_region(int(code)) == code
    letters = geo_to_letters()[code]
    assert normalize_region(letters) == code
    assert normalize_region(letters.lower()) == code
    if code != "20277":  # Canary Islands: Google geo 20277, ISO's reserved "IC"
        assert pycountry.countries.get(alpha_2=letters).numeric == f"{int(code) - 2000:03d}"


def test_it_refuses_unknown_regions() -> None:
    for bad in ("XX", "840", "2000", "USA", ""):
        with pytest.raises(UnknownRegionError):
            normalize_region(bad)


def test_it_validates_a_creative_reference_for_ad_details() -> None:
    params = validate_creative_ref(advertiser_id=TESLA, ad_creative_id="CR05177084051667812353", region="US")
    assert params == {
        "engine": "google_ads_transparency_center_ad_details",
        "advertiser_id": TESLA,
        "creative_id": "CR05177084051667812353",
        "region": "2840",
    }
    with pytest.raises(FetchParamsError) as caught:
        validate_creative_ref(advertiser_id="AR1", ad_creative_id="X", region="XX")
    assert set(caught.value.errors) == {"advertiser_id", "ad_creative_id", "region"}
