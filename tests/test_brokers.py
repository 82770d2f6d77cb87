"""Brokers past one box: ``sentinel://`` (Redis Sentinel) and ``rediss://`` (TLS) URLs.

The app's configuration is built from such URLs in a fresh process (backend/settings.py →
backend/brokers.py → the Celery app), then used against a real Redis Sentinel and a real Redis
with TLS (self-signed certificate made with ``openssl``): a task message goes through each.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured

from backend.brokers import celery_broker_options
from tests.conftest import BACKEND_DIR, REPO_DIR

PROBE = """
import json, os, sys
sys.path.insert(0, "backend")
os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings"
import django
django.setup()
from backend.celery import app
from core.health import check_redis, queue_depths
with app.connection_for_write() as conn:
    transport = type(conn.transport).__name__
    ssl_options = conn.ssl
app.send_task("core.tasks.probe_task", queue="maintenance")
print(json.dumps({
    "transport": transport,
    "master_name": app.conf.broker_transport_options.get("master_name"),
    "visibility_timeout": app.conf.broker_transport_options.get("visibility_timeout"),
    "broker_ssl": None if not ssl_options else {k: int(v) if k == "ssl_cert_reqs" else v for k, v in ssl_options.items()},
    "backend": type(app.backend).__name__,
    "redis": check_redis(),
    "depths": queue_depths(),
}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def run_probe(**env: str) -> dict:
    """Build the app from ``env`` in a fresh process, send one probe to ``maintenance``."""
    full = {"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "true", "DATABASE_URL": "", "HOME": "/tmp", **env}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_DIR, env=full, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def redis_master(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_port(port)
    yield port
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sentinel(tmp_path: Path, redis_master: int) -> Iterator[int]:
    port = free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\nsentinel monitor adspark-test 127.0.0.1 {redis_master} 1\n"
    )
    process = subprocess.Popen(["redis-server", str(config), "--sentinel"], stdout=subprocess.DEVNULL)
    wait_port(port)
    yield port
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A Redis that speaks only TLS, with a self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificate")
    cert, key = tmp_path / "redis.crt", tmp_path / "redis.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(cert),
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_port(port)
    yield port, cert
    process.terminate()
    process.wait(timeout=10)


def test_it_finds_the_master_through_sentinel_and_queues_there(redis_master: int, sentinel: int) -> None:
    # Given CELERY_BROKER_URL naming the sentinel and the master's name (a dead sentinel in the
    # list also works, after kombu's connection retries: seconds per connection)
    url = f"sentinel://127.0.0.1:{sentinel}/0"
    # When the app is built from it and sends a probe
    report = run_probe(
        CELERY_BROKER_URL=url,
        CELERY_RESULT_BACKEND=url.replace("/0", "/1"),
        REDIS_URL=f"redis://127.0.0.1:{redis_master}/2",
        CELERY_SENTINEL_MASTER_NAME="adspark-test",
    )
    # Then kombu's Sentinel transport is used, with the master name and our visibility timeout
    assert report["transport"] == "SentinelTransport"
    assert report["master_name"] == "adspark-test"
    assert report["visibility_timeout"] == 7200
    assert report["backend"] == "SentinelBackend"
    # and the message landed on the master, which the health probes read through Sentinel too
    assert report["redis"]["ok"] is True
    assert report["depths"]["maintenance"] == 1
    assert redis.Redis(host="127.0.0.1", port=redis_master, db=0).llen("maintenance") == 1


def test_it_talks_tls_to_a_rediss_broker_and_checks_the_certificate(tls_redis: tuple[int, Path]) -> None:
    port, cert = tls_redis
    base = f"rediss://127.0.0.1:{port}"
    # When the app is built from rediss:// URLs with the server's CA
    report = run_probe(
        CELERY_BROKER_URL=f"{base}/0",
        CELERY_RESULT_BACKEND=f"{base}/1",
        REDIS_URL=f"{base}/2?ssl_ca_certs={cert}",
        CELERY_REDIS_SSL_CA_CERTS=str(cert),
    )
    # Then the broker connection is TLS with certificate checks, and the probe is queued
    assert report["broker_ssl"] == {"ssl_cert_reqs": int(ssl.CERT_REQUIRED), "ssl_ca_certs": str(cert)}
    assert report["backend"] == "RedisBackend"
    assert report["redis"]["ok"] is True, report["redis"]
    assert report["depths"]["maintenance"] == 1
    client = redis.Redis(
        host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=str(cert), ssl_cert_reqs="required"
    )
    assert client.llen("maintenance") == 1


def test_it_refuses_a_rediss_broker_whose_certificate_it_cannot_check(tls_redis: tuple[int, Path]) -> None:
    port, _cert = tls_redis
    # Given no CA for the self-signed certificate: the probe must fail, not talk in the clear
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, 'backend'); import os; "
            "os.environ['DJANGO_SETTINGS_MODULE']='backend.settings'; import django; django.setup(); "
            "from core.health import check_redis; r = check_redis(); print(r); sys.exit(0 if not r['ok'] else 1)",
        ],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_DEBUG": "true",
            "HOME": "/tmp",
            "CELERY_BROKER_URL": f"rediss://127.0.0.1:{port}/0",
            "CELERY_RESULT_BACKEND": f"rediss://127.0.0.1:{port}/1",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr[-1000:]
    assert "certificate verify failed" in result.stdout.lower()


def test_it_builds_options_for_each_scheme_and_refuses_others() -> None:
    options = celery_broker_options(
        broker_url="sentinel://:pw@s1:26379/0;sentinel://:pw@s2:26379/0",
        result_backend="rediss://r:6380/1",
        broker_transport_options={"visibility_timeout": 7200},
        result_backend_transport_options={"retry_policy": {"timeout": 5.0}},
        master_name="adspark",
        sentinel_password="sentinel-secret",
        ssl_cert_reqs="optional",
    )
    assert options["broker_transport_options"] == {
        "visibility_timeout": 7200,
        "master_name": "adspark",
        "sentinel_kwargs": {"password": "sentinel-secret"},
    }
    assert options["broker_use_ssl"] is None
    assert options["redis_backend_use_ssl"] == {"ssl_cert_reqs": ssl.CERT_OPTIONAL}
    assert options["result_backend_transport_options"] == {"retry_policy": {"timeout": 5.0}}
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_URL must be"):
        celery_broker_options(
            broker_url="amqp://guest@rabbit//",
            result_backend="redis://r/1",
            broker_transport_options={},
            result_backend_transport_options={},
        )
    assert BACKEND_DIR.exists()


def test_publishes_reuse_one_redis_client_per_channel(settings: Any) -> None:
    """kombu builds a ``redis.Redis`` per command; our channel keeps one, and a new pool
    (after a fork or a connection error) gets a new client. Messages still arrive, and the
    connection's URL keeps its ``redis://`` scheme (Flower reads it back)."""
    from kombu import Connection, Queue

    from backend.brokers import RedisChannel, RedisTransport, SentinelTransport
    from backend.celery import app

    url = settings.CELERY_BROKER_URL
    queue = Queue(f"test-reused-client-{time.time_ns()}")
    assert type(Connection("sentinel://127.0.0.1:26379/0").transport) is SentinelTransport
    assert type(Connection("rediss://127.0.0.1:6380/0").transport) is RedisTransport
    with app.connection_for_write() as celery_conn:
        assert type(celery_conn.transport) is RedisTransport
        assert celery_conn.as_uri().startswith("redis://")
    with Connection(url) as conn:
        channel = conn.default_channel
        assert isinstance(channel, RedisChannel)
        producer = conn.Producer(channel)
        producer.publish({"n": 0}, routing_key=queue.name, declare=[queue])
        first = channel._create_client()
        for n in range(1, 4):
            producer.publish({"n": n}, routing_key=queue.name)
        assert channel._create_client() is first
        assert channel._create_client(asynchronous=True) is not first
        channel._disconnect_pools()  # what kombu does after a fork or on connection errors
        replaced = channel._create_client()
        assert replaced is not first and replaced.connection_pool is channel.pool
        producer.publish({"n": 4}, routing_key=queue.name)
        received = []
        with conn.SimpleQueue(queue) as simple:
            for _ in range(5):
                message = simple.get(timeout=5)
                received.append(message.payload["n"])
                message.ack()
        assert sorted(received) == [0, 1, 2, 3, 4]
        queue(channel).delete()
