"""deploy/systemd/: one unit per worker, beat and Flower, verified and their ExecStart run."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BACKEND_DIR, REPO_DIR

UNITS_DIR = REPO_DIR / "deploy" / "systemd"
WORKERS = {"default": 2, "data_fetch": 2, "ai_generation": 1, "maintenance": 1}
INSTALL_DIR = "/opt/adspark"


def units() -> dict[str, configparser.ConfigParser]:
    parsed = {}
    for path in sorted(UNITS_DIR.glob("*.service")):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(path)
        parsed[path.name] = parser
    return parsed


def localized(tmp_path: Path) -> Path:
    """Copies of the units pointing at this checkout instead of /opt/adspark."""
    target = tmp_path / "units"
    target.mkdir()
    for path in UNITS_DIR.iterdir():
        text = path.read_text().replace(INSTALL_DIR, str(REPO_DIR)).replace("=adspark\n", "=root\n")
        (target / path.name).write_text(text)
    return target


def test_it_has_a_unit_per_worker_beat_and_flower_that_restarts_as_a_dedicated_user():
    found = units()
    expected = {f"adspark-celery-worker-{q.replace('_', '-')}.service" for q in WORKERS}
    expected |= {"adspark-celery-beat.service", "adspark-flower.service"}
    assert set(found) == expected
    for name, unit in found.items():
        service = unit["Service"]
        assert service["Restart"] == "always", name
        assert service["User"] == "adspark" and service["Group"] == "adspark", name
        assert (
            "--logfile=/var/log/adspark/" in service["ExecStart"]
            or "--log-file-prefix=/var/log/adspark/" in service["ExecStart"]
        )
        assert service["EnvironmentFile"] == f"{INSTALL_DIR}/.env"
    for queue, concurrency in WORKERS.items():
        argv = shlex.split(
            found[f"adspark-celery-worker-{queue.replace('_', '-')}.service"]["Service"]["ExecStart"]
        )
        assert argv[argv.index("-Q") + 1] == queue
        assert int(argv[argv.index("-c") + 1]) == concurrency
        assert argv[argv.index("-n") + 1] == f"{queue}@%%h"  # %% is systemd's escape for %
    assert "DatabaseScheduler" in found["adspark-celery-beat.service"]["Service"]["ExecStart"]


def test_it_passes_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is not installed: run `make setup` (as root) or apt-get install systemd")
    directory = localized(tmp_path)
    files = sorted(str(p) for p in directory.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *files], capture_output=True, text=True, cwd=directory
    )
    print("systemd-analyze verify:", result.returncode, result.stdout, result.stderr)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "adspark" in line]
    assert result.returncode == 0 and ours == []


@pytest.mark.parametrize("name", sorted(units()))
def test_it_starts_a_valid_celery_command_in_each_unit(name, tmp_path):
    # ExecStart with %% unescaped and the install dir pointed at this checkout; --help makes
    # Celery parse every option (an unknown one fails) without starting anything.
    exec_start = units()[name]["Service"]["ExecStart"].replace("%%", "%").replace(INSTALL_DIR, str(REPO_DIR))
    argv = shlex.split(exec_start)
    assert Path(argv[0]).exists(), argv[0]
    result = subprocess.run([*argv, "--help"], cwd=BACKEND_DIR, capture_output=True, text=True, timeout=120)
    print(name, "->", result.returncode, result.stderr[-500:])
    assert result.returncode == 0
    assert "Usage:" in result.stdout


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS_DIR / name)
    return parser


def test_it_starts_workers_everywhere_but_beat_and_flower_only_from_the_single_host_target():
    # given the two targets an operator enables
    workers = _unit("adspark-celery-workers.target")["Unit"]["Wants"].split()
    scheduler = _unit("adspark-celery-scheduler.target")["Unit"]["Wants"].split()

    # then enabling the workers target on every host starts no beat, and each unit belongs to one target
    assert sorted(workers) == sorted(f"adspark-celery-worker-{q.replace('_', '-')}.service" for q in WORKERS)
    assert sorted(scheduler) == ["adspark-celery-beat.service", "adspark-flower.service"]
    assert not (UNITS_DIR / "adspark-celery.target").exists()
    for name in workers:
        assert _unit(name)["Install"]["WantedBy"] == "adspark-celery-workers.target", name
        assert _unit(name)["Unit"]["PartOf"] == "adspark-celery-workers.target", name
    for name in scheduler:
        assert _unit(name)["Install"]["WantedBy"] == "adspark-celery-scheduler.target", name
    assert "ONE host" in _unit("adspark-celery-scheduler.target")["Unit"]["Description"]


def test_it_points_documentation_at_files_that_exist():
    for path in sorted(UNITS_DIR.iterdir()):
        documentation = _unit(path.name)["Unit"].get("Documentation", "")
        assert documentation, path.name
        for uri in documentation.split():
            assert uri.startswith(f"file://{INSTALL_DIR}/"), uri
            assert (REPO_DIR / uri.removeprefix(f"file://{INSTALL_DIR}/")).is_file(), (path.name, uri)


def test_it_starts_flower_with_the_projects_config():
    exec_start = _unit("adspark-flower.service")["Service"]["ExecStart"]
    assert "--conf=flowerconfig.py" in exec_start and "--address" not in exec_start
    assert _unit("adspark-flower.service")["Service"]["WorkingDirectory"] == f"{INSTALL_DIR}/backend"
