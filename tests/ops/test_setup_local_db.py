"""setup_local_db.sh against the machine's PostgreSQL, with a throwaway database and role."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import REPO_DIR

pytestmark = pytest.mark.integration

PSQL = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-X", "-tA"]


def psql(sql: str, database: str = "postgres") -> str:
    return subprocess.run(
        [*PSQL, "-d", database, "-c", sql], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def throwaway() -> Iterator[str]:
    name = f"adspark_ops_setup_{uuid.uuid4().hex[:8]}"
    yield name
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'DROP ROLE IF EXISTS "{name}"')


def run_setup(*args: str, env_file) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(REPO_DIR / "setup_local_db.sh"), *args, "--env-file", str(env_file)],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(
        f"$ setup_local_db.sh {' '.join(args)} -> exit {result.returncode}\n{result.stdout[-1500:]}{result.stderr[-1500:]}"
    )
    return result


def test_it_creates_the_role_and_database_writes_env_and_migrates(throwaway, tmp_path):
    # given an env file with other settings and an old DATABASE_URL
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=true\nDATABASE_URL=sqlite:///old.db\nLOG_LEVEL=warning\n")

    # when the set-up runs twice (it is idempotent)
    first = run_setup("--db", throwaway, "--user", throwaway, env_file=env_file)
    second = run_setup("--db", throwaway, "--user", throwaway, env_file=env_file)

    # then
    assert first.returncode == 0 and second.returncode == 0
    assert f"database {throwaway} created" in first.stdout and f"database {throwaway} exists" in second.stdout
    lines = env_file.read_text().splitlines()
    assert lines == [
        "DJANGO_DEBUG=true",
        "LOG_LEVEL=warning",
        f"DATABASE_URL=postgres://{throwaway}@127.0.0.1:5432/{throwaway}",
    ]
    owner = psql(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{throwaway}'")  # noqa: S608 - our own name
    assert owner == throwaway
    migrations = int(psql("SELECT count(*) FROM django_migrations", database=throwaway))
    assert migrations > 10
    periodic = psql("SELECT count(*) FROM django_celery_beat_periodictask", database=throwaway)
    print(f"found: {migrations} migrations applied, {periodic} periodic tasks")
    if "does not exist yet" not in first.stdout:
        assert int(periodic) >= 1


def test_it_refuses_bad_names_and_explains_itself(tmp_path):
    assert run_setup("--db", "x; drop", env_file=tmp_path / ".env").returncode == 2
    help_text = run_setup("--help", env_file=tmp_path / ".env")
    assert help_text.returncode == 0 and help_text.stdout.startswith("Usage: ")
