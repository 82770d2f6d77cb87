"""Issue 15 #11: the PowerShell scripts log where the docs say, and no role password reaches a
psql command line (bash: run for real with a psql that records its arguments; PowerShell: read,
there is no pwsh here)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO_DIR

SCRIPTS = REPO_DIR / "celery_scripts"
PSQL = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-X", "-tA", "-d", "postgres", "-c"]


@pytest.mark.integration
def test_it_gives_the_role_password_to_psql_on_standard_input_only(tmp_path: Path):
    # given a psql on PATH that records its command line, then runs the real one
    real = shutil.which("psql")
    assert real, "psql is needed"
    shim_dir = tmp_path / "bin"
    shim_dir.mkdir()
    argv_log = tmp_path / "psql-argv.log"
    (shim_dir / "psql").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {argv_log}\nexec {real} "$@"\n')
    (shim_dir / "psql").chmod(0o755)
    name = f"adspark_ops_pw_{uuid.uuid4().hex[:8]}"
    password = "it's a \\ secret $HOME"
    env = {**os.environ, "PATH": f"{shim_dir}:{os.environ['PATH']}"}
    try:
        # when the set-up creates a role with a password
        result = subprocess.run(
            [
                str(REPO_DIR / "setup_local_db.sh"),
                "--db",
                name,
                "--user",
                name,
                "--password",
                password,
                "--no-migrate",
                "--env-file",
                str(tmp_path / ".env"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        print(result.stdout, result.stderr)

        # then it worked, the password is set, and no psql command line carried it
        assert result.returncode == 0
        stored = subprocess.run(
            [*PSQL, f"SELECT rolpassword FROM pg_authid WHERE rolname = '{name}'"],  # noqa: S608 - our own name
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert stored.startswith(("SCRAM-SHA-256$", "md5"))
        argv = argv_log.read_text()
        assert argv.count("\n") >= 3  # the shim saw the calls
        assert "secret" not in argv and "it''s" not in argv
    finally:
        subprocess.run([*PSQL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)
        subprocess.run([*PSQL, f'DROP ROLE IF EXISTS "{name}"'], capture_output=True)


def test_it_sends_sql_to_psql_on_standard_input_in_the_powershell_twin():
    script = (REPO_DIR / "setup_local_db.ps1").read_text()
    calls = re.findall(r"& psql[^\n]*", script)
    assert calls, "setup_local_db.ps1 calls psql"
    for call in calls:
        assert " -c " not in call and call.rstrip().endswith("-f -"), call
    assert re.search(r"\$Sql \| & psql", script)
    assert "PASSWORD '***'" in script  # what an error message shows instead of the password


def test_it_has_celery_write_the_log_the_powershell_docs_name():
    common = (SCRIPTS / "_common.ps1").read_text()
    start = common[common.index("function Start-Celery") :]
    # Celery's own log goes to var\log\NAME.log ...
    assert '$log = Join-Path $LogDir "$Name.log"' in start
    assert '"--logfile=$log"' in start and '"--log-file-prefix=$log"' in start
    # ... and neither console stream is redirected to the documented log or to *.log.err
    redirects = re.findall(r"-RedirectStandard(?:Output|Error) (\S+)", start)
    assert redirects == ["$console", '"$console.err"']
    for name in ("start_celery_workers.ps1", "start_celery_beat.ps1", "start_celery_flower.ps1"):
        text = (SCRIPTS / name).read_text()
        assert re.search(r"var\\log\\celery-[\w<>-]+\.log", text), name
        assert ".log.err" not in text, name
    assert "--conf=flowerconfig.py" in (SCRIPTS / "start_celery_flower.ps1").read_text()
