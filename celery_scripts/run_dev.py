#!/usr/bin/env python3
"""``make dev``: the Procfile under honcho, a broker check that reads ``.env``, a warm Ctrl-C.

1. Broker: ``CELERY_BROKER_URL`` from the environment, else from ``.env`` (the settings' rule:
   real environment variables win), else ``redis://localhost:6379/0``. When nothing answers
   PING there and the host is this machine, ``redis-server`` is started on the URL's port
   (append-only file in ``var/redis``, ``noeviction``); a remote host that does not answer is
   an error (exit 2).
2. ``honcho -f Procfile.dev start`` runs in its own session, so Ctrl-C reaches this process only.
3. Ctrl-C or SIGTERM: first a warm shutdown of the Celery workers the Procfile names (``-n
   NAME@%h``): SIGTERM to each worker's main process, found through ``inspect stats``, so
   running tasks finish and nothing new is taken; wait for them (``--stop-timeout``, default
   120 s); then SIGTERM honcho, which stops web, beat, Flower and the file watchers. Without this
   honcho signals each process group, pool children included, and a running task dies with
   ``WorkerLostError`` (its message is redelivered, but the work is killed, not finished).

Exit code: 0 after Ctrl-C, else honcho's; 2 when the broker is unreachable and cannot be started here.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO_DIR = Path(__file__).resolve().parent.parent
BACKEND_DIR = REPO_DIR / "backend"
DEFAULT_BROKER = "redis://localhost:6379/0"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


def say(message: str) -> None:
    print(f"run_dev: {message}", file=sys.stderr, flush=True)


def broker_url(env_file: Path) -> str:
    """``CELERY_BROKER_URL`` from the environment, else ``env_file``, else the local default."""
    from dotenv import dotenv_values

    if os.environ.get("CELERY_BROKER_URL"):
        return os.environ["CELERY_BROKER_URL"]
    values = dotenv_values(env_file) if env_file.exists() else {}
    return values.get("CELERY_BROKER_URL") or DEFAULT_BROKER


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def ensure_redis(url: str) -> bool:
    """Make sure the broker at ``url`` answers; start a local redis-server on its port if not.

    Returns False (after saying why) when it cannot: a remote host, or no redis-server here.
    """
    if redis_answers(url):
        return True
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 6379
    if host not in LOCAL_HOSTS:
        say(f"the broker {host}:{port} (CELERY_BROKER_URL) does not answer; start it, or point the URL at this machine")
        return False
    if shutil.which("redis-server") is None:
        say(f"nothing answers on {host}:{port} and redis-server is not installed (apt install redis-server)")
        return False
    data_dir = REPO_DIR / "var" / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(data_dir), "--appendonly", "yes", "--maxmemory-policy", "noeviction",
    ]
    if parts.password:
        command += ["--requirepass", parts.password]
    subprocess.run(command, check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if redis_answers(url):
            say(f"started redis-server on 127.0.0.1:{port} (append-only file in {data_dir})")
            return True
        time.sleep(0.1)
    say(f"redis-server on port {port} did not answer within 10 s")
    return False


def worker_nodes(procfile: Path) -> list[str]:
    """Celery node names (``-n NAME@%h``, ``%h`` = this host) of the Procfile's workers."""
    host = socket.gethostname()
    names = re.findall(r"\s-n\s+(\S+)", procfile.read_text())
    return [name.replace("%h", host) for name in names]


def worker_pids(nodes: list[str], *, timeout: float = 2.0) -> dict[str, int]:
    """``{node: main process pid}`` of the running workers among ``nodes`` (``inspect stats``)."""
    if str(BACKEND_DIR) not in sys.path:
        sys.path.insert(0, str(BACKEND_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    try:
        from backend.celery import app

        stats = app.control.inspect(destination=nodes, timeout=timeout).stats() or {}
    except Exception as exc:  # broker gone: nothing to ask
        say(f"cannot ask the workers for their pids ({exc}); stopping without a warm shutdown")
        return {}
    return {node: int(info["pid"]) for node, info in stats.items() if info.get("pid")}


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped by its watchfiles) is gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):  # no /proc (macOS): kill(0) is all we know
        return True
    return state != "Z"


def warm_stop(nodes: list[str], *, timeout: float) -> None:
    """SIGTERM each worker's main process (Celery's warm shutdown) and wait up to ``timeout`` s."""
    pids = worker_pids(nodes)
    for node, pid in pids.items():
        say(f"warm shutdown of {node} (pid {pid}): running tasks finish first")
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [node for node, pid in pids.items() if alive(pid)]
    if left:
        say(f"still running after {timeout:.0f} s: {', '.join(left)}; stopping them anyway")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procfile", type=Path, default=REPO_DIR / "Procfile.dev")
    parser.add_argument("--env-file", type=Path, default=REPO_DIR / ".env", help="read by honcho and the broker check")
    parser.add_argument("--stop-timeout", type=float, default=120.0, metavar="S",
                        help="seconds to let the workers finish their tasks on Ctrl-C (default 120)")
    parser.add_argument("--only-broker", action="store_true", help="make sure the broker runs, then exit")
    args = parser.parse_args(argv)

    if not ensure_redis(broker_url(args.env_file)):
        return 2
    if args.only_broker:
        return 0
    honcho = Path(sys.executable).parent / "honcho"
    command = [str(honcho), "-f", str(args.procfile), "-d", str(REPO_DIR), "start"]
    if args.env_file.exists():
        command[3:3] = ["-e", str(args.env_file)]
    process = subprocess.Popen(command, cwd=REPO_DIR, start_new_session=True)
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        say(f"{signal.Signals(signum).name}: stopping the workers first, then everything else")
        warm_stop(worker_nodes(args.procfile), timeout=args.stop_timeout)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = process.wait()
    # honcho answers the SIGTERM we sent with 128 + 15: a stop asked for is a clean exit.
    return 0 if stopping and code in (0, 130, 143, -signal.SIGTERM) else code


if __name__ == "__main__":
    sys.exit(main())
