"""New-creative detection: what is new to a watch, across runs of real (recorded) SerpApi answers.

The runs go through the real SerpApi client over HTTP to the local SerpApi server; the two
"days" are the Tesla recording with 30 creatives, then with all 40.
"""

from __future__ import annotations

import pytest
from conftest import TESLA_RECORDING, with_creatives

from AdSpark.models import FetchRun, WatchCreative, WatchRun
from AdSpark.serpapi_client import SerpApiClient, SerpApiTransientError
from AdSpark.watches.dispatch import watch_run_create
from AdSpark.watches.services import watch_run, watch_run_fail
from core.models import JobStatus

pytestmark = pytest.mark.django_db


def run_now(watch, **kwargs) -> WatchRun:  # type: ignore[no-untyped-def]
    """Create a run of ``watch`` and run it in this process (as the worker would)."""
    run = watch_run_create(watch=watch, enqueue=False)
    return watch_run(watch_run_id=run.pk, task_id=run.celery_task_id, **kwargs)


def test_it_sets_a_baseline_on_the_first_run_then_reports_only_new_creatives(
    serpapi, tesla_recording, make_watch, alice
) -> None:
    # Given alice watches Tesla, and SerpApi shows 30 of its creatives today
    watch = make_watch(owner=alice)
    serpapi.add_recording(with_creatives(tesla_recording, 30), TESLA_RECORDING)

    # When the first run happens
    first = run_now(watch)

    # Then it is the baseline: all 30 are now seen, none is alerted
    assert first.status == JobStatus.SUCCEEDED
    assert first.is_baseline and not first.alerted
    assert WatchCreative.objects.filter(watch=watch).count() == 30

    # Given tomorrow SerpApi shows all 40
    serpapi.add_recording(tesla_recording, TESLA_RECORDING)

    # When the watch runs again
    second = run_now(watch)

    # Then exactly the 10 creatives it had not seen are new, in SerpApi's order, and alerted
    expected = [c["ad_creative_id"] for c in tesla_recording["ad_creatives"][30:]]
    assert second.status == JobStatus.SUCCEEDED
    assert not second.is_baseline
    assert second.new_creative_ids == expected
    assert second.new_creatives_count == 10
    assert second.alerted

    # And a third run with the same answer finds nothing new
    third = run_now(watch)
    assert third.new_creatives_count == 0 and not third.alerted


def test_it_alerts_on_the_baseline_only_when_the_watch_asks(serpapi, make_watch, alice) -> None:
    watch = make_watch(owner=alice, alert_on_first_run=True)

    run = run_now(watch)

    assert run.is_baseline and run.alerted and run.new_creatives_count == 40


def test_new_means_new_to_this_watch_not_new_to_adspark(
    serpapi, tesla_recording, make_watch, alice, bob
) -> None:
    # Given alice's watch has already seen all 40 Tesla creatives
    alices = make_watch(owner=alice)
    run_now(alices)

    # When bob creates a watch on Tesla with a different page bound (not shared) and it runs twice
    bobs = make_watch(owner=bob, max_pages=2)
    serpapi.add_recording(with_creatives(tesla_recording, 30), TESLA_RECORDING)
    run_now(bobs)
    serpapi.add_recording(tesla_recording, TESLA_RECORDING)
    second = run_now(bobs)

    # Then bob's second run reports the 10 creatives new to *his* watch, though AdSpark knew them
    assert second.new_creatives_count == 10


class FailsOnSecondPage(SerpApiClient):
    """The real client; the local server answers 500 from the second page on."""

    def __init__(self, server) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.server = server

    def search_page(self, query, *, next_page_token=None):  # type: ignore[no-untyped-def]
        if next_page_token:
            self.server.inject_fault(status=500, count=10)
        return super().search_page(query, next_page_token=next_page_token)


def test_a_failed_partial_fetch_marks_nothing_seen_and_the_next_run_sees_them_as_new(
    serpapi, settings, tesla_recording, make_watch, alice
) -> None:
    # Given pages of 20, and a baseline of the first 20 creatives (one page)
    settings.SERPAPI_PAGE_SIZE = 20
    watch = make_watch(owner=alice)
    serpapi.add_recording(with_creatives(tesla_recording, 20), TESLA_RECORDING)
    run_now(watch)
    assert WatchCreative.objects.filter(watch=watch).count() == 20

    # When the next run gets page 1 of 40 but page 2 fails, and the task gives up
    serpapi.add_recording(tesla_recording, TESLA_RECORDING)
    failing = watch_run_create(watch=watch, enqueue=False)
    with pytest.raises(SerpApiTransientError):
        watch_run(watch_run_id=failing.pk, task_id=failing.celery_task_id, client=FailsOnSecondPage(serpapi))
    watch_run_fail(watch_run_id=failing.pk, error="Gave up after 6 attempts: HTTP 500")

    # Then the run failed, nothing was marked seen and the watch did not advance as a success
    failing.refresh_from_db()
    watch.refresh_from_db()
    assert failing.status == JobStatus.FAILED
    assert WatchCreative.objects.filter(watch=watch).count() == 20
    assert watch.consecutive_failures == 1
    assert watch.last_run_id == failing.pk

    # When the next run succeeds
    serpapi.reset()
    recovered = run_now(watch)

    # Then the 20 creatives of page 2 are new to it, and the failure count is reset
    watch.refresh_from_db()
    assert recovered.new_creative_ids == [c["ad_creative_id"] for c in tesla_recording["ad_creatives"][20:]]
    assert watch.consecutive_failures == 0


def test_watches_with_identical_queries_share_one_serpapi_fetch(serpapi, make_watch, alice, bob) -> None:
    # Given alice and bob watch exactly the same query
    alices = make_watch(owner=alice)
    bobs = make_watch(owner=bob)
    assert alices.query_fingerprint == bobs.query_fingerprint

    # When both run within the sharing window
    first = run_now(alices)
    second = run_now(bobs)

    # Then SerpApi was asked once; bob's run reused alice's fetch and still got its own baseline
    assert serpapi.search_count == 1
    assert FetchRun.objects.count() == 1
    assert second.fetch_run_id == first.fetch_run_id and second.shared_fetch
    assert second.new_creatives_count == 40 and second.is_baseline


def test_a_watch_never_reuses_its_own_previous_fetch(serpapi, make_watch, alice) -> None:
    watch = make_watch(owner=alice)

    run_now(watch)
    run_now(watch)

    assert serpapi.search_count == 2


def test_a_redelivered_run_is_not_run_twice(serpapi, make_watch, alice) -> None:
    watch = make_watch(owner=alice)
    run = run_now(watch)

    again = watch_run(watch_run_id=run.pk, task_id=run.celery_task_id)

    assert again.status == JobStatus.SUCCEEDED
    assert serpapi.search_count == 1
    assert WatchCreative.objects.filter(watch=watch).count() == 40
