"""Alerts of watch runs that found new creatives: an email to the owner and a signed webhook.

Webhook requests are ``POST`` with a JSON body (see :func:`watch_alert_payload`) and these
headers:

- ``X-AdSpark-Signature: sha256=<hex>``: HMAC-SHA256 of the exact body bytes, keyed with the
  watch's ``webhook_secret`` (UTF-8). Receivers recompute it and compare in constant time.
- ``X-AdSpark-Event: watch.new_creatives``, ``X-AdSpark-Delivery: <delivery id>`` (the same on
  every retry of one delivery, so receivers can drop duplicates).

Each HTTP attempt is logged (:class:`WebhookAttempt`). 5xx, 408, 429, timeouts and refused
connections are retried by ``deliver_webhook_task`` with backoff; other answers end the
delivery. The URL passes the SSRF check before every attempt and the request goes to the
address that was checked (:func:`core.urlsafety.pinned_request`, so DNS cannot answer
differently in between); redirects are not followed (a redirect could point anywhere).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from core.urlsafety import ResponseTooLarge, UnsafeURLError, pinned_request

from .models import Creative, DeliveryStatus, Watch, WatchRun, WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-AdSpark-Signature"
EVENT_HEADER = "X-AdSpark-Event"
DELIVERY_HEADER = "X-AdSpark-Delivery"
EVENT_NEW_CREATIVES = "watch.new_creatives"
# (connect, read) seconds. Receivers should answer at once and work later; 10 s read leaves
# room for a slow one while the task's soft limit (30 s, backend/celery.py) is never reached.
WEBHOOK_TIMEOUT = httpx.Timeout(10.0, connect=3.05)
# Bytes of a receiver's answer read (its body is not used; a huge one must not fill memory).
WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024
# Creatives listed in one payload or email; the rest are behind the run's new-creatives URL.
MAX_CREATIVES_PER_ALERT = 100
RETRYABLE_STATUS = frozenset({408, 429})


def public_url(path: str) -> str:
    """Absolute URL of ``path`` on this deployment (``ADSPARK_PUBLIC_URL``, default localhost)."""
    base = settings.ADSPARK_PUBLIC_URL
    return base.rstrip("/") + path


def app_url(path: str, **query: str) -> str:
    """Absolute URL of a web-app page (``APP_BASE_URL`` + ``path`` + ``?query``): what people
    open from an alert (the API's own URLs are for programs)."""
    url = settings.APP_BASE_URL.rstrip("/") + path
    return f"{url}?{urlencode(query)}" if query else url


def creative_app_url(creative: Creative) -> str:
    """The creatives gallery of the creative's advertiser with its details panel open."""
    return app_url("/creatives", advertiser_id=creative.advertiser_id, creative=creative.ad_creative_id)


def sign(body: bytes, secret: str) -> str:
    """Return the ``X-AdSpark-Signature`` value for ``body``: ``"sha256=" + hex HMAC``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def watch_alerts_schedule(*, watch: Watch, watch_run_id: int) -> None:
    """Schedule the alerts of a run (call inside its transaction; tasks go out on commit).

    An email if the watch has ``notify_email``; a :class:`WebhookDelivery` row and its task if
    it has a ``webhook_url``.
    """
    from backend.celery import app

    # by name (a signature), not by importing the tasks module: tasks import services
    if watch.notify_email:
        transaction.on_commit(
            lambda: app.signature("AdSpark.tasks.send_watch_alert_task", args=(watch_run_id,)).delay()
        )
    if watch.webhook_url:
        delivery = WebhookDelivery.objects.create(watch_run_id=watch_run_id, url=watch.webhook_url)
        transaction.on_commit(
            lambda: app.signature("AdSpark.tasks.deliver_webhook_task", args=(delivery.pk,)).delay()
        )


def _creative_entry(creative: Creative) -> dict[str, Any]:
    return {
        "ad_creative_id": creative.ad_creative_id,
        "advertiser_id": creative.advertiser_id,
        "advertiser_name": creative.advertiser.name,
        "format": creative.format,
        "image_url": creative.image_url or None,
        "preview_url": creative.preview_url or None,
        "details_link": creative.details_link or None,
        "api_url": public_url(reverse("creative-detail", args=[creative.ad_creative_id])),
        "app_url": creative_app_url(creative),
        "first_shown": creative.first_shown.isoformat() if creative.first_shown else None,
        "last_shown": creative.last_shown.isoformat() if creative.last_shown else None,
    }


def watch_alert_payload(*, watch_run_id: int) -> dict[str, Any]:
    """The JSON alert of a run: what the webhook body and the email are made from.

    Shape::

        {"event": "watch.new_creatives",
         "watch": {"id", "name", "url", "app_url"},
         "run": {"id", "finished_at" (ISO-8601), "new_creatives_count", "is_baseline",
                 "new_creatives_url", "app_url"},
         "creatives": [{"ad_creative_id", "advertiser_id", "advertiser_name", "format",
                        "image_url", "preview_url", "details_link" (Ads Transparency Center),
                        "api_url", "app_url", "first_shown", "last_shown"}, …],   # at most 100

    ``url``/``api_url``/``new_creatives_url`` are API endpoints (``ADSPARK_PUBLIC_URL``), for
    programs; ``app_url`` the web app's pages (``APP_BASE_URL``), for people.
         "truncated": bool}
    """
    run = WatchRun.objects.select_related("watch").get(pk=watch_run_id)
    ids = list(run.new_creative_ids)[:MAX_CREATIVES_PER_ALERT]
    creatives = Creative.objects.select_related("advertiser").in_bulk(ids)
    watch_url = public_url(reverse("watch-detail", args=[run.watch_id]))
    return {
        "event": EVENT_NEW_CREATIVES,
        "watch": {
            "id": run.watch_id,
            "name": run.watch.name,
            "url": watch_url,
            "app_url": app_url(f"/watches/{run.watch_id}"),
        },
        "run": {
            "id": run.pk,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "new_creatives_count": run.new_creatives_count,
            "is_baseline": run.is_baseline,
            "new_creatives_url": public_url(reverse("watch-new-creatives", args=[run.watch_id]))
            + f"?run={run.pk}",
            "app_url": app_url(f"/watches/{run.watch_id}", run=str(run.pk)),
        },
        "creatives": [_creative_entry(creatives[i]) for i in ids if i in creatives],
        "truncated": run.new_creatives_count > len(ids),
    }


def watch_alert_email_send(*, watch_run_id: int) -> bool:
    """Email the watch's owner about the run's new creatives; False if already sent or moot.

    ``email_sent_at`` is claimed before sending (so a redelivered task sends once) and released
    again if sending raises, so the task's retry sends it.

    Raises:
        Exception: whatever the email backend raises (SMTP errors), after the release.
    """
    run = WatchRun.objects.select_related("watch__owner").get(pk=watch_run_id)
    owner = run.watch.owner
    if not owner.email or not run.new_creatives_count:
        return False
    claimed = WatchRun.objects.filter(pk=run.pk, email_sent_at__isnull=True).update(
        email_sent_at=timezone.now()
    )
    if not claimed:
        return False
    payload = watch_alert_payload(watch_run_id=run.pk)
    lines = [
        f'Your watch "{run.watch.name}" found {run.new_creatives_count} new creative(s).',
        "",
    ]
    # People open these links: the web app's pages, never the API (which offers a DELETE
    # button in the browsable view).
    for creative in payload["creatives"]:
        lines.append(f"- {creative['ad_creative_id']} ({creative['advertiser_name']}, {creative['format']})")
        lines.append(f"    open in AdSpark: {creative['app_url']}")
        if creative["image_url"]:
            lines.append(f"    image: {creative['image_url']}")
        if creative["details_link"]:
            lines.append(f"    in the Ads Transparency Center: {creative['details_link']}")
    if payload["truncated"]:
        lines.append(f"… and more: {payload['run']['app_url']}")
    lines += ["", f"Watch: {payload['watch']['app_url']}"]
    try:
        send_mail(
            subject=f"[AdSpark] {run.new_creatives_count} new creative(s) for {run.watch.name}",
            message="\n".join(lines),
            from_email=None,
            recipient_list=[owner.email],
        )
    except Exception:
        WatchRun.objects.filter(pk=run.pk).update(email_sent_at=None)
        raise
    return True


@dataclass(frozen=True)
class AttemptOutcome:
    """What one webhook attempt did: ``done`` (delivered or given up), ``retry`` (try again
    later), the HTTP ``status_code`` (None without a response) and an ``error`` text."""

    done: bool
    retry: bool
    status_code: int | None = None
    error: str = ""


def _finish(delivery_id: int, status: str, *, status_code: int | None, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=status, last_status_code=status_code, error=error[:2000], finished_at=timezone.now()
    )


def webhook_attempt(*, delivery_id: int, final: bool = False) -> AttemptOutcome:
    """Make one HTTP attempt of delivery ``delivery_id`` and log it.

    ``final``: no retry will follow, so a retryable failure ends the delivery as failed.
    A delivery that already ended is left alone (``done=True``, nothing sent).
    """
    delivery = WebhookDelivery.objects.select_related("watch_run__watch").get(pk=delivery_id)
    if delivery.status != DeliveryStatus.PENDING:
        return AttemptOutcome(done=True, retry=False, status_code=delivery.last_status_code)
    WebhookDelivery.objects.filter(pk=delivery_id).update(attempts=F("attempts") + 1)
    number = delivery.attempts + 1
    watch = delivery.watch_run.watch
    started = time.monotonic()
    status_code: int | None = None
    retryable = False
    try:
        body = json.dumps(
            watch_alert_payload(watch_run_id=delivery.watch_run_id), sort_keys=True, separators=(",", ":")
        ).encode()
        response = pinned_request(
            "POST",
            delivery.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "AdSpark-Webhook/1",
                SIGNATURE_HEADER: sign(body, watch.webhook_secret),
                EVENT_HEADER: EVENT_NEW_CREATIVES,
                DELIVERY_HEADER: str(delivery.pk),
            },
            timeout=WEBHOOK_TIMEOUT,
            max_bytes=WEBHOOK_MAX_RESPONSE_BYTES,
        )
        status_code = response.status_code
        if 200 <= status_code < 300:
            error = ""
        else:
            retryable = status_code >= 500 or status_code in RETRYABLE_STATUS
            error = f"The receiver answered HTTP {status_code}."
    except UnsafeURLError as exc:
        error = f"Refused URL: {exc}"
    except httpx.TimeoutException:
        retryable, error = True, f"No answer within {WEBHOOK_TIMEOUT.read:.0f} s."
    except httpx.NetworkError as exc:
        retryable, error = True, f"Could not connect: {exc.__class__.__name__}."
    except (httpx.HTTPError, ResponseTooLarge) as exc:
        error = f"Request failed: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    WebhookAttempt.objects.create(
        delivery_id=delivery_id, number=number, status_code=status_code, error=error, duration_ms=duration_ms
    )
    if not error:
        _finish(delivery_id, DeliveryStatus.SUCCEEDED, status_code=status_code, error="")
        return AttemptOutcome(done=True, retry=False, status_code=status_code)
    if retryable and not final:
        WebhookDelivery.objects.filter(pk=delivery_id).update(last_status_code=status_code, error=error)
        return AttemptOutcome(done=False, retry=True, status_code=status_code, error=error)
    if retryable:
        error = f"Gave up after {number} attempts. Last: {error}"
    _finish(delivery_id, DeliveryStatus.FAILED, status_code=status_code, error=error)
    logger.warning("webhook delivery %s failed: %s", delivery_id, error)
    return AttemptOutcome(done=True, retry=False, status_code=status_code, error=error)
