"""A Redis restart while a worker holds an unacked ETA message (issue 15 #15).

Celery 5.7.0's consumer collects the broken connection and then closes it; the close restores
the unacked messages through a transport whose client the collect already dropped, and the
worker dies with ``AttributeError: 'NoneType' object has no attribute 'hostname'`` (kombu's
``restore_unacked``). The close came with celery commit feb789a (GH-9705, not in 5.6.x); with
the pinned celery 5.6.3 the worker survives, reconnects, and runs the held task once kombu gives
the message back after the visibility timeout.
Real processes: a private redis-server (append-only file) restarted on its own port, a prefork
worker sized like the default queue's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis

from backend.celery import app
from core.tasks import probe_task
from tests.conftest import WorkerProcess, wait_for
from tests.ops.ops_support import RedisServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNTDOWN = 15  # seconds: long enough to restart Redis while the worker holds the message
# Seconds before Redis gives an unacked message back (production: 2 h). The worker drops the
# requests it held when its connection broke (their delivery tags died with the channel), so
# the held message runs again once kombu restores it from the unacked hash.
VISIBILITY_TIMEOUT = 20


def _log_since(path: Path, offset: int) -> str:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")


@pytest.mark.django_db(transaction=True)
def test_it_survives_a_redis_restart_while_holding_an_eta_task_and_runs_it(ops_env, private_redis):
    # given a default worker (prefork, 2 processes) on a private Redis
    broker, results = f"{private_redis.url}/0", f"{private_redis.url}/1"
    env = {
        **ops_env,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": results,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    worker = WorkerProcess(queues="default", env=env, concurrency=2, pool="prefork", name="eta-restart")
    offset = worker.log_path.stat().st_size if worker.log_path.exists() else 0
    from tests.ops.test_crash_safety import _start_without_ping

    _start_without_ping(worker)
    client = redis.Redis.from_url(broker)
    try:
        # and a probe with a countdown, which the worker reserves and holds unacked
        with app.connection_for_write(broker) as connection:
            sent = probe_task.apply_async(queue="default", countdown=COUNTDOWN, connection=connection)
        wait_for(
            lambda: client.hlen("unacked") == 1 and client.llen("default") == 0,
            timeout=30,
            message="the worker to hold the ETA message unacked",
        )
        held = json.loads(client.hvals("unacked")[0])[0]["headers"]["id"]
        assert held == sent.id

        # when Redis is stopped and started again on the same port (its append-only file kept)
        private_redis.stop()
        time.sleep(3)
        private_redis.process = RedisServer(private_redis.workdir, port=private_redis.port).start().process
        print(f"injected: redis-server on {private_redis.port} restarted while {sent.id} was held (ETA)")

        # then the worker is still there, and the task runs (once the message is given back)
        def ran() -> bool:
            if worker.process is not None and worker.process.poll() is not None:
                tail = _log_since(worker.log_path, offset)[-1500:]
                pytest.fail(f"the worker died (exit {worker.process.returncode}) after the restart:\n{tail}")
            return f"Task core.tasks.probe_task[{sent.id}] succeeded" in _log_since(worker.log_path, offset)

        wait_for(
            ran,
            timeout=VISIBILITY_TIMEOUT + 90,
            interval=0.5,
            message="the held ETA task to succeed after the restart",
        )
        log = _log_since(worker.log_path, offset)
        assert worker.process is not None and worker.process.poll() is None, "the worker died"
        assert "AttributeError" not in log
        assert log.count(f"Task core.tasks.probe_task[{sent.id}] succeeded") == 1
        wait_for(lambda: client.hlen("unacked") == 0, timeout=30, message="the message to be acked")
        print("found: the worker survived, the ETA task ran once, nothing left unacked")
    finally:
        worker.stop(timeout=20)
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()
