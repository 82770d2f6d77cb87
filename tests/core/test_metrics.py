"""``/metrics`` and the workers' metrics ports, scraped from the real stack.

Real Redis and PostgreSQL; real ``celery -A backend worker`` processes (prefork, in
Prometheus multiprocess mode) and a real gunicorn; the local SerpApi server for fetches.
"""

from __future__ import annotations

import base64
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from backend.celery import app
from core.heartbeat import HEARTBEAT_KEY
from tests.conftest import BACKEND_DIR, TESLA, WorkerProcess, wait_for, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LOGIN = "ops:s3cret-scrape"
BASIC = "Basic " + base64.b64encode(LOGIN.encode()).decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of a Prometheus text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scrape: dict, name: str, **labels: str) -> float | None:
    return scrape.get((name, tuple(sorted(labels.items()))))


def scrape_web(client: Client) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION=BASIC, HTTP_HOST="localhost")
    assert response.status_code == 200, response.content[:300]
    return samples(response.content.decode())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, authorization: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": authorization} if authorization else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def metrics_login():
    with override_settings(METRICS_BASIC_AUTH=LOGIN, METRICS_TOKEN=""):
        yield


@pytest.fixture
def maintenance_worker(tmp_path: Path, serpapi_server):
    """Factory: a prefork worker on the ``maintenance`` queue (no session worker consumes it)
    with its own multiprocess directory and metrics port; every pool child is replaced after
    one task, so the figures must survive dead children."""
    started: list[WorkerProcess] = []

    def start(port: int) -> WorkerProcess:
        env = worker_env(
            serpapi_server.url,
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus-worker"),
            CELERY_METRICS_PORT=str(port),
            METRICS_BASIC_AUTH=LOGIN,
            CELERY_WORKER_MAX_TASKS_PER_CHILD="1",
        )
        worker = WorkerProcess(queues="maintenance", env=env, concurrency=2, pool="prefork", name="metrics")
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def test_it_shows_the_queue_filling_and_draining_and_the_worker_counting_each_task(  # type: ignore[no-untyped-def]
    metrics_login, maintenance_worker
) -> None:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(
        "maintenance", *(f"maintenance\x06\x16{step}" for step in (3, 6, 9))
    )
    client = Client()
    # Given six probes waiting on the maintenance queue and nobody consuming it, and a seventh
    # whose `expires` passes while it waits
    results = [app.send_task("core.tasks.probe_task", queue="maintenance") for _ in range(6)]
    app.send_task("core.tasks.probe_task", queue="maintenance", expires=1)
    time.sleep(1.2)
    waiting = scrape_web(client)
    assert value(waiting, "adspark_queue_depth", queue="maintenance") == 7
    assert value(waiting, "adspark_queue_oldest_message_age_seconds", queue="maintenance") >= 1.0
    assert value(waiting, "adspark_queue_consumers", queue="maintenance") == 0
    print("waiting:", {k[0]: v for k, v in waiting.items() if ("queue", "maintenance") in k[1]})

    # When a prefork worker (children recycled after every task) starts and drains it
    port = free_port()
    worker = maintenance_worker(port)
    for result in results:
        result.get(timeout=60)

    # Then /metrics shows the queue empty and consumed
    wait_for(lambda: value(scrape_web(client), "adspark_queue_depth", queue="maintenance") == 0, timeout=10)
    drained = scrape_web(client)
    assert value(drained, "adspark_queue_oldest_message_age_seconds", queue="maintenance") == 0
    # (the consumers figure is cached for a few seconds: inspect() is a broadcast)
    wait_for(
        lambda: value(scrape_web(client), "adspark_queue_consumers", queue="maintenance") == 1, timeout=15
    )
    # and the worker's own port, behind the same login, sums the six dead children's counts
    url = f"http://127.0.0.1:{port}/metrics"
    assert http_get(url)[0] == 401
    assert http_get(url, "Basic " + base64.b64encode(b"ops:wrong").decode())[0] == 401
    status, text = http_get(url, BASIC)
    assert status == 200
    counted = samples(text)
    labels = {"task": "core.tasks.probe_task", "queue": "maintenance"}
    assert value(counted, "adspark_celery_tasks_total", state="success", **labels) == 6
    assert value(counted, "adspark_celery_task_runtime_seconds_count", **labels) == 6
    assert value(counted, "adspark_celery_tasks_total", state="expired", **labels) == 1
    # and the children that ran them are gone: their live gauges are removed (mark_process_dead)
    assert value(counted, "adspark_celery_tasks_active", queue="maintenance") in (None, 0)
    pids = {path.name for path in Path(worker.env["PROMETHEUS_MULTIPROC_DIR"]).glob("counter_*.db")}
    assert len(pids) >= 6, pids  # one file per pool child that ran a task
    print("worker:", {k: v for k, v in counted.items() if k[0].startswith("adspark_celery")})


def test_it_counts_fetch_runs_and_spent_searches_when_a_fetch_runs(  # type: ignore[no-untyped-def]
    metrics_login, alice_client, serpapi, celery_worker
) -> None:
    client = Client()
    before = scrape_web(client)
    succeeded = value(before, "adspark_jobs", job="AdSpark.FetchRun", status="succeeded")
    used = value(before, "adspark_serpapi_budget_used")
    # When alice fetches Tesla's creatives through the queue (4 pages of 10)
    response = alice_client.post(
        "/api/adspark/fetch/",
        {"advertiser_ids": TESLA, "region": "2840", "num": 10, "max_pages": 10},
        format="json",
    )
    assert response.status_code == 202
    wait_for(
        lambda: (
            value(scrape_web(client), "adspark_jobs", job="AdSpark.FetchRun", status="succeeded")
            == succeeded + 1
        ),
        timeout=60,
        message="the fetch run to show as succeeded",
    )
    after = scrape_web(client)
    # Then the budget shows the four searches spent, cluster-wide
    assert value(after, "adspark_serpapi_budget_used") == used + 4
    assert value(after, "adspark_serpapi_budget_remaining") == settings.SERPAPI_RATE_LIMIT_PER_HOUR - used - 4
    assert value(after, "adspark_jobs", job="AdSpark.FetchRun", status="running") == 0
    assert value(after, "adspark_collector_up", collector="jobs") == 1


def test_it_records_beats_heartbeat_with_the_time_beat_sent_it(metrics_login, maintenance_worker) -> None:  # type: ignore[no-untyped-def]
    shared = redis.Redis.from_url(settings.REDIS_URL)
    shared.delete(HEARTBEAT_KEY)
    client = Client()
    assert value(scrape_web(client), "adspark_beat_last_heartbeat_timestamp_seconds") is None
    # When a heartbeat tick is sent (as beat does every minute), waits two seconds for a
    # worker, and runs
    sent = time.time()
    result = app.send_task("core.tasks.beat_heartbeat_task", queue="maintenance")
    time.sleep(2)
    maintenance_worker(free_port())
    beat = result.get(timeout=30)
    # Then the key holds the publish time of the tick (the adspark_sent_at header), not the run
    assert sent <= beat["sent_at"] < sent + 1
    assert beat["ran_at"] - beat["sent_at"] >= 2
    scrape = scrape_web(client)
    assert value(scrape, "adspark_beat_last_heartbeat_timestamp_seconds") == pytest.approx(beat["sent_at"])
    assert 0 <= value(scrape, "adspark_beat_heartbeat_age_seconds") < 30


def test_it_refuses_scrapes_without_the_configured_login_and_is_off_in_production() -> None:
    client = Client()
    with override_settings(METRICS_BASIC_AUTH=LOGIN, METRICS_TOKEN="tok-123"):
        anonymous = client.get("/metrics", HTTP_HOST="localhost")
        assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Basic")
        assert (
            client.get("/metrics", HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
        )
        assert client.get("/metrics", HTTP_HOST="localhost", HTTP_AUTHORIZATION="Basic !!").status_code == 401
        assert (
            client.get("/metrics", HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer tok-123").status_code
            == 200
        )
        assert client.get("/metrics", HTTP_HOST="localhost", HTTP_AUTHORIZATION=BASIC).status_code == 200
    with override_settings(METRICS_BASIC_AUTH="", METRICS_TOKEN="", DEBUG=False):
        assert client.get("/metrics", HTTP_HOST="localhost").status_code == 404
    with override_settings(METRICS_BASIC_AUTH="", METRICS_TOKEN="", DEBUG=True):
        assert client.get("/metrics", HTTP_HOST="localhost").status_code == 200


def test_it_answers_scrapes_addressed_to_a_pod_ip_that_allowed_hosts_cannot_list(metrics_login) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    scrape = client.get("/metrics", HTTP_HOST="10.42.0.17:8000", HTTP_AUTHORIZATION=BASIC)
    assert scrape.status_code == 200 and b"adspark_queue_depth" in scrape.content
    assert client.get("/metrics", HTTP_HOST="10.42.0.17:8000").status_code == 401
    assert client.get("/api/health/", HTTP_HOST="10.42.0.17:8000").status_code == 400  # the check still holds


def test_it_keeps_answering_when_the_broker_is_down(metrics_login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Given a broker URL nobody listens on (Celery reads CELERY_BROKER_READ_URL from the environment)
    monkeypatch.setenv("CELERY_BROKER_READ_URL", f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    scrape = scrape_web(Client())
    assert time.monotonic() - started < 5
    # Then the queue figures are left out and say why, the rest still answer
    assert value(scrape, "adspark_collector_up", collector="queues") == 0
    assert value(scrape, "adspark_collector_up", collector="jobs") == 1
    assert value(scrape, "adspark_queue_depth", queue="default") is None


def test_it_sums_gunicorn_workers_in_multiprocess_mode(tmp_path: Path, serpapi_server) -> None:  # type: ignore[no-untyped-def]
    # Given gunicorn with two workers sharing one multiprocess directory (stale files from an
    # earlier run in it, which on_starting must remove)
    directory = tmp_path / "prometheus-web"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"stale")
    port = free_port()
    env = worker_env(serpapi_server.url, PROMETHEUS_MULTIPROC_DIR=str(directory), METRICS_BASIC_AUTH=LOGIN)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "backend.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        cwd=BACKEND_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(port), timeout=60, message="gunicorn to answer")
        assert not (directory / "counter_999999.db").exists()
        before = _health_requests(port)
        # When 20 requests are spread over both workers
        for _ in range(20):
            http_get(f"http://127.0.0.1:{port}/api/health/")
        # Then every scrape, whichever worker answers it, counts all of them
        assert [_health_requests(port) - before for _ in range(4)] == [20] * 4
        assert len(list(directory.glob("counter_*.db"))) >= 2  # both workers wrote
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _health_requests(port: int) -> float:
    status, text = http_get(f"http://127.0.0.1:{port}/metrics", BASIC)
    assert status == 200
    return sum(
        v
        for (name, labels), v in samples(text).items()
        if name == "django_http_responses_total_by_status_view_method_total" and ("view", "health") in labels
    )


def _answers(port: int) -> bool:
    try:
        return http_get(f"http://127.0.0.1:{port}/api/health/")[0] in (200, 503)
    except OSError:
        return False
