"""What gets queued for the archive: new creatives of a fetch run up to the per-run cap, the
backlog, lost and stalled captures; and the API fields and filter (no worker needed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from AdSpark import archive
from AdSpark.archive import archive_backlog, archive_capture, archive_enqueue
from AdSpark.models import ArchiveStatus, Creative, CreativeArchive
from AdSpark.queries import normalize_fetch_params
from AdSpark.services import fetch_run_create, fetch_run_execute
from tests.conftest import TESLA
from tests.factories import CreativeFactory

pytestmark = pytest.mark.django_db

LIST = "/api/adspark/creatives/"


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The creative ids whose capture task was published (recorded instead of sent)."""
    sent: list[str] = []
    monkeypatch.setattr(archive, "_publish", lambda ids: sent.extend(ids))
    return sent


def _fetch(num: int = 15, max_pages: int = 5) -> Any:
    query = normalize_fetch_params(
        {"advertiser_ids": TESLA, "region": "US", "num": num, "max_pages": max_pages}
    )
    return fetch_run_execute(fetch_run_id=fetch_run_create(owner=None, query=query, enqueue=False).pk)


def test_a_fetch_queues_its_new_creatives_up_to_the_per_run_cap(
    serpapi: Any, archive_on: Any, published: list[str]
) -> None:
    # Given a cap of 20 and a fetch of the 40 recorded Tesla creatives in pages of 15
    archive_on.ARCHIVE_PER_RUN_CAP = 20
    run = _fetch()
    assert (run.status, run.creatives_new) == ("succeeded", 40)
    # Then the first 20 new creatives, in the order SerpApi returned them, are queued (15 from
    # page 1, 5 from page 2) and the other 20 are left for the backlog
    assert published == run.creative_ids[:20]
    assert set(CreativeArchive.objects.values_list("creative_id", flat=True)) == set(run.creative_ids[:20])
    assert set(CreativeArchive.objects.values_list("status", flat=True)) == {ArchiveStatus.PENDING}
    # When the same fetch runs again, nothing is new and nothing more is queued
    assert _fetch().creatives_new == 0
    assert len(published) == 20
    # and the backlog takes the rest
    assert archive_backlog(limit=100) == {"queued": 20, "requeued": 0}
    assert sorted(published) == sorted(run.creative_ids)


def test_a_resumed_run_keeps_counting_against_its_cap(
    serpapi: Any, archive_on: Any, published: list[str]
) -> None:
    # Given a run that already stored 18 new creatives before its worker died (the counter is
    # part of its checkpoint) and a cap of 20
    archive_on.ARCHIVE_PER_RUN_CAP = 20
    query = normalize_fetch_params({"advertiser_ids": TESLA, "region": "US", "num": 15})
    run = fetch_run_create(owner=None, query=query, enqueue=False)
    type(run).objects.filter(pk=run.pk).update(creatives_new=18)
    fetch_run_execute(fetch_run_id=run.pk)
    # Then only 2 more are queued
    assert len(published) == 2


def test_nothing_is_queued_when_the_archive_is_off(serpapi: Any, settings: Any, published: list[str]) -> None:
    settings.ARCHIVE_ENABLED = False
    assert _fetch().creatives_new == 40
    assert published == [] and not CreativeArchive.objects.exists()
    assert archive_backlog() == {"queued": 0, "requeued": 0}


def test_enqueue_skips_creatives_that_already_have_an_archive(archive_on: Any, published: list[str]) -> None:
    done, fresh = CreativeFactory(), CreativeFactory()
    CreativeArchive.objects.create(creative=done, status=ArchiveStatus.FAILED, error="HTTP 404")
    assert archive_enqueue([done.pk, fresh.pk, fresh.pk]) == [fresh.pk]
    assert published == [fresh.pk]
    assert CreativeArchive.objects.get(pk=done.pk).status == ArchiveStatus.FAILED


def test_the_backlog_requeues_lost_and_stalled_captures(archive_on: Any, published: list[str]) -> None:
    long_ago = timezone.now() - dt.timedelta(hours=3)
    lost = CreativeArchive.objects.create(
        creative=CreativeFactory(), status=ArchiveStatus.PENDING, queued_at=long_ago
    )
    stalled = CreativeArchive.objects.create(
        creative=CreativeFactory(), status=ArchiveStatus.RUNNING, queued_at=long_ago, started_at=long_ago
    )
    recent = CreativeArchive.objects.create(
        creative=CreativeFactory(),
        status=ArchiveStatus.RUNNING,
        queued_at=timezone.now(),
        started_at=timezone.now(),
    )
    assert archive_backlog(limit=10) == {"queued": 0, "requeued": 2}
    assert sorted(published) == sorted([lost.pk, stalled.pk])
    assert CreativeArchive.objects.get(pk=stalled.pk).status == ArchiveStatus.PENDING
    assert CreativeArchive.objects.get(pk=recent.pk).status == ArchiveStatus.RUNNING


def test_a_repeated_message_does_not_capture_again(archive_on: Any) -> None:
    # Given a creative already archived
    creative = CreativeFactory()
    CreativeArchive.objects.create(
        creative=creative, status=ArchiveStatus.ARCHIVED, visual_hash="ab" * 8, attempts=1
    )
    # When its task runs again (a redelivered message), nothing is fetched nor changed
    row = archive_capture(creative_id=creative.pk)
    assert row is not None and (row.status, row.attempts) == (ArchiveStatus.ARCHIVED, 1)
    # and a deleted creative's message ends quietly
    assert archive_capture(creative_id="CR-gone") is None


# --- API ------------------------------------------------------------------------------------


def test_a_creative_never_archived_has_empty_archive_fields(alice_client: APIClient) -> None:
    creative = CreativeFactory()
    row = alice_client.get(LIST).json()["results"][0]
    assert row["ad_creative_id"] == creative.pk
    assert {k: row[k] for k in ("archived_image_url", "archived_thumbnail_url", "archive_status")} == {
        "archived_image_url": None,
        "archived_thumbnail_url": None,
        "archive_status": "",
    }
    assert (row["visual_hash"], row["duplicate_count"]) == ("", 0)


def test_a_capture_under_way_shows_as_pending(alice_client: APIClient) -> None:
    creative = CreativeFactory()
    CreativeArchive.objects.create(creative=creative, status=ArchiveStatus.RUNNING)
    body = alice_client.get(f"{LIST}{creative.pk}/").json()
    assert body["archive_status"] == "pending" and body["archived_image_url"] is None


def _archived(creative: Creative, visual_hash: str) -> CreativeArchive:
    row = CreativeArchive(creative=creative, status=ArchiveStatus.ARCHIVED, visual_hash=visual_hash)
    row.image.save(f"{creative.pk}.png", ContentFile(b"png"), save=False)
    row.thumbnail.save(f"{creative.pk}.webp", ContentFile(b"webp"), save=False)
    row.save()
    return row


def test_the_list_shows_archive_fields_without_a_query_per_row(
    alice_client: APIClient, archive_media_root: Any
) -> None:
    # Given 3 creatives with one look, 2 with another, 1 without archive
    rows = [_archived(CreativeFactory(), "a" * 16) for _ in range(3)]
    rows += [_archived(CreativeFactory(), "b" * 16) for _ in range(2)]
    CreativeFactory()

    def list_queries() -> tuple[int, list[dict[str, Any]]]:
        with CaptureQueriesContext(connection) as queries:
            body = alice_client.get(LIST).json()
        return len(queries), body["results"]

    count, results = list_queries()
    by_id = {row["ad_creative_id"]: row for row in results}
    assert [by_id[r.creative_id]["duplicate_count"] for r in rows] == [2, 2, 2, 1, 1]
    assert (
        by_id[rows[0].creative_id]["archived_thumbnail_url"]
        == f"http://testserver/media/{rows[0].thumbnail.name}"
    )
    assert rows[0].thumbnail.name.endswith(f"/{rows[0].creative_id}.webp")
    # When 10 more archived creatives are listed, the query count does not grow
    for _ in range(10):
        _archived(CreativeFactory(), "c" * 16)
    more, results = list_queries()
    assert len(results) == 16 and more == count


def test_the_visual_hash_filter_lists_a_group_and_checks_its_input(
    alice_client: APIClient, archive_media_root: Any
) -> None:
    same = [_archived(CreativeFactory(), "0f" * 8) for _ in range(2)]
    _archived(CreativeFactory(), "f0" * 8)
    body = alice_client.get(LIST, {"visual_hash": "0F" * 8}).json()
    assert sorted(r["ad_creative_id"] for r in body["results"]) == sorted(r.creative_id for r in same)
    bad = alice_client.get(LIST, {"visual_hash": "not-a-hash"})
    assert bad.status_code == 400
    assert "visual_hash" in bad.json()


def test_the_cleanup_deletes_old_creatives_with_their_archived_files(
    archive_media_root: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.storage import default_storage

    from AdSpark.cleanup import creatives_cleanup_old

    # Given an archived creative not seen nor shown for 100 days, and an archived fresh one
    old, fresh = CreativeFactory(), CreativeFactory(last_shown=timezone.now())
    old_archive, fresh_archive = _archived(old, "1" * 16), _archived(fresh, "1" * 16)
    long_ago = timezone.now() - dt.timedelta(days=100)
    Creative.objects.filter(pk=old.pk).update(updated_at=long_ago, last_shown=long_ago)
    # When the cleanup runs (its archive row does not protect it, unlike an AI variant)
    with django_capture_on_commit_callbacks(execute=True):
        report = creatives_cleanup_old(days_old=90)
    # Then it is gone with its archive row and files; the fresh one keeps its files
    assert report == {"deleted": 1, "protected": 0}
    assert list(CreativeArchive.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not default_storage.exists(old_archive.image.name)
    assert not default_storage.exists(old_archive.thumbnail.name)
    assert default_storage.exists(fresh_archive.image.name)
