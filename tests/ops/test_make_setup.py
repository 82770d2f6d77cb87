"""`make setup` names the browser and tools it chose, or stops with the command to run."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from tests.conftest import REPO_DIR


def _venv_stamp() -> str:
    """The Makefile's stamp of an installed virtualenv (``$(STAMP)``)."""
    requirements = (REPO_DIR / "requirements.txt").read_bytes() + (
        REPO_DIR / "requirements-dev.txt"
    ).read_bytes()
    return f".venv/.installed-{hashlib.sha1(requirements).hexdigest()[:12]}"  # noqa: S324 - the Makefile's


def _make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # No download attempt: the tests must not depend on the network (core.toolchain's unit tests
    # cover that step). `-o STAMP`: the virtualenv is the one running this test; never reinstall it.
    full_env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", **env}
    full_env.pop("MAKEFLAGS", None)
    result = subprocess.run(
        ["make", "-s", "-o", _venv_stamp(), *args],
        cwd=REPO_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(f"$ make {' '.join(args)} -> exit {result.returncode}\n{result.stdout}{result.stderr}")
    return result


def _chosen(stdout: str) -> dict[str, str]:
    """``{"browser": "/path (source)", …}`` from make setup's one line per binary."""
    lines = [line.split(": ", 1) for line in stdout.splitlines() if ": " in line]
    return {
        name: rest for name, rest in lines if name in ("browser", "docker-compose", "systemd-analyze", "psql")
    }


def test_make_setup_names_the_browser_it_chose():
    result = _make("setup")
    assert result.returncode == 0, result.stderr
    chosen = _chosen(result.stdout)
    assert set(chosen) == {"browser"}
    path = chosen["browser"].split(" (", 1)[0]
    assert Path(path).exists() and chosen["browser"].endswith(")")


def test_make_setup_for_the_tests_also_provides_the_tools():
    result = _make("setup", "SETUP_FOR=test")
    assert result.returncode == 0, result.stderr
    chosen = _chosen(result.stdout)
    assert set(chosen) == {"browser", "docker-compose", "systemd-analyze", "psql"}
    for name in ("docker-compose", "systemd-analyze", "psql"):
        assert Path(chosen[name].split(" (", 1)[0]).name == name


def test_make_setup_with_a_wrong_chromium_path_stops_with_one_line(tmp_path: Path):
    result = _make("setup", CHROMIUM_PATH=str(tmp_path / "no-chromium"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"browser not found (CHROMIUM_PATH={tmp_path / 'no-chromium'} does not exist)" in result.stderr
