"""``/api/ai/variants/``: validation, idempotency, owner scoping, retry and rating (no worker:
tasks are not sent because the test transaction never commits)."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from ai_agent.models import AdVariant
from core.models import JobStatus
from tests.factories import CreativeFactory

URL = "/api/ai/variants/"


@pytest.fixture
def creative(db: None) -> object:
    return CreativeFactory()


@pytest.fixture
def bob_client(bob: object) -> APIClient:
    client = APIClient()
    client.force_authenticate(bob)
    return client


def test_it_accepts_a_variant_request_with_202_and_a_status_url(
    alice_client: APIClient, creative: object
) -> None:
    response = alice_client.post(URL, {"creative": creative.ad_creative_id, "prompt": "Summer sale: 20% off"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert body["provider"] == settings.AI_PROVIDER == "template"
    assert body["generated_by"] == "template" and body["is_ai"] is False
    assert body["status_url"].endswith(f"/api/ai/variants/{body['id']}/")
    assert response["Location"] == body["status_url"]
    assert body["task_id"]
    assert body["creative_snapshot"]["ad_creative_id"] == creative.ad_creative_id


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"prompt": "x" * 10}, "creative"),
        ({"creative": "CR00000000000000000000", "prompt": "Summer sale"}, "creative"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "ab"}, "prompt"),
        ({"prompt": "x" * 1001}, "prompt"),
        ({"prompt": "Sale\x00 now"}, "prompt"),
        ({"prompt": "Sale \u202enow"}, "prompt"),
        ({"prompt": "Summer sale", "provider": "midjourney"}, "provider"),
    ],
)
def test_it_rejects_bad_input_with_field_errors(
    alice_client: APIClient, creative: object, payload: dict[str, str], field: str
) -> None:
    payload = (
        {"creative": creative.ad_creative_id, **payload}
        if "creative" not in payload and field != "creative"
        else payload
    )
    response = alice_client.post(URL, payload)
    assert response.status_code == 400
    assert field in response.json()
    assert not AdVariant.objects.exists()


def test_it_rejects_a_provider_that_is_not_configured(
    alice_client: APIClient, creative: object, settings: object
) -> None:
    settings.DIFY_API_KEY = ""  # type: ignore[attr-defined]
    response = alice_client.post(
        URL, {"creative": creative.ad_creative_id, "prompt": "Summer sale", "provider": "dify"}
    )
    assert response.status_code == 400
    assert "DIFY_API_KEY" in response.json()["provider"][0]


def test_it_labels_ai_providers_as_ai(alice_client: APIClient, creative: object, settings: object) -> None:
    settings.OPENAI_API_KEY = "sk-test"  # type: ignore[attr-defined]
    response = alice_client.post(
        URL, {"creative": creative.ad_creative_id, "prompt": "Summer sale", "provider": "openai"}
    )
    assert response.status_code == 202
    assert response.json()["generated_by"] == "ai"


def test_writes_need_authentication(api_client: APIClient, creative: object) -> None:
    response = api_client.post(URL, {"creative": creative.ad_creative_id, "prompt": "Summer sale"})
    assert response.status_code == 401


def test_the_same_idempotency_key_returns_the_same_variant(alice_client: APIClient, creative: object) -> None:
    payload = {"creative": creative.ad_creative_id, "prompt": "Summer sale"}
    first = alice_client.post(URL, payload, HTTP_IDEMPOTENCY_KEY="k-123")
    second = alice_client.post(URL, payload, HTTP_IDEMPOTENCY_KEY="k-123")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert AdVariant.objects.count() == 1


def test_a_reused_key_for_another_request_is_a_conflict(alice_client: APIClient, creative: object) -> None:
    alice_client.post(
        URL, {"creative": creative.ad_creative_id, "prompt": "Summer sale"}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    response = alice_client.post(
        URL, {"creative": creative.ad_creative_id, "prompt": "Winter sale"}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert response.status_code == 409
    assert "idempotency_key" in response.json()


def test_keys_are_per_user(alice_client: APIClient, bob_client: APIClient, creative: object) -> None:
    payload = {"creative": creative.ad_creative_id, "prompt": "Summer sale"}
    alice_id = alice_client.post(URL, payload, HTTP_IDEMPOTENCY_KEY="same").json()["id"]
    bob_id = bob_client.post(URL, payload, HTTP_IDEMPOTENCY_KEY="same").json()["id"]
    assert alice_id != bob_id


def test_other_users_variants_are_invisible(
    alice_client: APIClient, bob_client: APIClient, creative: object
) -> None:
    # Given alice's variant
    variant_id = alice_client.post(
        URL, {"creative": creative.ad_creative_id, "prompt": "Summer sale"}
    ).json()["id"]
    # Then bob neither lists it nor reaches it
    assert bob_client.get(URL).json()["count"] == 0
    for path in ("", "image/"):
        assert bob_client.get(f"{URL}{variant_id}/{path}").status_code == 404
    assert bob_client.post(f"{URL}{variant_id}/retry/").status_code == 404
    assert bob_client.post(f"{URL}{variant_id}/rating/", {"rating": 5}).status_code == 404
    # And alice does
    assert alice_client.get(URL).json()["count"] == 1
    assert alice_client.get(f"{URL}{variant_id}/").status_code == 200


def test_there_is_no_image_before_generation(alice_client: APIClient, creative: object) -> None:
    variant_id = alice_client.post(
        URL, {"creative": creative.ad_creative_id, "prompt": "Summer sale"}
    ).json()["id"]
    assert alice_client.get(f"{URL}{variant_id}/image/").status_code == 404


def test_only_failed_variants_can_be_retried(alice_client: APIClient, creative: object) -> None:
    variant_id = alice_client.post(
        URL, {"creative": creative.ad_creative_id, "prompt": "Summer sale"}
    ).json()["id"]
    assert alice_client.post(f"{URL}{variant_id}/retry/").status_code == 409
    AdVariant.objects.filter(pk=variant_id).update(
        status=JobStatus.FAILED, error="boom", provider_run_id="run-1"
    )
    old_task = AdVariant.objects.get(pk=variant_id).celery_task_id
    response = alice_client.post(f"{URL}{variant_id}/retry/")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["error"] == "" and body["provider_run_id"] == ""
    assert body["task_id"] != old_task


def test_only_succeeded_variants_can_be_rated(alice_client: APIClient, creative: object) -> None:
    variant_id = alice_client.post(
        URL, {"creative": creative.ad_creative_id, "prompt": "Summer sale"}
    ).json()["id"]
    assert alice_client.post(f"{URL}{variant_id}/rating/", {"rating": 4}).status_code == 409
    AdVariant.objects.filter(pk=variant_id).update(status=JobStatus.SUCCEEDED)
    assert alice_client.post(f"{URL}{variant_id}/rating/", {"rating": 9}).status_code == 400
    response = alice_client.post(f"{URL}{variant_id}/rating/", {"rating": 4, "comment": "Good headline"})
    assert response.status_code == 200
    assert (response.json()["rating"], response.json()["rating_comment"]) == (4, "Good headline")


def test_the_enqueue_endpoint_is_throttled(
    alice_client: APIClient, creative: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "ai_variants", "2/minute")
    payload = {"creative": creative.ad_creative_id, "prompt": "Summer sale"}
    codes = [alice_client.post(URL, payload).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert alice_client.get(URL).status_code == 200  # reads are not throttled by this scope
