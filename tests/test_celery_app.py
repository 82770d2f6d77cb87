"""The Celery app: four queues, one routing table, reliability settings, the seed CLI commands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backend.celery import OUR_TASK_PREFIXES, QUEUES, TASKS, app, worker_pool_for
from tests.conftest import BACKEND_DIR


def _our_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if name.startswith(OUR_TASK_PREFIXES))


def test_it_routes_every_task_of_ours_to_one_of_the_four_queues() -> None:
    ours = _our_tasks()
    assert "AdSpark.tasks.fetch_creatives_task" in ours
    unrouted = [name for name in ours if name not in TASKS]
    assert unrouted == [], f"add these to TASKS in backend/celery.py: {unrouted}"
    for name in ours:
        route = app.amqp.router.route({}, name)
        assert route["queue"].name in QUEUES, name
        assert route["queue"].name == TASKS[name]["queue"]


def test_it_declares_the_four_queues_and_the_reliability_settings() -> None:
    conf = app.conf
    assert [q.name for q in conf.task_queues] == ["default", "data_fetch", "ai_generation", "maintenance"]
    assert conf.task_default_queue == "default"
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.worker_send_task_events and conf.task_send_sent_event
    longest = max(int(o.get("time_limit", 0)) for o in TASKS.values())
    assert conf.broker_transport_options["visibility_timeout"] > longest + 600  # + the retry cap
    assert conf.worker_max_tasks_per_child >= 1


def test_it_applies_the_per_task_limits_from_the_table() -> None:
    _our_tasks()
    fetch = app.tasks["AdSpark.tasks.fetch_creatives_task"]
    assert (fetch.soft_time_limit, fetch.time_limit, fetch.max_retries) == (900, 1200, 5)


def test_it_picks_the_threads_pool_on_windows() -> None:
    assert worker_pool_for("win32") == "threads"
    assert worker_pool_for("linux") == worker_pool_for("darwin") == "prefork"
    assert app.conf.worker_pool == worker_pool_for(sys.platform)


@pytest.mark.integration
def test_it_answers_the_seed_inspect_commands_from_backend(celery_worker) -> None:  # type: ignore[no-untyped-def]
    env = celery_worker.env
    ping = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "backend", "inspect", "ping", "-t", "5"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ping.returncode == 0 and "pong" in ping.stdout
    queues = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "backend", "inspect", "active_queues", "-t", "5"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert queues.returncode == 0
    assert "'name': 'data_fetch'" in queues.stdout and "'name': 'default'" in queues.stdout
