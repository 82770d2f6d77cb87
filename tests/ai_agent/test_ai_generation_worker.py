"""End to end through a real ``ai_generation`` worker against the local provider servers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.test import APIClient

from AdSpark.models import Creative
from ai_agent.images import png_is_blank, png_size
from ai_agent.models import AdVariant
from ai_agent.tasks import generate_ad_variant_async
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

URL = "/api/ai/variants/"


def _request(
    client: APIClient, creative: Creative, provider: str, prompt: str = "Summer sale. 20% off all jackets"
) -> int:
    response = client.post(URL, {"creative": creative.ad_creative_id, "prompt": prompt, "provider": provider})
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _finished(variant_id: int, timeout: float = 60) -> AdVariant:
    return wait_for(
        lambda: (v := AdVariant.objects.get(pk=variant_id)).is_finished and v,
        timeout=timeout,
        message=f"variant {variant_id} to finish",
    )


def _stored_png(variant: AdVariant) -> bytes:
    with default_storage.open(variant.image.name, "rb") as handle:
        return handle.read()


def test_it_generates_a_template_variant(
    ai_worker: object, alice_client: APIClient, make_text_creative, media_root: Path
) -> None:
    # Given a text creative
    creative = make_text_creative()
    # When alice asks for a template variant
    variant = _finished(_request(alice_client, creative, "template"))
    # Then three sizes are stored, the main one 1080x1080, and the API serves it
    assert variant.status == "succeeded", variant.error
    assert variant.is_ai is False
    assert [r["size"] for r in variant.renders] == ["1080x1080", "300x250", "728x90"]
    assert Path(default_storage.path(variant.image.name)).is_relative_to(media_root)
    png = _stored_png(variant)
    assert png_size(png) == (1080, 1080) == (variant.image_width, variant.image_height)
    # The worker drew the creative (its text card) and the variant is built on it: its colours
    # are the card's, and the main image's background is the card's dominant colour.
    assert (
        variant.provider_meta["screenshot_kind"] == "text" and variant.provider_meta["template"] == "pillow"
    )
    corner = Image.open(io.BytesIO(png)).convert("RGB").getpixel((2, 1077))
    assert "#{:02x}{:02x}{:02x}".format(*corner) == variant.provider_meta["palette"]["background"]
    response = alice_client.get(f"{URL}{variant.pk}/image/?size=300x250")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert png_size(b"".join(response.streaming_content)) == (300, 250)
    assert alice_client.get(f"{URL}{variant.pk}/").json()["progress"]["percent"] == 100.0


def test_it_generates_with_dify_streaming(
    ai_worker: object, alice_client: APIClient, make_text_creative, dify
) -> None:
    creative = make_text_creative()
    variant = _finished(_request(alice_client, creative, "dify"))
    assert variant.status == "succeeded", variant.error
    assert variant.headline == "Summer Sale" and variant.text.startswith("Summer sale.")
    assert variant.provider_run_id and variant.tokens == 412 and variant.provider_elapsed_seconds
    assert variant.provider_meta["screenshot_kind"] == "text"
    # The provider's image (a signed URL that expires) was copied under MEDIA_ROOT
    png = _stored_png(variant)
    assert png_size(png) == (256, 256) and not png_is_blank(png)
    assert dify.run_count == 1 and dify.upload_count == 1


def test_a_redelivered_task_does_not_generate_or_charge_twice(
    ai_worker: object, alice_client: APIClient, make_text_creative, dify
) -> None:
    # Given a finished Dify variant
    variant = _finished(_request(alice_client, make_text_creative(), "dify"))
    assert dify.run_count == 1
    # When its message is delivered again
    result = generate_ad_variant_async.apply_async(
        kwargs={
            "variant_id": variant.pk,
            "original_ad_id": variant.ad_creative_id,
            "prompt": variant.prompt,
            "user_id": variant.owner_id,
        },
    )
    summary = result.get(timeout=30)
    # Then nothing is generated again
    assert summary["status"] == "succeeded"
    assert dify.run_count == 1 and dify.count("run") == 1


def test_dify_429_is_retried_then_succeeds(
    ai_worker: object, alice_client: APIClient, make_text_creative, dify
) -> None:
    dify.inject_fault("rate_limit", endpoint="run")
    variant = _finished(_request(alice_client, make_text_creative(), "dify"), timeout=90)
    assert variant.status == "succeeded", variant.error
    assert variant.retries == 1
    assert [e["status"] for e in dify.requests if e["endpoint"] == "run"] == [429, 200]


def test_dify_timeout_is_retried_then_succeeds(
    ai_worker: object, alice_client: APIClient, make_text_creative, dify
) -> None:
    dify.inject_fault("delay", delay=4, endpoint="upload")  # longer than the worker's DIFY_TIMEOUT
    variant = _finished(_request(alice_client, make_text_creative(), "dify"), timeout=90)
    assert variant.status == "succeeded", variant.error
    assert variant.retries == 1


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("quota", "provider_quota_exceeded"),
        ("not_initialized", "provider_not_initialize"),
        ("unauthorized", "unauthorized"),
        ("failed_run", "run failed"),
        ("malformed", "not JSON"),
        ("stream_error", "provider_quota_exceeded"),
    ],
)
def test_permanent_dify_faults_fail_at_once(
    ai_worker: object, alice_client: APIClient, make_text_creative, dify, fault: str, words: str
) -> None:
    dify.inject_fault(fault, endpoint="run")
    variant = _finished(_request(alice_client, make_text_creative(), "dify"))
    assert variant.status == "failed"
    assert words in variant.error
    assert variant.retries == 0
    assert not variant.image


def test_it_generates_with_openai(
    ai_worker: object, alice_client: APIClient, make_text_creative, openai
) -> None:
    variant = _finished(_request(alice_client, make_text_creative(), "openai"))
    assert variant.status == "succeeded", variant.error
    assert variant.provider_run_id.startswith("chatcmpl-") and variant.tokens
    assert variant.headline == "Summer Sale"
    assert png_size(_stored_png(variant)) == (256, 256)
    assert (openai.count("chat"), openai.count("images"), openai.count("image")) == (1, 1, 1)


def test_openai_rate_limit_is_retried_without_paying_for_copy_twice(
    ai_worker: object, alice_client: APIClient, make_text_creative, openai
) -> None:
    openai.inject_fault("rate_limit", endpoint="images")
    variant = _finished(_request(alice_client, make_text_creative(), "openai"), timeout=90)
    assert variant.status == "succeeded", variant.error
    assert variant.retries == 1
    assert openai.count("chat") == 1  # the copy was checkpointed before the image failed
    assert openai.count("images") == 2


@pytest.mark.parametrize(
    ("fault", "endpoint", "words"),
    [
        ("quota", "chat", "insufficient_quota"),
        ("unauthorized", "chat", "invalid_api_key"),
        ("malformed", "images", "not a JSON object"),
        ("expired", "image", "expired"),
    ],
)
def test_permanent_openai_faults_fail_at_once(
    ai_worker: object,
    alice_client: APIClient,
    make_text_creative,
    openai,
    fault: str,
    endpoint: str,
    words: str,
) -> None:
    openai.inject_fault(fault, endpoint=endpoint)
    variant = _finished(_request(alice_client, make_text_creative(), "openai"))
    assert variant.status == "failed"
    assert words in variant.error
    assert variant.retries == 0


def test_deleting_the_creative_leaves_the_variant_intact(
    ai_worker: object, alice_client: APIClient, make_text_creative
) -> None:
    # Given a finished variant
    creative = make_text_creative()
    variant = _finished(_request(alice_client, creative, "template"))
    # When the creative is cleaned up
    Creative.objects.filter(pk=creative.pk).delete()
    # Then the variant, its snapshot and its image remain
    body = alice_client.get(f"{URL}{variant.pk}/").json()
    assert body["status"] == "succeeded"
    assert body["creative"] == creative.ad_creative_id and body["creative_exists"] is False
    assert body["creative_snapshot"]["details"]["title"] == "lululemon"
    assert alice_client.get(f"{URL}{variant.pk}/image/").status_code == 200
