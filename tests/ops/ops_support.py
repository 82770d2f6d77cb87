"""Helpers of the operations tests: the monitor CLI runner, a private redis-server, ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from tests.conftest import REPO_DIR

ALL_QUEUES = "default,data_fetch,ai_generation,maintenance"
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The URL of the test database (pytest-django renamed it when it created it)."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]  # not a test, despite the name


def run_monitor_cli(
    args: list[str], env: dict[str, str], *, stdin: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """Run ``monitor_celery.py ARGS`` and print what it said (tests show what they found)."""
    result = subprocess.run(
        [PYTHON, str(REPO_DIR / "monitor_celery.py"), *args],
        env=env,
        cwd=REPO_DIR,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    print(f"$ monitor_celery.py {' '.join(args)} -> exit {result.returncode}")
    print(result.stdout[-4000:])
    if result.stderr.strip():
        print("stderr:", result.stderr[-2000:])
    return result


class RedisServer:
    """A private ``redis-server`` on its own port with the append-only file on."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> RedisServer:
        import redis

        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=open(self.workdir / "redis.log", "ab"),  # noqa: SIM115 - lives as long as the server
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid``'s children and ``pid`` (processes this test started)."""
    subprocess.run(["pkill", "-KILL", "-P", str(pid)], check=False)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
