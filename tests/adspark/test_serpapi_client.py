"""The SerpApi client against the local SerpApi server: pages, and every error classified."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings

from AdSpark.queries import normalize_fetch_params
from AdSpark.ratelimit import SlidingWindowLimiter
from AdSpark.serpapi_client import SerpApiClient, SerpApiPermanentError, SerpApiTransientError

TESLA = "AR17828074650563772417"


@pytest.fixture
def client(serpapi) -> SerpApiClient:  # type: ignore[no-untyped-def]
    return SerpApiClient(base_url=serpapi.url, timeout=2)


@pytest.fixture
def tesla():  # type: ignore[no-untyped-def]
    return normalize_fetch_params({"advertiser_ids": TESLA, "region": "US", "num": 15})


def test_it_follows_pages_with_next_page_token(client, tesla, serpapi) -> None:  # type: ignore[no-untyped-def]
    first = client.search_page(tesla)
    second = client.search_page(tesla, next_page_token=first.next_page_token)
    third = client.search_page(tesla, next_page_token=second.next_page_token)
    ids = [c["ad_creative_id"] for page in (first, second, third) for c in page.creatives]
    assert [len(p.creatives) for p in (first, second, third)] == [15, 15, 10]
    assert len(set(ids)) == 40
    assert third.next_page_token is None
    assert first.total_results == 700
    assert all(r["params"]["region"] == "2840" for r in serpapi.requests)


def test_it_returns_no_results_as_an_empty_page_not_an_error(client) -> None:  # type: ignore[no-untyped-def]
    page = client.search_page(normalize_fetch_params({"text": "nothing-here.example", "region": "US"}))
    assert page.no_results is True
    assert page.creatives == [] and page.next_page_token is None
    assert "hasn't returned any results" in page.message


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_it_classifies_429_and_5xx_as_transient(client, tesla, serpapi, status) -> None:  # type: ignore[no-untyped-def]
    serpapi.inject_fault(status=status)
    with pytest.raises(SerpApiTransientError) as caught:
        client.search_page(tesla)
    assert caught.value.status_code == status


@pytest.mark.parametrize("status", [400, 401, 403])
def test_it_classifies_400_401_403_as_permanent(client, tesla, serpapi, status) -> None:  # type: ignore[no-untyped-def]
    serpapi.inject_fault(status=status)
    with pytest.raises(SerpApiPermanentError) as caught:
        client.search_page(tesla)
    assert caught.value.status_code == status


def test_it_reports_a_wrong_key_as_permanent_with_serpapis_message(serpapi, tesla) -> None:  # type: ignore[no-untyped-def]
    client = SerpApiClient(base_url=serpapi.url, api_key="wrong-key")
    with pytest.raises(SerpApiPermanentError, match="Invalid API key"):
        client.search_page(tesla)


@pytest.mark.parametrize("body", ["malformed", "html", "empty"])
def test_it_classifies_a_body_that_is_not_json_as_permanent(client, tesla, serpapi, body) -> None:  # type: ignore[no-untyped-def]
    serpapi.inject_fault(body=body)
    with pytest.raises(SerpApiPermanentError, match="not JSON"):
        client.search_page(tesla)


def test_it_classifies_a_timeout_as_transient(serpapi, tesla) -> None:  # type: ignore[no-untyped-def]
    serpapi.inject_fault(delay=1.5)
    client = SerpApiClient(base_url=serpapi.url, timeout=0.3)
    with pytest.raises(SerpApiTransientError, match="timed out"):
        client.search_page(tesla)


def test_it_classifies_a_refused_connection_as_transient(tesla) -> None:  # type: ignore[no-untyped-def]
    client = SerpApiClient(base_url="http://127.0.0.1:9", timeout=1)
    with pytest.raises(SerpApiTransientError, match="Cannot reach"):
        client.search_page(tesla)


def test_it_refuses_to_search_without_a_key(serpapi, tesla) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SerpApiPermanentError, match="SERPAPI_API_KEY"):
        SerpApiClient(base_url=serpapi.url, api_key="").search_page(tesla)
    assert serpapi.requests == []


def test_it_reads_the_account_without_spending_a_search(client, serpapi) -> None:  # type: ignore[no-untyped-def]
    account = client.account()
    assert account["plan_name"] and "total_searches_left" in account
    assert serpapi.search_count == 0


def test_it_holds_the_rate_limit_across_clients_in_many_threads(serpapi, tesla) -> None:  # type: ignore[no-untyped-def]
    # Given a cluster-wide limit of 5 per hour shared by 4 clients (as 4 workers would)
    limiter_key = "serpapi-test-limit"
    SlidingWindowLimiter(limiter_key, limit=5).reset()
    outcomes: list[str] = []

    def worker() -> None:
        client = SerpApiClient(base_url=serpapi.url, limiter=SlidingWindowLimiter(limiter_key, limit=5))
        for _ in range(3):
            try:
                client.search_page(tesla)
                outcomes.append("ok")
            except SerpApiTransientError as exc:
                assert exc.retry_after is not None and exc.retry_after > 3000
                outcomes.append("limited")

    # When they make 12 requests at once
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly 5 reach SerpApi and the rest are told when to come back
    assert outcomes.count("ok") == 5 and outcomes.count("limited") == 7
    assert serpapi.search_count == 5
    assert settings.SERPAPI_RATE_LIMIT_PER_HOUR >= 5
