"""Ingestion: one page at a time, bulk upserts, idempotent, new vs updated counted."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from AdSpark import services
from AdSpark.models import Advertiser, Creative, CreativeDetails, FetchRun
from AdSpark.parsing import from_unix
from AdSpark.queries import normalize_fetch_params
from AdSpark.serpapi_client import SerpApiClient, SerpApiPermanentError, SerpApiTransientError
from AdSpark.services import (
    creative_details_fetch,
    creative_upsert_page,
    fetch_dry_run,
    fetch_run_create,
    fetch_run_execute,
)

RESPONSES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "serpapi" / "responses"
TESLA = "AR17828074650563772417"

pytestmark = pytest.mark.django_db


def _items(name: str) -> list[dict]:
    return json.loads((RESPONSES / name).read_text())["ad_creatives"]


@pytest.fixture(params=["postgresql", "portable"])
def page_writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with each page upsert: PostgreSQL's one statement, and the portable one
    (SQLite's) -- both against the test PostgreSQL database, so their rules must agree."""
    if request.param == "portable":
        monkeypatch.setattr(services, "_page_writer", lambda: services._page_upsert_portable)
    return str(request.param)


def _row_versions() -> list[tuple[str, str, object]]:
    """Every creative's and advertiser's PostgreSQL row version (xmin) and updated_at."""
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT ad_creative_id, xmin::text, updated_at FROM "AdSpark_creative" '
            'UNION ALL SELECT advertiser_id, xmin::text, updated_at FROM "AdSpark_advertiser" ORDER BY 1'
        )
        return cursor.fetchall()


def test_it_inserts_a_page_and_replaying_it_writes_nothing(page_writer: str) -> None:
    items = _items("peer_tesla_p1.json")
    first = creative_upsert_page(items=items, region="2840")
    assert (first.seen, first.new, first.updated) == (40, 40, 0)
    before = _row_versions()

    again = creative_upsert_page(items=items, region="2840")

    assert (again.seen, again.new, again.updated) == (40, 0, 0)
    assert Creative.objects.count() == 40 and Advertiser.objects.count() == 1
    # no new row version anywhere: not one creative or advertiser was rewritten
    assert _row_versions() == before


@pytest.mark.parametrize(
    ("page_writer", "statements"),
    [("postgresql", ["WITH"]), ("portable", ["SELECT", "INSERT", "INSERT"])],
    indirect=["page_writer"],
)
def test_it_writes_a_page_with_a_bounded_number_of_statements(
    page_writer: str, statements: list[str]
) -> None:
    items = _items("holloway_list_nike.json")
    with CaptureQueriesContext(connection) as queries:
        creative_upsert_page(items=items, region="2840")
    # PostgreSQL: one statement (advertisers in a CTE, creatives); portable: SELECT existing,
    # upsert advertisers (first/last seen widened), upsert creatives
    sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert [s.split()[0] for s in sql] == statements
    assert all("ON CONFLICT" in s for s in sql if not s.startswith("SELECT"))


def _stored() -> tuple[list[dict], list[dict]]:
    creatives = list(Creative.objects.order_by("pk").values())
    advertisers = list(Advertiser.objects.order_by("pk").values())
    for row in creatives + advertisers:
        row.pop("created_at")
        row.pop("updated_at")
    return creatives, advertisers


def test_both_page_upserts_store_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a story of pages: a first sighting, a changed and widened re-sighting in another
    # region and platform, a duplicate id on one page, and an advertiser seen on two pages
    items = _items("peer_tesla_p1.json")
    changed = copy.deepcopy(items[:4])
    for n, item in enumerate(changed):
        item["first_shown"] -= 86400 * (n % 2)  # earlier: first_shown widens
        item["last_shown"] -= 86400 * (n % 3)  # earlier: last_shown must not shrink
        item["total_days_shown"] += 1
    pages = [
        (items[10:], "2840", None),
        ([*changed, items[5], items[5]], "2826", "YOUTUBE"),
        (items[:12], "2840", "SEARCH"),
        (_items("holloway_list_nike.json"), "2840", None),
    ]
    stored = []
    counts = []
    for writer in (services._page_upsert_postgresql, services._page_upsert_portable):
        # When each upsert stores the same pages into empty tables
        Creative.objects.all().delete()
        Advertiser.objects.all().delete()
        monkeypatch.setattr(services, "_page_writer", lambda writer=writer: writer)
        results = [
            creative_upsert_page(items=page, region=region, platform=platform)
            for page, region, platform in pages
        ]
        counts.append([(r.seen, r.new, r.updated) for r in results])
        stored.append(_stored())
    # Then they count and store exactly the same
    assert counts[0] == counts[1]
    assert stored[0] == stored[1]
    creative = next(row for row in stored[0][0] if row["ad_creative_id"] == items[0]["ad_creative_id"])
    assert creative["regions"] == ["2826", "2840"] and creative["platforms"] == ["SEARCH", "YOUTUBE"]
    assert creative["last_shown"] == from_unix(items[0]["last_shown"])


def test_it_counts_changed_creatives_as_updated_and_merges_regions(page_writer: str) -> None:
    items = _items("peer_tesla_p1.json")
    creative_upsert_page(items=items, region="2840")
    changed = copy.deepcopy(items[:3])
    for item in changed:
        item["last_shown"] += 86400
        item["total_days_shown"] += 1

    result = creative_upsert_page(items=changed + items[3:5], region="2826")

    assert (result.new, result.updated) == (0, 5)  # 3 changed + 2 newly seen in another region
    creative = Creative.objects.get(pk=items[0]["ad_creative_id"])
    assert creative.regions == ["2826", "2840"]
    assert creative.last_shown == from_unix(items[0]["last_shown"] + 86400)
    assert creative.total_days_shown == items[0]["total_days_shown"] + 1


def test_it_sets_advertiser_first_and_last_seen_from_all_its_creatives(page_writer: str) -> None:
    items = _items("peer_tesla_p1.json")
    creative_upsert_page(items=items[20:], region="2840")
    creative_upsert_page(items=items[:20], region="2840")  # written last, not necessarily latest

    advertiser = Advertiser.objects.get(pk=TESLA)
    assert advertiser.name == "Tesla Inc."
    assert advertiser.first_seen == from_unix(min(i["first_shown"] for i in items))
    assert advertiser.last_seen == from_unix(max(i["last_shown"] for i in items))


def test_it_skips_unparseable_items_and_keeps_the_rest(page_writer: str) -> None:
    items = [*_items("exportscout_onlinelighting_gb.json"), {"format": "text"}]
    result = creative_upsert_page(items=items, region="2826")
    assert result.new == 6 and len(result.skipped) == 1


def test_it_runs_a_multi_page_fetch_and_records_progress(serpapi) -> None:  # type: ignore[no-untyped-def]
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "US", "num": 15})
    run = fetch_run_create(owner=None, query=query, enqueue=False)
    seen_progress: list[tuple[int, int]] = []

    run = fetch_run_execute(
        fetch_run_id=run.pk, on_page=lambda r: seen_progress.append((r.progress_done, r.progress_total))
    )

    assert run.status == "succeeded" and run.error == ""
    assert (run.pages_fetched, run.searches_used, run.creatives_seen, run.creatives_new) == (3, 3, 40, 40)
    assert run.stop_reason == "last_page" and run.next_page_token == ""
    assert seen_progress == [(1, 5), (2, 5), (3, 3)]
    assert len(run.creative_ids) == 40 and run.finished_at >= run.started_at
    assert run.creative_ids == [item["ad_creative_id"] for item in _items("peer_tesla_p1.json")]


def test_it_stops_at_max_pages_and_at_the_search_budget(serpapi, settings) -> None:  # type: ignore[no-untyped-def]
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "US", "num": 5, "max_pages": 2})
    run = fetch_run_execute(fetch_run_id=fetch_run_create(owner=None, query=query, enqueue=False).pk)
    assert (run.pages_fetched, run.creatives_seen, run.stop_reason) == (2, 10, "max_pages")

    settings.SERPAPI_MAX_SEARCHES_PER_RUN = 3
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "US", "num": 5, "max_pages": 8})
    run = fetch_run_execute(fetch_run_id=fetch_run_create(owner=None, query=query, enqueue=False).pk)
    assert (run.pages_fetched, run.searches_used, run.stop_reason) == (3, 3, "search_budget")


def test_it_resumes_from_the_checkpoint_after_a_transient_error(serpapi) -> None:  # type: ignore[no-untyped-def]
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "US", "num": 15})
    run = fetch_run_create(owner=None, query=query, enqueue=False)
    client = SerpApiClient(base_url=serpapi.url)
    calls = {"n": 0}
    original = client.search_page

    def flaky(q, next_page_token=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise SerpApiTransientError("HTTP 503", status_code=503)
        return original(q, next_page_token=next_page_token)

    client.search_page = flaky  # type: ignore[method-assign]
    with pytest.raises(SerpApiTransientError):
        fetch_run_execute(fetch_run_id=run.pk, client=client)
    run.refresh_from_db()
    assert (run.status, run.pages_fetched, run.creatives_seen) == ("running", 1, 15)

    run = fetch_run_execute(fetch_run_id=run.pk, client=client)
    assert (run.status, run.pages_fetched, run.creatives_seen) == ("succeeded", 3, 40)
    assert len(run.creative_ids) == len(set(run.creative_ids)) == 40  # appended page by page, no repeats
    assert [r["params"].get("next_page_token") is None for r in serpapi.requests] == [True, False, False]


def test_it_fails_the_run_on_a_permanent_error_and_a_finished_run_is_not_run_again(serpapi) -> None:  # type: ignore[no-untyped-def]
    serpapi.inject_fault(status=401)
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "US"})
    run = fetch_run_create(owner=None, query=query, enqueue=False)
    with pytest.raises(SerpApiPermanentError):
        fetch_run_execute(fetch_run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "401" in run.error

    again = fetch_run_execute(fetch_run_id=run.pk)
    assert again.status == "failed" and serpapi.search_count == 1
    assert FetchRun.objects.count() == 1


def test_it_stores_no_results_as_a_successful_empty_run(serpapi) -> None:  # type: ignore[no-untyped-def]
    query = normalize_fetch_params(
        {
            "text": "pwonlyias.com",
            "region": "2356",
            "start_date": "20260306",
            "end_date": "20261005",
            "num": 100,
        }
    )
    run = fetch_run_execute(fetch_run_id=fetch_run_create(owner=None, query=query, enqueue=False).pk)
    assert (run.status, run.creatives_seen, run.stop_reason) == ("succeeded", 0, "no_results")


def test_it_writes_nothing_on_a_dry_run(serpapi) -> None:  # type: ignore[no-untyped-def]
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "US", "num": 20})
    result = fetch_dry_run(query=query)
    assert (result.pages, result.creatives_seen, result.already_stored) == (2, 40, 0)
    assert Creative.objects.count() == 0 and FetchRun.objects.count() == 0


def test_it_fetches_and_stores_a_creatives_ad_details(serpapi) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((RESPONSES / "holloway_details_rating_sitelinks.json").read_text())
    params = data["search_parameters"]
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
    details = creative_details_fetch(ad_creative_id=params["creative_id"])
    assert details.title == "Under Armour" and len(details.variations) == 3
    assert CreativeDetails.objects.count() == 1


@pytest.mark.parametrize(
    "name",
    [
        "peer_tesla_p1.json",
        "holloway_list_nike.json",
        "holloway_list_lululemon.json",
        "holloway_list_arcteryx_lastpage.json",
        "exportscout_onlinelighting_gb.json",
    ],
)
def test_it_stores_every_recorded_item_in_the_model_without_loss(name: str) -> None:
    data = json.loads((RESPONSES / name).read_text())
    region = data["search_parameters"]["region"]
    creative_upsert_page(items=data["ad_creatives"], region=region)
    for item in data["ad_creatives"]:
        creative = Creative.objects.select_related("advertiser").get(pk=item["ad_creative_id"])
        assert (
            creative.advertiser_id == item["advertiser_id"] and creative.advertiser.name == item["advertiser"]
        )
        assert creative.format == item["format"]
        assert creative.image_url == item.get("image", "") and creative.preview_url == item.get("link", "")
        assert (creative.width, creative.height) == (item.get("width"), item.get("height"))
        assert creative.target_domain == item.get("target_domain", "")
        assert creative.first_shown == from_unix(item["first_shown"])
        assert creative.last_shown == from_unix(item["last_shown"])
        assert creative.total_days_shown == item["total_days_shown"]
        assert creative.details_link == item["details_link"]
        assert creative.serpapi_details_link == item.get("serpapi_details_link", "")
        assert creative.regions == [region] and creative.raw == item
