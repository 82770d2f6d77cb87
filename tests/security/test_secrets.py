"""No configured credential appears in a log line, a stored error, a task result or an event.

The leak that prompted this: a transient SerpApi error quotes the request URL, whose query
carries ``api_key``; it went into the worker log, the Celery retry message and FetchRun.error.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from AdSpark.models import FetchRun, WatchRun, WebhookAttempt, WebhookDelivery
from ai_agent.models import AdVariant
from backend.celery import app
from core.redaction import MASK, RedactingFilter, configured_secrets, redact
from tests.conftest import REPO_DIR, SERPAPI_TEST_KEY, wait_for
from tests.factories import UserFactory

TESLA = "AR17828074650563772417"
DIFY_KEY = "app-dify-secret-0123456789"
OPENAI_KEY = "sk-openai-secret-0123456789"
REDIS_PASSWORD = "redis-pass-0123456789"


@override_settings(
    SERPAPI_API_KEY="serp-secret-0123456789",
    DIFY_API_KEY=DIFY_KEY,
    OPENAI_API_KEY=OPENAI_KEY,
    CELERY_BROKER_URL=f"redis://:{REDIS_PASSWORD}@redis:6379/0",
)
def test_it_masks_every_configured_credential_wherever_it_appears() -> None:
    # Given credentials configured for SerpApi, Dify, OpenAI and the broker
    text = (
        "GET https://serpapi.com/search?engine=x&api_key=serp-secret-0123456789&num=10 failed; "
        f"dify said {DIFY_KEY!r}; openai key {OPENAI_KEY}; broker redis://:{REDIS_PASSWORD}@redis:6379/0"
    )
    # When the text is redacted
    redacted = redact(text)
    # Then none of them is left, and the rest of the message is
    for secret in ("serp-secret-0123456789", DIFY_KEY, OPENAI_KEY, REDIS_PASSWORD):
        assert secret in configured_secrets()
        assert secret not in redacted
    assert "engine=x" in redacted and "num=10" in redacted and "redis:6379/0" in redacted


def test_it_masks_credentials_it_was_not_told_about_by_their_shape() -> None:
    text = (
        "redis://user:hunter2-pw@cache:6379/1 and https://api.example/v1?key=abc123def&x=1 "
        "with Authorization: Bearer eyJhbGciOi.payload.sig"
    )
    redacted = redact(text, secrets=[])
    assert "hunter2-pw" not in redacted and "abc123def" not in redacted and "eyJhbGciOi" not in redacted
    assert redacted.count(MASK) == 3 and "x=1" in redacted


@override_settings(SERPAPI_API_KEY="serp-secret-0123456789")
def test_it_masks_log_messages_arguments_and_tracebacks() -> None:
    # Given a handler with the redacting filter (as every configured handler has)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.security.secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        # When a message, its arguments and an exception carry the key
        logger.warning("calling %s", "https://serpapi.com/search?api_key=serp-secret-0123456789")
        try:
            raise RuntimeError("boom with serp-secret-0123456789 inside")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    # Then the written lines hold none of it
    output = stream.getvalue()
    assert "serp-secret-0123456789" not in output
    assert "calling https://serpapi.com/search?api_key=[redacted]" in output
    assert "RuntimeError: boom with [redacted] inside" in output


def test_the_configured_logging_redacts_every_handler() -> None:
    # Every handler Django configures carries the filter (the worker's own: see the next test)
    assert settings.LOGGING["filters"]["redact"]["()"] == "core.redaction.RedactingFilter"
    assert all("redact" in handler["filters"] for handler in settings.LOGGING["handlers"].values())
    console = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    assert console and all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in console)


@pytest.mark.django_db
@override_settings(SERPAPI_API_KEY="serp-secret-0123456789")
def test_it_stores_error_columns_redacted_on_save_and_on_update() -> None:
    owner = UserFactory()
    run = FetchRun.objects.create(owner=owner, params={}, error="saved with serp-secret-0123456789")
    FetchRun.objects.filter(pk=run.pk).update(error="updated: api_key=serp-secret-0123456789&x=1")
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(FetchRun._meta.db_table)
        cursor.execute(f"SELECT error FROM {table} WHERE id = %s", [run.pk])  # noqa: S608
        (stored,) = cursor.fetchone()
    assert stored == "updated: api_key=[redacted]&x=1"


class _EventRecorder:
    """Every Celery event on the broker while the block runs, as raw dicts."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self._ready = threading.Event()
        self._receiver = None

    def __enter__(self) -> _EventRecorder:
        def run() -> None:
            with app.connection_for_read() as conn:
                self._receiver = app.events.Receiver(conn, handlers={"*": self.events.append})
                self._ready.set()
                self._receiver.capture(limit=None, timeout=None, wakeup=False)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._receiver is not None:
            self._receiver.should_stop = True
        self._thread.join(10)


def _redis_values(url: str) -> Iterator[bytes]:
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(count=500):
        kind = client.type(key)
        if kind == b"string":
            yield client.get(key) or b""
        elif kind == b"list":
            yield from client.lrange(key, 0, -1)
        elif kind == b"hash":
            yield from client.hvals(key)


def _log_text_since(offsets: dict[Path, int]) -> str:
    text = []
    for path in sorted((REPO_DIR / "var" / "test-logs").glob("worker-*.log")):
        with open(path, "rb") as log:
            log.seek(offsets.get(path, 0))
            text.append(log.read().decode(errors="replace"))
    return "".join(text)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_serpapi_key_out_of_worker_logs_errors_results_and_events(  # type: ignore[no-untyped-def]
    alice_client, serpapi, celery_worker
) -> None:
    # Given SerpApi answering 502 with an empty body, whose error text quotes the request URL
    # (engine, query and api_key), for longer than the task retries
    secret = SERPAPI_TEST_KEY
    assert secret in configured_secrets()
    serpapi.inject_fault(status=502, body="empty", count=20)
    logs = {p: p.stat().st_size for p in (REPO_DIR / "var" / "test-logs").glob("worker-*.log")}
    # When alice's fetch is retried until it gives up, with every event recorded
    with _EventRecorder() as recorder:
        response = alice_client.post("/api/adspark/fetch/", {"advertiser_ids": TESLA}, format="json")
        assert response.status_code == 202, response.content
        run_id = response.json()["id"]
        run = wait_for(
            lambda: FetchRun.objects.filter(pk=run_id, status="failed").first(),
            timeout=90,
            message="the run to fail",
        )
        wait_for(
            lambda: any(e.get("type") == "task-failed" for e in recorder.events),
            timeout=10,
            message="task-failed",
        )
    # Then the run's error says what happened, with the key masked
    assert "502" in run.error and "api_key=[redacted]" in run.error and secret not in run.error
    assert run.retries >= 1
    # and no worker log line, stored error, task result or event holds the key
    assert "api_key=[redacted]" in _log_text_since(logs)
    assert secret not in _log_text_since(logs)
    with connection.cursor() as cursor:
        for model in (FetchRun, WatchRun, WebhookDelivery, WebhookAttempt, AdVariant):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT count(*) FROM {table} WHERE error LIKE %s", [f"%{secret}%"])  # noqa: S608
            assert cursor.fetchone() == (0,), table
    results = list(_redis_values(settings.CELERY_RESULT_BACKEND))
    assert any(b"api_key=[redacted]" in value for value in results)
    assert not any(secret.encode() in value for value in results)
    retried = [e for e in recorder.events if e.get("type") in ("task-retried", "task-failed")]
    assert retried and "api_key=[redacted]" in repr(retried)
    assert secret not in repr(recorder.events)
