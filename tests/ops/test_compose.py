"""docker-compose.yml / docker-compose.dev.yml, the Dockerfile and .env.example.

No Docker engine runs here: Debian's ``docker-compose config`` validates and resolves both files
(anchors, interpolation, env_file), and the resolved services are checked against the worker
table of docs/architecture.md.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_DIR

# service -> (queue, concurrency, memory limit): docs/architecture.md "Queues and workers".
WORKERS = {
    "celery-worker-default": ("default", 2, "512m"),
    "celery-worker-data-fetch": ("data_fetch", 2, "1g"),
    "celery-worker-ai-generation": ("ai_generation", 1, "2g"),
    "celery-worker-maintenance": ("maintenance", 1, "512m"),
}
SERVICES = {"postgres", "redis", "migrate", "backend", "celery-beat", "flower", "frontend", *WORKERS}
# `docker compose --profile monitoring up` adds these (tests/ops/test_monitoring.py).
MONITORING = {"prometheus", "grafana"}


def resolved(tmp_path: Path, name: str) -> dict:
    """``docker-compose -f NAME config`` in a copy of the project whose .env is .env.example."""
    if shutil.which("docker-compose") is None:
        pytest.fail(
            "docker-compose is not installed: run `make setup` (as root) or apt-get install docker-compose"
        )
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    shutil.copy(REPO_DIR / name, project / name)
    shutil.copy(REPO_DIR / ".env.example", project / ".env")
    for build_context in ("backend", "frontend"):
        if not (project / build_context).exists():
            (project / build_context).symlink_to(REPO_DIR / build_context)
    result = subprocess.run(
        ["docker-compose", "-f", name, "config"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


@pytest.fixture
def production(tmp_path: Path) -> dict:
    return resolved(tmp_path, "docker-compose.yml")["services"]


@pytest.fixture
def development(tmp_path: Path) -> dict:
    return resolved(tmp_path, "docker-compose.dev.yml")["services"]


def test_it_defines_exactly_the_production_services(production):
    assert set(production) == SERVICES | MONITORING
    assert {name for name, spec in production.items() if spec.get("profiles")} == MONITORING
    print("services:", sorted(production))


@pytest.mark.parametrize("service", sorted(WORKERS))
def test_it_sizes_each_worker_as_the_design_table_says(production, service):
    queue, concurrency, memory = WORKERS[service]
    spec = production[service]
    command = shlex.split(spec["command"]) if isinstance(spec["command"], str) else spec["command"]

    assert command[:4] == ["celery", "-A", "backend", "worker"]
    assert option(command, "-Q") == queue
    assert int(option(command, "-c")) == concurrency
    assert option(command, "-n") == f"{queue}@%h"
    assert spec["mem_limit"] == memory
    health = " ".join(spec["healthcheck"]["test"])
    assert f"celery -A backend inspect ping -d {queue}@$$HOSTNAME" in health
    # `docker compose up --scale` needs replicas without fixed names or host ports.
    assert "container_name" not in spec
    assert "ports" not in spec
    print(f"{service}: -Q {queue} -c {concurrency} mem {memory} healthcheck ok")


def test_it_puts_chromium_only_in_the_ai_generation_image(production):
    assert production["celery-worker-ai-generation"]["build"]["target"] == "ai"
    assert (
        production["celery-worker-ai-generation"]["environment"]["CHROMIUM_PATH"]
        == "/usr/lib/chromium/chromium-headless-shell"
    )
    others = [
        name for name in production if "build" in production[name] and name != "celery-worker-ai-generation"
    ]
    assert {production[name]["build"]["target"] for name in others} == {"runtime"}


def test_it_keeps_the_broker_safe_and_the_data_stores_private(production):
    redis_command = " ".join(production["redis"]["command"])
    assert "--maxmemory-policy noeviction" in redis_command
    assert "--appendonly yes" in redis_command
    assert "--requirepass" in redis_command
    assert "allkeys-lru" not in redis_command
    assert "ports" not in production["postgres"]
    assert "ports" not in production["redis"]
    assert production["postgres"]["healthcheck"] and production["redis"]["healthcheck"]
    assert production["redis"]["volumes"] and production["postgres"]["volumes"]


def test_it_runs_gunicorn_one_beat_a_one_shot_migrate_and_flower_behind_auth(production):
    assert production["backend"]["command"].startswith("gunicorn backend.wsgi:application")
    assert "DatabaseScheduler" in production["celery-beat"]["command"]
    assert production["celery-beat"].get("deploy", {}).get("replicas", 1) == 1
    assert production["migrate"]["command"] == "python manage.py migrate --noinput"
    assert production["migrate"]["restart"] == "no"
    assert production["backend"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert production["flower"]["command"].startswith("celery -A backend flower")
    assert production["flower"]["environment"]["FLOWER_BASIC_AUTH"]


def test_it_defines_django_once_and_reuses_it(production):
    text = (REPO_DIR / "docker-compose.yml").read_text()
    assert text.count("&django ") + text.count("&django\n") == 1
    assert text.count("dockerfile: backend/Dockerfile") == 2  # the anchor and the ai override
    django_services = {"migrate", "backend", "celery-beat", "flower", *WORKERS}
    for name in django_services:
        env = production[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"].endswith("@redis:6379/0")


def test_it_reloads_code_and_publishes_ports_in_development(development):
    assert set(development) == SERVICES
    assert "runserver" in development["backend"]["command"]
    for service, (queue, _concurrency, memory) in WORKERS.items():
        command = development[service]["command"]
        assert command.startswith("watchfiles --filter python"), command
        assert f"-Q {queue} " in command
        assert development[service]["mem_limit"] == memory
        assert "container_name" not in development[service]
    for service in ("backend", "postgres", "redis", "flower"):
        assert development[service]["ports"], service
    assert development["backend"]["environment"]["DJANGO_DEBUG"] == "true"
    assert any(
        str(volume).endswith(":/app/backend:rw") or "/app/backend" in str(volume)
        for volume in development["backend"]["volumes"]
    )


def test_it_builds_a_multi_stage_non_root_image_with_chromium_and_fonts():
    dockerfile = (REPO_DIR / "backend" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)", dockerfile, flags=re.MULTILINE)
    assert stages == ["builder", "runtime", "ai"]
    assert re.search(r"^USER adspark$", dockerfile, flags=re.MULTILINE)
    assert dockerfile.rstrip().splitlines()[-1] == "USER adspark"
    ai_stage = dockerfile.split("AS ai", 1)[1]
    for package in ("chromium", "fonts-liberation", "fonts-noto-cjk", "fonts-noto-color-emoji"):
        assert package in ai_stage


def test_it_lists_every_variable_the_backend_reads_in_env_example():
    example = (REPO_DIR / ".env.example").read_text()
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    read = set()
    for path in (REPO_DIR / "backend").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"env_(?:str|int|bool|float|list|choice)\(\s*\"([A-Z][A-Z0-9_]+)\"", source))
    missing = sorted(read - listed)
    print(f"{len(read)} variables read by the backend; missing from .env.example: {missing}")
    assert not missing


def test_it_holds_no_real_secret_in_env_example():
    for line in (REPO_DIR / ".env.example").read_text().splitlines():
        name, _, value = line.partition("=")
        if line.startswith("#") or not value:
            continue
        if re.search(r"(KEY|PASSWORD|SECRET|AUTH)", name):
            assert "replace-me" in value, line
