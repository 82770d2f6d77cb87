"""Alerts: an email to the owner and a signed webhook, retried on 5xx, every attempt logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket

import pytest
from django.core import mail

from AdSpark.alerts import SIGNATURE_HEADER, watch_alert_email_send, webhook_attempt
from AdSpark.models import Creative, DeliveryStatus, WatchRun, WebhookDelivery
from AdSpark.watches.dispatch import watch_run_create
from AdSpark.watches.services import watch_run
from tests.conftest import wait_for

SECRET = "s3cret-s3cret-s3cret-s3cret"


def alerted_run(watch) -> WatchRun:  # type: ignore[no-untyped-def]
    run = watch_run_create(watch=watch, enqueue=False)
    return watch_run(watch_run_id=run.pk, task_id=run.celery_task_id)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_the_webhook_body_is_signed_with_the_watchs_secret(
    serpapi, make_watch, alice, webhook_receiver
) -> None:
    # Given alice's watch posts to her receiver and alerts on its first run
    watch = make_watch(
        owner=alice, alert_on_first_run=True, webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    run = alerted_run(watch)
    delivery = WebhookDelivery.objects.get(watch_run=run)

    # When the delivery is attempted
    outcome = webhook_attempt(delivery_id=delivery.pk)

    # Then the receiver can verify the HMAC-SHA256 of the exact body with the shared secret
    assert outcome.done and not outcome.retry
    [request] = webhook_receiver.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"][SIGNATURE_HEADER], expected)
    assert request["headers"]["X-AdSpark-Delivery"] == str(delivery.pk)
    # And the payload names the watch, the run and the new creatives with image and details links
    payload = json.loads(request["body"])
    assert payload["event"] == "watch.new_creatives"
    assert (payload["watch"]["id"], payload["run"]["id"]) == (watch.pk, run.pk)
    assert len(payload["creatives"]) == 40
    first = payload["creatives"][0]
    assert first["image_url"].startswith("https://tpc.googlesyndication.com/")
    assert first["details_link"].startswith("https://adstransparency.google.com/")
    assert first["api_url"].endswith(f"/api/adspark/creatives/{first['ad_creative_id']}/")
    assert first["app_url"] == (
        f"http://localhost:3000/creatives?advertiser_id={first['advertiser_id']}&creative={first['ad_creative_id']}"
    )
    assert payload["watch"]["app_url"] == f"http://localhost:3000/watches/{watch.pk}"
    # And the attempt is logged
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert list(delivery.attempt_log.values_list("number", "status_code")) == [(1, 200)]


@pytest.mark.django_db
def test_a_dead_receiver_ends_as_a_logged_failure(serpapi, make_watch, alice) -> None:
    # Given a webhook URL where nothing listens
    url = f"http://127.0.0.1:{closed_port()}/hook"
    watch = make_watch(owner=alice, alert_on_first_run=True, webhook_url=url, webhook_secret=SECRET)
    delivery = WebhookDelivery.objects.get(watch_run=alerted_run(watch))

    # When every attempt the task would make fails (the last one is final)
    outcomes = [webhook_attempt(delivery_id=delivery.pk, final=number == 4) for number in range(1, 5)]

    # Then the first three asked for a retry, and the delivery ended failed with all attempts logged
    assert [o.retry for o in outcomes] == [True, True, True, False]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error.startswith("Gave up after 4 attempts")
    log = list(delivery.attempt_log.all())
    assert [(a.number, a.status_code) for a in log] == [(1, None), (2, None), (3, None), (4, None)]
    assert all("Could not connect" in a.error for a in log)
    # And a late redelivery of the task sends nothing more
    assert webhook_attempt(delivery_id=delivery.pk).done
    assert delivery.attempt_log.count() == 4


@pytest.mark.django_db
def test_a_private_address_is_refused_at_delivery_time(serpapi, make_watch, alice, webhook_receiver) -> None:
    # Given a watch whose webhook host now points at a private address (changed behind the API)
    watch = make_watch(
        owner=alice, alert_on_first_run=True, webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    delivery = WebhookDelivery.objects.get(watch_run=alerted_run(watch))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(url="http://10.0.0.7/hook")

    # When it is attempted
    outcome = webhook_attempt(delivery_id=delivery.pk)

    # Then nothing is sent, and the delivery fails at once with the reason logged
    assert outcome.done and not outcome.retry
    assert webhook_receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "Private network addresses" in delivery.attempt_log.get().error


@pytest.mark.django_db
def test_the_owner_gets_one_email_listing_the_new_creatives(serpapi, make_watch, alice) -> None:
    watch = make_watch(owner=alice, alert_on_first_run=True)
    run = alerted_run(watch)

    assert watch_alert_email_send(watch_run_id=run.pk) is True
    assert watch_alert_email_send(watch_run_id=run.pk) is False  # a redelivered task sends nothing

    [message] = mail.outbox
    assert message.to == [alice.email]
    assert "40 new creative(s)" in message.subject
    assert "https://adstransparency.google.com/" in message.body
    assert "https://tpc.googlesyndication.com/" in message.body
    # and its links open the web app's pages (APP_BASE_URL), never the raw API
    first = run.new_creative_ids[0]
    assert f"http://localhost:3000/watches/{watch.pk}\n" in message.body + "\n"
    creative = Creative.objects.get(pk=first)
    assert (
        f"http://localhost:3000/creatives?advertiser_id={creative.advertiser_id}&creative={first}"
        in message.body
    )
    assert "/api/" not in message.body


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_through_the_worker_a_500_is_retried_then_delivered(
    serpapi, celery_worker, make_watch, alice, webhook_receiver
) -> None:
    # Given alice's receiver answers the first POST with a 500
    webhook_receiver.statuses = [500]
    watch = make_watch(
        owner=alice, alert_on_first_run=True, webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )

    # When the watch is triggered and the real worker runs it
    from django.db import transaction

    with transaction.atomic():
        run = watch_run_create(watch=watch)

    # Then the run succeeds, the webhook is retried with backoff and delivered on attempt 2
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(watch_run=run, status=DeliveryStatus.SUCCEEDED).first(),
        timeout=90,
        message="the webhook delivery to succeed",
    )
    assert list(delivery.attempt_log.values_list("number", "status_code")) == [(1, 500), (2, 200)]
    assert len(webhook_receiver.requests) == 2
    # And both requests carried the same delivery id and a valid signature
    for request in webhook_receiver.requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
        assert request["headers"][SIGNATURE_HEADER] == expected
    # And the owner's email went out too
    assert wait_for(lambda: WatchRun.objects.get(pk=run.pk).email_sent_at, timeout=30, message="the email")
