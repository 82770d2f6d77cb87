"""The seed's environment variables are honoured or refused loudly, never ignored (issue 15 #10)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backend.celery import app
from tests.conftest import BACKEND_DIR, wait_for

pytestmark = [pytest.mark.integration]

SHOW_CONF = (
    "import django; django.setup(); from backend.celery import app; "
    "print(app.conf.worker_prefetch_multiplier, app.conf.task_acks_late)"
)


def _settings_with(ops_env: dict[str, str], **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**ops_env, "DJANGO_SETTINGS_MODULE": "backend.settings", **extra}
    return subprocess.run(
        [sys.executable, "-c", SHOW_CONF],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_honours_the_prefetch_multiplier_in_a_real_worker(start_worker, ops_env):
    # given the seed's CELERY_WORKER_PREFETCH_MULTIPLIER=4
    env = {**ops_env, "CELERY_WORKER_PREFETCH_MULTIPLIER": "4"}

    # when a worker (concurrency 1) starts with it
    worker = start_worker(queues="maintenance", name="ops-prefetch", env=env)
    node = worker.name.replace("%h", __import__("socket").gethostname())
    stats = wait_for(
        lambda: (app.control.inspect(destination=[node], timeout=2).stats() or {}).get(node),
        timeout=30,
        message="the worker's stats",
    )

    # then it reserves 4 messages, not 1; and the default stays 1
    assert stats["prefetch_count"] == 4
    assert _settings_with(ops_env).stdout.split() == ["1", "True"]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"CELERY_TASK_ACKS_LATE": "false"}, "CELERY_TASK_ACKS_LATE=false is refused"),
        ({"DB_HOST": "db.example"}, "DB_HOST is not read by AdSpark: DATABASE_URL wins"),
        ({"DB_NAME": "x", "DB_USER": "y"}, "DB_NAME, DB_USER are not read by AdSpark: DATABASE_URL wins"),
        ({"DEBUG": "false"}, "DEBUG='false' is not read by AdSpark: DJANGO_DEBUG wins"),
    ],
)
def test_it_refuses_seed_variables_it_would_otherwise_ignore(variables, named, ops_env):
    result = _settings_with(ops_env, DJANGO_DEBUG="true", **variables)
    assert result.returncode != 0
    assert named in result.stderr


def test_it_accepts_the_seed_values_that_match_its_own(ops_env):
    result = _settings_with(ops_env, DJANGO_DEBUG="true", CELERY_TASK_ACKS_LATE="true", DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True"]
