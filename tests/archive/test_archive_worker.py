"""The archive capture end to end: a real ai_generation worker, its real Chromium, recorded
creatives whose Google URLs point at a local stand-in server (see conftest)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.test import APIClient

from AdSpark.archive import archive_backlog, archive_enqueue
from AdSpark.models import ArchiveStatus, Creative, CreativeArchive
from AdSpark.queries import normalize_fetch_params
from AdSpark.services import creative_upsert_page, fetch_run_create, fetch_run_execute
from tests.archive.conftest import recorded_creative
from tests.conftest import SHARED_RESPONSES, wait_for
from tests.google_standin import GoogleStandIn, jpeg_bytes, png_bytes

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FINAL = (ArchiveStatus.ARCHIVED, ArchiveStatus.FAILED, ArchiveStatus.SKIPPED)


def _finished(creative_id: str, timeout: float = 60) -> CreativeArchive:
    return wait_for(
        lambda: CreativeArchive.objects.filter(pk=creative_id, status__in=FINAL).first(),
        timeout=timeout,
        message=f"the archive of {creative_id} to finish",
    )


def _store(item: dict[str, Any]) -> Creative:
    """Ingest one SerpApi item the way a fetch run does."""
    result = creative_upsert_page(items=[item], region="2840")
    assert result.new == 1
    return Creative.objects.get(pk=item["ad_creative_id"])


def _image_item(google: GoogleStandIn, *, creative_id: str, image_path: str) -> dict[str, Any]:
    item = dict(recorded_creative("peer_tesla_p1.json", preview=False))
    item["ad_creative_id"] = creative_id
    item["image"] = google.url + image_path
    return item


def _read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def test_it_archives_a_recorded_image_creative(
    archive_worker: object,
    archive_on: object,
    google: GoogleStandIn,
    media_root: Path,
    alice_client: APIClient,
) -> None:
    # Given the recorded Tesla image creative (380 x 539), its image served locally as a JPEG
    item = recorded_creative("peer_tesla_p1.json", preview=False)
    google.images[item["image"].rsplit("/", 1)[-1]] = jpeg_bytes(item["width"], item["height"], seed=1)
    creative = _store({**item, "image": google.localize(item["image"])})
    # When it is queued for the archive
    assert archive_enqueue([creative.pk]) == [creative.pk]
    # Then the worker stores a full PNG of the image's size, a WebP thumbnail 400 px wide at
    # most, and a 64-bit perceptual hash
    archive = _finished(creative.pk)
    assert archive.status == ArchiveStatus.ARCHIVED, archive.error
    assert (archive.source, archive.width, archive.height, archive.attempts) == ("image", 380, 539, 1)
    assert Path(default_storage.path(archive.image.name)).is_relative_to(media_root)
    full = Image.open(io.BytesIO(_read(archive.image.name)))
    assert (full.format, full.size) == ("PNG", (380, 539))
    thumb = Image.open(io.BytesIO(_read(archive.thumbnail.name)))
    assert thumb.format == "WEBP" and thumb.size[0] <= 400 and thumb.size == (380, 539)
    assert re.fullmatch(r"[0-9a-f]{16}", archive.visual_hash)
    # and the API gives absolute URLs that serve those files
    body = alice_client.get(f"/api/adspark/creatives/{creative.pk}/").json()
    assert body["archive_status"] == "archived"
    assert body["visual_hash"] == archive.visual_hash
    assert body["archived_image_url"] == f"http://testserver/media/{archive.image.name}"
    assert body["archived_thumbnail_url"] == f"http://testserver/media/{archive.thumbnail.name}"
    served = alice_client.get(body["archived_image_url"].removeprefix("http://testserver"))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == _read(archive.image.name)


def test_it_renders_a_recorded_preview_creative_in_the_browser(
    archive_worker: object, archive_on: object, google: GoogleStandIn
) -> None:
    # Given the recorded Arc'teryx creative that only has a preview script (content.js link)
    item = recorded_creative("holloway_list_arcteryx_lastpage.json", preview=True)
    creative = _store({**item, "link": google.localize(item["link"])})
    assert creative.preview_url.startswith(google.url + "/ads/preview/content.js?")
    # When it is captured
    archive_enqueue([creative.pk])
    archive = _finished(creative.pk)
    # Then the script was run in the host page and what it drew (320 x 100) is archived
    assert archive.status == ArchiveStatus.ARCHIVED, archive.error
    assert archive.source == "preview"
    assert (archive.width, archive.height) == (320, 100)
    assert google.hits["/ads/preview/content.js"] == 1
    full = Image.open(io.BytesIO(_read(archive.image.name))).convert("RGB")
    # the stand-in drew the recorded creativeId's colour (…095 -> red 95) behind white text
    assert "creativeId=803523523095" in creative.preview_url
    assert full.getpixel((2, 97)) == full.getpixel((317, 2)) == (95, 90, 160)
    text = full.crop((12, 12, 240, 36)).convert("L")
    assert text.getextrema()[1] > 240  # the white "Preview 803523523095" line


def test_identical_images_under_different_ids_share_a_visual_hash(
    archive_worker: object, archive_on: object, google: GoogleStandIn, alice_client: APIClient
) -> None:
    # Given two creatives showing the same picture (one PNG, one JPEG of it) and a third other
    google.images["same-a"] = png_bytes(300, 250, seed=2)
    google.images["same-b"] = jpeg_bytes(300, 250, seed=2)
    google.images["other"] = png_bytes(300, 250, seed=7)
    ids = ["CR90000000000000000001", "CR90000000000000000002", "CR90000000000000000003"]
    for creative_id, name in zip(ids, ["same-a", "same-b", "other"], strict=True):
        _store(_image_item(google, creative_id=creative_id, image_path=f"/archive/simgad/{name}"))
    # When they are archived
    archive_enqueue(ids)
    a, b, other = (_finished(creative_id) for creative_id in ids)
    assert {a.status, b.status, other.status} == {ArchiveStatus.ARCHIVED}
    # Then the two look-alikes have the same hash and the other does not
    assert a.visual_hash == b.visual_hash != other.visual_hash
    # and the API groups them: duplicate_count and the visual_hash filter
    rows = alice_client.get("/api/adspark/creatives/", {"advertiser_id": a.creative.advertiser_id}).json()[
        "results"
    ]
    counts = {row["ad_creative_id"]: row["duplicate_count"] for row in rows}
    assert counts == {ids[0]: 1, ids[1]: 1, ids[2]: 0}
    group = alice_client.get("/api/adspark/creatives/", {"visual_hash": a.visual_hash}).json()
    assert sorted(row["ad_creative_id"] for row in group["results"]) == ids[:2]


def test_a_transient_error_is_retried_and_then_succeeds(
    archive_worker: object, archive_on: object, google: GoogleStandIn
) -> None:
    # Given an image server that answers 503 twice before the image
    google.images["busy"] = png_bytes(120, 60, seed=3)
    creative = _store(
        _image_item(google, creative_id="CR90000000000000000011", image_path="/flaky/busy?fail=2")
    )
    # When it is captured
    archive_enqueue([creative.pk])
    archive = _finished(creative.pk)
    # Then the worker retried and archived it on the third attempt
    assert archive.status == ArchiveStatus.ARCHIVED, archive.error
    assert archive.attempts == 3
    assert google.hits["/flaky/busy"] == 3


def test_a_transient_error_that_persists_fails_after_bounded_retries(
    archive_worker: object, archive_on: object, google: GoogleStandIn
) -> None:
    # Given an image server that always answers 503
    google.images["down"] = png_bytes(120, 60, seed=4)
    creative = _store(
        _image_item(google, creative_id="CR90000000000000000012", image_path="/flaky/down?fail=99")
    )
    archive_enqueue([creative.pk])
    archive = _finished(creative.pk)
    # Then it failed with the reason after 1 + max_retries (3) attempts
    assert archive.status == ArchiveStatus.FAILED
    assert archive.attempts == 4 == google.hits["/flaky/down"]
    assert "HTTP 503" in archive.error and "gave up after 4 attempts" in archive.error


def test_a_permanent_error_fails_at_once(
    archive_worker: object, archive_on: object, google: GoogleStandIn
) -> None:
    # Given an image URL that answers 404
    creative = _store(_image_item(google, creative_id="CR90000000000000000013", image_path="/status/404"))
    archive_enqueue([creative.pk])
    archive = _finished(creative.pk)
    # Then it fails on the first attempt, without retries
    assert archive.status == ArchiveStatus.FAILED
    assert archive.attempts == 1 == google.hits["/status/404"]
    assert "HTTP 404" in archive.error
    assert not archive.image and archive.visual_hash == ""


@pytest.mark.parametrize(
    "image_url",
    [
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://10.0.0.5/ad.png",  # private network
        "file:///etc/passwd",
    ],
)
def test_it_refuses_unsafe_image_urls(
    archive_worker: object, archive_on: object, google: GoogleStandIn, image_url: str
) -> None:
    creative = _store(
        {**recorded_creative("peer_tesla_p1.json", preview=False), "ad_creative_id": "CR90000000000000000021"}
    )
    Creative.objects.filter(pk=creative.pk).update(image_url=image_url)
    archive_enqueue([creative.pk])
    archive = _finished(creative.pk)
    assert archive.status == ArchiveStatus.FAILED
    assert archive.attempts == 1
    assert archive.error.startswith("The image URL was refused:")


def test_it_refuses_a_redirect_to_a_private_address(
    archive_worker: object, archive_on: object, google: GoogleStandIn
) -> None:
    # Given a public-looking image URL that redirects to the cloud metadata address
    creative = _store(
        _image_item(
            google,
            creative_id="CR90000000000000000022",
            image_path="/redirect?to=http://169.254.169.254/latest/meta-data/",
        )
    )
    archive_enqueue([creative.pk])
    archive = _finished(creative.pk)
    # Then the redirect's target is checked like a new URL and refused
    assert archive.status == ArchiveStatus.FAILED
    assert google.hits["/redirect"] == 1
    assert "Link-local addresses" in archive.error


def test_not_an_image_fails_and_a_creative_without_media_is_skipped(
    archive_worker: object, archive_on: object, google: GoogleStandIn
) -> None:
    google.images["text"] = b"<html>not an image</html>"
    not_image = _store(
        _image_item(google, creative_id="CR90000000000000000031", image_path="/archive/simgad/text")
    )
    bare = _store(
        {
            **recorded_creative("peer_tesla_p1.json", preview=False),
            "ad_creative_id": "CR90000000000000000032",
            "image": None,
            "width": None,
            "height": None,
        }
    )
    archive_enqueue([not_image.pk, bare.pk])
    failed, skipped = _finished(not_image.pk), _finished(bare.pk)
    assert failed.status == ArchiveStatus.FAILED and "not an image" in failed.error
    assert skipped.status == ArchiveStatus.SKIPPED and skipped.attempts == 1


def test_the_backlog_captures_never_archived_creatives(
    archive_worker: object, archive_on: Any, google: GoogleStandIn
) -> None:
    # Given three stored creatives that were never queued (e.g. over a run's cap)
    for n in range(3):
        google.images[f"backlog{n}"] = png_bytes(64, 64, seed=10 + n)
        _store(
            _image_item(
                google, creative_id=f"CR9000000000000000004{n}", image_path=f"/archive/simgad/backlog{n}"
            )
        )
    assert not CreativeArchive.objects.exists()
    # When the backlog task runs with a batch of 2, then again
    assert archive_backlog(limit=2) == {"queued": 2, "requeued": 0}
    assert archive_backlog(limit=2) == {"queued": 1, "requeued": 0}
    # Then the worker archives all three, and nothing is left for the backlog
    for n in range(3):
        assert _finished(f"CR9000000000000000004{n}").status == ArchiveStatus.ARCHIVED
    assert archive_backlog(limit=2) == {"queued": 0, "requeued": 0}


def test_a_fetch_run_queues_its_first_new_creatives_and_the_worker_archives_them(
    archive_worker: object, archive_on: Any, google: GoogleStandIn, serpapi: Any
) -> None:
    # Given the recorded Tesla page under another advertiser, its images and previews served
    # locally (each image different), and a per-run cap of 3
    data = json.loads((SHARED_RESPONSES / "peer_tesla_p1.json").read_text())
    advertiser = "AR10000000000000000013"
    data["search_parameters"]["advertiser_id"] = advertiser
    for n, item in enumerate(data["ad_creatives"]):
        item["advertiser_id"] = advertiser
        item["ad_creative_id"] = f"CR8{n:019d}"
        if item.get("image"):
            item["image"] = google.localize(item["image"])
            google.images[item["image"].rsplit("/", 1)[-1]] = png_bytes(40, 30, seed=n)
        if item.get("link"):
            item["link"] = google.localize(item["link"])
    serpapi.add_recording(data, "archive_tesla_local")
    archive_on.ARCHIVE_PER_RUN_CAP = 3
    # When a fetch run stores the page (its commits publish the captures)
    query = normalize_fetch_params({"advertiser_ids": advertiser, "region": "US", "num": 15})
    run = fetch_run_execute(fetch_run_id=fetch_run_create(owner=None, query=query, enqueue=False).pk)
    assert run.creatives_new == 40
    # Then the first 3 creatives SerpApi returned are archived by the worker, the rest wait
    first = run.creative_ids[:3]
    assert sorted(CreativeArchive.objects.values_list("creative_id", flat=True)) == sorted(first)
    assert [_finished(creative_id).status for creative_id in first] == [ArchiveStatus.ARCHIVED] * 3
    assert Creative.objects.filter(archive__isnull=True).count() == 37
