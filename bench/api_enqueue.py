"""Benchmark: ``POST /api/adspark/fetch/`` under gunicorn against a trivial endpoint on the same server.

Run: ``.venv/bin/python bench/api_enqueue.py [--clients 8] [--seconds 5] [--rounds 3] [--workers 3] [--publish]``

Starts gunicorn (``backend.wsgi``, sync workers as in docker-compose.yml, production settings:
DEBUG off) on a free port over the benchmark's own PostgreSQL database and Redis db, with one
extra URL, ``GET /bench/ping/`` (bench/_api_urls.py): token authentication, IsAuthenticated and
JSON rendering, nothing else. ``--clients`` threads, each with its own keep-alive session and
alice's token, then hit each endpoint for ``--seconds``, alternating for ``--rounds`` rounds so
both see the same machine load. Every enqueue is real: a FetchRun row and a
``fetch_creatives_task`` message on the ``data_fetch`` queue of the benchmark's Redis db (no
worker consumes it; the queue is deleted at the end). The fetch throttle is raised out of the way
(``ADSPARK_FETCH_THROTTLE``) but still runs.

Prints requests/s, p50 and p99 latency of each endpoint, the ratio and the load average.
Targets (issue 11): enqueue ≥ 50 % of the trivial endpoint's rate, enqueue p99 < 50 ms.

``--publish`` measures one part of the enqueue instead, with no server: the CPU of one
``apply_async`` of ``fetch_creatives_task`` (message + ``task-sent`` event) through kombu's own
Redis transport and through ``backend.brokers.RedisTransport`` (one reused client per channel),
alternating in rounds; it prints both, the ratio and the load.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import BACKEND_DIR, REPO_DIR, setup_django

DATABASE = "adspark_bench_api"
REDIS_DB = 9
TESLA = "AR17828074650563772417"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hammer(
    url: str, *, token: str, clients: int, seconds: float, method: str, body: dict | None
) -> tuple[list[float], int]:
    """``clients`` threads send requests for ``seconds``; return latencies (s) of good answers and the error count."""
    import requests

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    expected = 202 if method == "POST" else 200

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = session.request(method, url, json=body, timeout=30)
            elapsed = time.perf_counter() - started
            if response.status_code == expected:
                mine.append(elapsed)
            else:
                bad += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def publish_cost(rounds: int, per_round: int = 200) -> None:
    """Print the CPU (ms) of one ``apply_async`` with kombu's Redis transport and with ours."""
    from django.conf import settings
    from kombu import Connection

    from AdSpark.models import FetchRun
    from backend.celery import app

    signature = app.signature(FetchRun.TASK_NAME, kwargs={"fetch_run_id": 1})
    transports = {
        "kombu redis.Transport": "kombu.transport.redis:Transport",
        "backend.brokers.RedisTransport": "backend.brokers:RedisTransport",
    }
    producers = {
        name: app.amqp.Producer(
            Connection(settings.CELERY_BROKER_URL, transport=transport), auto_declare=False
        )
        for name, transport in transports.items()
    }
    costs: dict[str, list[float]] = {name: [] for name in producers}
    print(
        f"apply_async of {FetchRun.TASK_NAME}, {rounds} rounds × {per_round} per transport; load average {load()}"
    )
    for _ in range(rounds):
        for name, producer in producers.items():
            for _ in range(20):  # warm the connection
                signature.apply_async(producer=producer)
            started = time.process_time()
            for _ in range(per_round):
                signature.apply_async(producer=producer)
            costs[name].append((time.process_time() - started) / per_round * 1000)
    medians = {name: statistics.median(values) for name, values in costs.items()}
    for name, value in medians.items():
        print(f"{name:32}: {value:.3f} ms CPU per apply_async (median of {rounds} rounds)")
    stock, ours = medians.values()
    print(f"kombu / ours: {stock / ours:.2f}×; load average {load()}")
    for producer in producers.values():
        producer.connection.release()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default %(default)s)")
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="seconds per endpoint per round (default %(default)s)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default %(default)s)")
    parser.add_argument(
        "--workers",
        type=int,
        default=3,
        help="gunicorn sync workers (default %(default)s, as in docker-compose.yml)",
    )
    parser.add_argument(
        "--publish", action="store_true", help="measure apply_async with kombu's and our Redis transport only"
    )
    args = parser.parse_args()

    setup_django(DATABASE, redis_db=REDIS_DB)
    import redis
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from accounts.services import token_issue
    from AdSpark.models import FetchRun

    alice, _ = get_user_model().objects.get_or_create(username="bench-alice")
    token, _ = token_issue(user=alice)
    FetchRun.objects.filter(owner=alice).delete()
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("data_fetch")
    if args.publish:
        try:
            publish_cost(args.rounds * 4)
        finally:
            broker.delete("data_fetch")
        return 0

    port = free_port()
    env = dict(os.environ)
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-only-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",  # production sits behind a TLS proxy; this is plain HTTP
        ADSPARK_FETCH_THROTTLE="1000000/minute",
        PYTHONPATH=os.pathsep.join([str(BACKEND_DIR), str(REPO_DIR / "bench")]),
        DJANGO_SETTINGS_MODULE="_api_settings",  # the project's settings + /bench/ping/
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "backend.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=BACKEND_DIR,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import requests

        for _ in range(200):
            try:
                if (
                    requests.get(
                        f"{base}/bench/ping/", headers={"Authorization": f"Token {token}"}, timeout=1
                    ).status_code
                    == 200
                ):
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("gunicorn did not answer /bench/ping/ with 200 ")
        print(
            f"gunicorn {args.workers} sync workers, {args.clients} clients, {args.rounds} × {args.seconds:.0f} s per endpoint; "
            f"load average {load()}"
        )
        endpoints = {
            "trivial GET /bench/ping/": ("GET", f"{base}/bench/ping/", None),
            "enqueue POST /api/adspark/fetch/": (
                "POST",
                f"{base}/api/adspark/fetch/",
                {"advertiser_ids": TESLA, "region": "US"},
            ),
        }
        results: dict[str, tuple[list[float], int, float]] = {name: ([], 0, 0.0) for name in endpoints}
        # warm up each worker's connections (database, Redis, broker) outside the measurement
        for method, url, body in endpoints.values():
            hammer(url, token=token, clients=args.clients, seconds=1.0, method=method, body=body)
        for _ in range(args.rounds):
            for name, (method, url, body) in endpoints.items():
                started = time.perf_counter()
                latencies, errors = hammer(
                    url, token=token, clients=args.clients, seconds=args.seconds, method=method, body=body
                )
                elapsed = time.perf_counter() - started
                old = results[name]
                results[name] = (old[0] + latencies, old[1] + errors, old[2] + elapsed)
        rates = {}
        for name, (latencies, errors, elapsed) in results.items():
            rates[name] = len(latencies) / elapsed
            print(
                f"{name:34}: {rates[name]:7.0f} req/s, p50 {statistics.median(latencies) * 1000:6.1f} ms, "
                f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms, {len(latencies)} answered, {errors} errors"
            )
        trivial, enqueue = (rates[name] for name in endpoints)
        p99 = percentile(results["enqueue POST /api/adspark/fetch/"][0], 0.99) * 1000
        queued = broker.llen("data_fetch")
        stored = FetchRun.objects.filter(owner=alice).count()
        print(
            f"enqueue / trivial: {enqueue / trivial:.2f} (target ≥ 0.5: {'met' if enqueue / trivial >= 0.5 else 'NOT met'}); "
            f"enqueue p99 {p99:.1f} ms (target < 50 ms: {'met' if p99 < 50 else 'NOT met'})"
        )
        print(f"fetch runs stored {stored}, messages queued {queued}; load average {load()}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        broker.delete("data_fetch")
        FetchRun.objects.filter(owner=alice).delete()
    return 0


if __name__ == "__main__":
    sys.exit(main())
