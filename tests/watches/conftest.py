"""Fixtures for the watch tests: watches, recordings, a webhook receiver and a beat process."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import factory
import pytest
from django.utils import timezone

from AdSpark.models import Watch
from tests.conftest import BACKEND_DIR, REPO_DIR, SHARED_RESPONSES, TESLA
from tests.factories import UserFactory

TESLA_RECORDING = "peer_tesla_p1"


class WatchFactory(factory.django.DjangoModelFactory):
    """A due, active watch on Tesla's US creatives (the peer_tesla_p1 recording)."""

    class Meta:
        model = Watch
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Tesla watch {n}")
    advertiser_ids = factory.LazyFunction(lambda: [TESLA])
    region = "2840"
    max_pages = 5
    interval_minutes = 60
    next_run_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=1))

    @factory.post_generation
    def fingerprint(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        from AdSpark.watches import watch_query

        self.query_fingerprint = watch_query(self).fingerprint()
        if create:
            Watch.objects.filter(pk=self.pk).update(query_fingerprint=self.query_fingerprint)


@pytest.fixture
def make_watch(db: None) -> Callable[..., Watch]:
    return WatchFactory


@pytest.fixture
def tesla_recording() -> dict[str, Any]:
    """The real Tesla answer (40 creatives), to be trimmed and re-registered by a test."""
    return json.loads((SHARED_RESPONSES / f"{TESLA_RECORDING}.json").read_text())


def with_creatives(recording: dict[str, Any], count: int) -> dict[str, Any]:
    """A copy of ``recording`` holding only its first ``count`` creatives."""
    data = copy.deepcopy(recording)
    data["ad_creatives"] = data["ad_creatives"][:count]
    return data


class WebhookReceiver:
    """A local HTTP receiver: answers each POST with the next status of ``statuses`` (then 200)
    and keeps ``requests`` as ``{"headers": {...}, "body": bytes}``."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/adspark"


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


class BeatProcess:
    """A real ``celery -A backend beat`` with django-celery-beat's DatabaseScheduler."""

    def __init__(self, env: dict[str, str]) -> None:
        self.log_path = REPO_DIR / "var" / "test-logs" / "beat-watches.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BeatProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "backend",
                "beat",
                "-l",
                "info",
                "-S",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--pidfile=",
                "--max-interval",
                "1",
            ],
            cwd=BACKEND_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def beat_process() -> Iterator[Callable[[dict[str, str]], BeatProcess]]:
    started: list[BeatProcess] = []

    def start(env: dict[str, str]) -> BeatProcess:
        beat = BeatProcess(env).start()
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.stop()


def recordings_dir(tmp_path: Path, recording: dict[str, Any]) -> Path:
    """A responses directory holding just ``recording`` (for a server in another process)."""
    directory = tmp_path / "responses"
    directory.mkdir(exist_ok=True)
    (directory / f"{TESLA_RECORDING}.json").write_text(json.dumps(recording))
    return directory
