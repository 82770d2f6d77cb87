"""A newcomer's failures name what is missing and the fixing command, without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, ProgrammingError
from kombu.exceptions import OperationalError as BrokerError

from core.diagnostics import explain
from core.toolchain import ToolMissing
from tests.conftest import BACKEND_DIR
from tests.ops.ops_support import free_port

TESLA = "AR17828074650563772417"


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sqlite_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # Empty values, not absent ones: a developer's .env must not fill them in.
    env = {**os.environ, "DATABASE_URL": "", "SERPAPI_API_KEY": ""}
    env.update(DJANGO_DEBUG="true", SQLITE_PATH=str(tmp_path / "fresh.sqlite3"), **extra)
    return env


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (OperationalError("no such table: AdSpark_fetchrun"), "make migrate"),
        (ProgrammingError('relation "AdSpark_fetchrun" does not exist'), "make migrate"),
        (
            OperationalError('connection to server at "127.0.0.1", port 5433 failed: Connection refused'),
            "PostgreSQL",
        ),
        (BrokerError("Error 111 connecting to 127.0.0.1:6390. Connection refused."), "Redis at"),
        (ToolMissing("browser", "make setup"), "browser not found; run: make setup"),
    ],
)
def test_it_explains_setup_failures_in_one_line(exc, expected):
    hint = explain(exc)
    assert hint is not None and expected in hint and "\n" not in hint


def test_it_looks_through_the_causes():
    try:
        try:
            raise BrokerError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
        except BrokerError as inner:
            raise RuntimeError("enqueue failed") from inner
    except RuntimeError as outer:
        assert "CELERY_BROKER_URL" in (explain(outer) or "")


def test_a_bug_is_not_explained_away():
    assert explain(KeyError("results")) is None
    assert explain(OperationalError("database is locked")) is None


def test_ads_fetch_creatives_on_an_unmigrated_database_says_to_migrate(tmp_path):
    result = _manage(
        "ads_fetch_creatives", "--advertiser-ids", TESLA, "--region", "US", env=_sqlite_env(tmp_path)
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "CommandError: The database has no tables yet: run `make migrate` (or `cd backend && python manage.py migrate`)."
    )


def test_ads_fetch_creatives_without_redis_names_the_broker(tmp_path):
    port = free_port()
    env = _sqlite_env(tmp_path, SERPAPI_API_KEY="k", CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0")
    assert _manage("migrate", "-v", "0", env=env).returncode == 0
    result = _manage("ads_fetch_creatives", "--advertiser-ids", TESLA, "--region", "US", "--enqueue", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"Redis at 127.0.0.1:{port} (CELERY_BROKER_URL) is not reachable" in result.stderr


def test_ads_fetch_creatives_without_a_serpapi_key_says_where_to_put_it(tmp_path):
    env = _sqlite_env(tmp_path)
    assert _manage("migrate", "-v", "0", env=env).returncode == 0
    result = _manage("ads_fetch_creatives", "--advertiser-ids", TESLA, "--region", "US", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "SERPAPI_API_KEY is not set" in result.stderr


def test_the_demo_without_a_browser_names_the_command_and_starts_nothing(tmp_path):
    env = {**os.environ, "CHROMIUM_PATH": str(tmp_path / "no-chromium")}
    result = subprocess.run(
        [sys.executable, "-m", "local_services.demo"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output
    assert "Demo failed:" in output and "CHROMIUM_PATH" in output and "does not exist" in output
    assert "Migrating" not in output  # the check comes before anything is started


def test_the_demo_preflight_names_make_setup_when_no_browser_is_found(monkeypatch):
    from core import toolchain
    from local_services import demo

    monkeypatch.setattr(toolchain, "find_browser", lambda *a, **k: None)
    with pytest.raises(demo.DemoError, match="run `make setup`"):
        demo.preflight({"ai_agent"})


def test_the_demo_without_redis_names_the_package(monkeypatch):
    from contextlib import ExitStack

    from local_services import demo

    # Given no redis-server binary and nothing listening where the demo would fall back to
    monkeypatch.setattr(demo.shutil, "which", lambda name: None)
    monkeypatch.setenv("DEMO_REDIS_URL", f"redis://127.0.0.1:{free_port()}")
    with pytest.raises(demo.DemoError, match="apt-get install redis-server"):
        demo.start_redis(ExitStack(), processes=None)  # type: ignore[arg-type]  # nothing is started
