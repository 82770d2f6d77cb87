"""Issue 14, item 19: production refuses placeholder secrets, serves HTTPS only (HSTS, SSL
redirect, the proxy's X-Forwarded-Proto), passes ``manage.py check --deploy`` without a single
warning, and the compose file publishes the API and Flower on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKEND_DIR, REPO_DIR
from tests.ops.test_compose import resolved

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what compose publishes on when opened; nothing binds here
PRINT_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
)


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production start: DEBUG off, real-looking secrets, no .env help."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ADSPARK_"))}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="adspark.example.com",
        PYTHONPATH=str(BACKEND_DIR),
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_serves_https_only_behind_the_proxy() -> None:
    result = manage("shell", "-c", PRINT_SETTINGS, env=production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "31536000",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
        "True",
    ]


@pytest.mark.parametrize(
    "name, value",
    [
        ("DJANGO_SECRET_KEY", "replace-me-with-a-long-random-string"),
        ("DATABASE_URL", "postgres://adspark:replace-me@postgres:5432/adspark"),
        ("CELERY_BROKER_URL", "redis://:replace-me@redis:6379/0"),
        ("REDIS_URL", "redis://:replace-me@redis:6379/2"),
        ("POSTGRES_PASSWORD", "replace-me"),
        ("REDIS_PASSWORD", "replace-me"),
        ("FLOWER_BASIC_AUTH", "admin:replace-me"),
        ("SERPAPI_API_KEY", "replace-me"),
    ],
)
def test_production_refuses_to_start_with_a_placeholder_secret(name: str, value: str) -> None:
    result = manage("check", env=production_env(**{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and name in result.stderr
    if value != "replace-me":
        assert value not in result.stderr  # the value itself is never printed


def test_production_refuses_a_placeholder_read_from_a_secret_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("replace-me-with-a-long-random-string\n")
    env = production_env(DJANGO_SECRET_KEY_FILE=str(secret_file))
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_the_env_example_placeholders_are_all_caught() -> None:
    # Every replace-me in .env.example names a variable that production refuses as it is.
    from backend.env import PLACEHOLDER_MARK

    lines = (REPO_DIR / ".env.example").read_text().splitlines()
    placeholders = {
        line.split("=", 1)[0]: line.split("=", 1)[1]
        for line in lines
        if "=" in line and not line.startswith("#") and PLACEHOLDER_MARK in line.split("=", 1)[1]
    }
    assert {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "FLOWER_BASIC_AUTH"} <= set(
        placeholders
    )
    result = manage("check", env=production_env(**placeholders))
    assert result.returncode != 0
    for name in placeholders:
        assert name in result.stderr, name


def test_debug_mode_still_starts_with_the_example_file_values() -> None:
    # A developer who copied .env.example and set DJANGO_DEBUG=true is not blocked.
    result = manage("check", env=production_env(DJANGO_DEBUG="true", SERPAPI_API_KEY="replace-me"))
    assert result.returncode == 0, result.stderr


def host_ips(services: dict, port: int, service: str) -> str:
    """The host address ``service`` publishes container ``port`` on (short or long syntax)."""
    (published,) = services[service]["ports"]
    if isinstance(published, dict):
        assert int(published["target"]) == port
        return str(published.get("host_ip", ALL_INTERFACES))
    host_ip, _host_port, target = str(published).split("/")[0].rsplit(":", 2)
    assert int(target) == port
    return host_ip


def test_compose_publishes_the_api_and_flower_on_loopback_by_default(tmp_path: Path) -> None:
    services = resolved(tmp_path, "docker-compose.yml")["services"]
    assert host_ips(services, 8000, "backend") == "127.0.0.1"
    assert host_ips(services, 5555, "flower") == "127.0.0.1"


def test_compose_opens_the_ports_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLISH_ADDRESS", ALL_INTERFACES)  # the shell's value wins over .env
    services = resolved(tmp_path, "docker-compose.yml")["services"]
    assert host_ips(services, 8000, "backend") == host_ips(services, 5555, "flower") == ALL_INTERFACES
