"""core.toolchain finds the browser and tools, and obtains them in the documented order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import toolchain
from core.toolchain import DEBIAN_HEADLESS_SHELL, PLAYWRIGHT_INSTALL, System, ToolMissing
from tests.conftest import BACKEND_DIR

PW = "/home/u/.cache/ms-playwright"
PW_SHELL = f"{PW}/chromium_headless_shell-1255/chrome-linux/headless_shell"
PW_CHROME = f"{PW}/chromium-1255/chrome-linux/chrome"


class FakeMachine:
    """A machine with the given files and commands; records what was run.

    ``installs`` maps a command line's last word (an apt package, or "--only-shell" for
    Playwright's download) to the files that command creates when it succeeds.
    """

    def __init__(self, *, files=(), commands=None, root=True, distro=("debian",), installs=None, broken=()):
        self.files = set(files)
        self.commands = dict(commands or {})
        self.installs = installs or {}
        self.broken = set(broken)  # files that exist but do not run (`--version` fails)
        self.ran: list[list[str]] = []
        self.lines: list[str] = []
        self.system = System(
            environ={"PLAYWRIGHT_BROWSERS_PATH": PW, "PATH": "/usr/bin"},
            find_command=self.commands.get,
            run=self.run,
            exists=lambda path: path in self.files,
            glob=self.glob,
            euid=0 if root else 1000,
            os_release=frozenset(distro),
            log=self.lines.append,
        )

    def glob(self, pattern: str) -> list[str]:
        import fnmatch

        return [f for f in self.files if fnmatch.fnmatch(f, pattern)]

    def run(self, argv, timeout, env=None) -> bool:
        self.ran.append(list(argv))
        if argv[-1] == "--version":
            return argv[0] not in self.broken
        created = self.installs.get(argv[-1]) or self.installs.get(
            next((a for a in argv if a.startswith("chromium")), "")
        )
        if created is None:
            return False
        for name, path in created.items():
            self.files.add(path)
            if name:
                self.commands[name] = path
        return True

    def ran_apt(self) -> list[str]:
        return [" ".join(argv[5:]) for argv in self.ran if "apt-get" in argv[0] and "install" in argv]


# -- finding -------------------------------------------------------------------------------


def test_it_prefers_playwrights_headless_shell():
    machine = FakeMachine(
        files={PW_SHELL, PW_CHROME, DEBIAN_HEADLESS_SHELL},
        commands={"chromium-headless-shell": "/usr/bin/chromium-headless-shell"},
    )
    found = toolchain.find_browser(machine.system)
    assert found is not None and (found.path, found.source) == (PW_SHELL, "Playwright's headless shell")


def test_it_launches_debians_headless_shell_binary_not_its_wrapper():
    machine = FakeMachine(
        files={DEBIAN_HEADLESS_SHELL, "/usr/bin/chromium-headless-shell"},
        commands={
            "chromium-headless-shell": "/usr/bin/chromium-headless-shell",
            "chromium": "/usr/bin/chromium",
        },
    )
    found = toolchain.find_browser(machine.system)
    assert found is not None and found.path == DEBIAN_HEADLESS_SHELL
    assert found.source == "the system's chromium-headless-shell"


def test_it_falls_back_to_the_full_chromium():
    machine = FakeMachine(files={"/usr/bin/chromium"}, commands={"chromium": "/usr/bin/chromium"})
    found = toolchain.find_browser(machine.system)
    assert found is not None and (found.path, found.source) == ("/usr/bin/chromium", "the system's Chromium")


def test_a_browser_that_does_not_run_is_skipped():
    # Given Playwright's shell downloaded without its system libraries (--version fails)
    machine = FakeMachine(
        files={PW_SHELL, "/usr/bin/chromium"}, commands={"chromium": "/usr/bin/chromium"}, broken={PW_SHELL}
    )
    found = toolchain.find_browser(machine.system)
    assert found is not None and found.path == "/usr/bin/chromium"


def test_chromium_path_wins_and_a_wrong_one_names_itself():
    machine = FakeMachine(files={PW_SHELL, "/opt/chrome"})
    assert toolchain.find_browser(machine.system, configured="/opt/chrome").source == "CHROMIUM_PATH"
    with pytest.raises(ToolMissing, match="CHROMIUM_PATH=/nope does not exist"):
        toolchain.find_browser(machine.system, configured="/nope")


def test_nothing_installed_finds_nothing():
    assert toolchain.find_browser(FakeMachine().system) is None


# -- providing -----------------------------------------------------------------------------


def test_an_installed_playwright_browser_is_used_without_downloading():
    machine = FakeMachine(files={PW_SHELL})
    choice = toolchain.provide_browser(machine.system)
    assert choice.path == PW_SHELL and machine.ran == [[PW_SHELL, "--version"]]


def test_it_downloads_playwrights_shell_first_when_it_can():
    # Given a system Chromium, and a network: Playwright's download comes first
    machine = FakeMachine(
        files={"/usr/bin/chromium"},
        commands={"chromium": "/usr/bin/chromium"},
        installs={"--only-shell": {"": PW_SHELL}},
    )
    choice = toolchain.provide_browser(machine.system)
    assert (choice.path, choice.source) == (PW_SHELL, "Playwright's headless shell, downloaded now")
    assert [sys.executable, *PLAYWRIGHT_INSTALL] in machine.ran
    assert machine.ran_apt() == []


def test_without_a_network_it_takes_the_systems_browser():
    machine = FakeMachine(
        files={DEBIAN_HEADLESS_SHELL},
        commands={"chromium-headless-shell": "/usr/bin/chromium-headless-shell"},
    )
    choice = toolchain.provide_browser(machine.system)
    assert choice.path == DEBIAN_HEADLESS_SHELL
    assert [sys.executable, *PLAYWRIGHT_INSTALL] in machine.ran  # tried, failed
    assert any("could not download" in line for line in machine.lines)
    assert machine.ran_apt() == []


def test_skip_download_is_respected():
    machine = FakeMachine(files={"/usr/bin/chromium"}, commands={"chromium": "/usr/bin/chromium"})
    machine.system.environ = {**machine.system.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
    assert toolchain.provide_browser(machine.system).path == "/usr/bin/chromium"
    assert [sys.executable, *PLAYWRIGHT_INSTALL] not in machine.ran


def test_as_root_on_debian_it_installs_the_headless_shell_with_apt():
    machine = FakeMachine(
        commands={"apt-get": "/usr/bin/apt-get"},
        installs={
            "chromium-headless-shell": {
                "chromium-headless-shell": "/usr/bin/chromium-headless-shell",
                "": DEBIAN_HEADLESS_SHELL,
            }
        },
    )
    choice = toolchain.provide_browser(machine.system)
    assert choice.path == DEBIAN_HEADLESS_SHELL
    assert choice.source == "installed now with apt-get install chromium-headless-shell"
    assert machine.ran_apt() == ["chromium-headless-shell fonts-liberation fonts-dejavu-core"]


@pytest.mark.parametrize(
    "machine_args",
    [
        {"root": False, "commands": {"apt-get": "/usr/bin/apt-get"}},  # not root
        {"distro": ("fedora",), "commands": {"apt-get": "/usr/bin/apt-get"}},  # not Debian/Ubuntu
        {"commands": {}},  # no apt-get
    ],
    ids=["not-root", "not-debian", "no-apt"],
)
def test_otherwise_it_stops_with_one_line_naming_the_command(machine_args):
    machine = FakeMachine(**machine_args)
    with pytest.raises(ToolMissing) as caught:
        toolchain.provide_browser(machine.system)
    message = str(caught.value)
    assert "\n" not in message and "playwright install chromium --only-shell" in message
    assert "apt-get install chromium-headless-shell" in message
    assert machine.ran_apt() == []


def test_tools_are_found_on_path_or_installed_with_apt():
    machine = FakeMachine(
        commands={"apt-get": "/usr/bin/apt-get", "psql": "/usr/bin/psql"},
        installs={
            "systemd": {"systemd-analyze": "/usr/bin/systemd-analyze"},
            "docker-compose": {"docker-compose": "/usr/bin/docker-compose"},
        },
    )
    choices = {
        c.tool: c for c in toolchain.provide(["docker-compose", "systemd-analyze", "psql"], machine.system)
    }
    assert choices["psql"].source == "on PATH"
    assert choices["systemd-analyze"].source == "installed now with apt-get install systemd"
    assert choices["docker-compose"].path == "/usr/bin/docker-compose"
    assert machine.ran_apt() == ["docker-compose", "systemd"]


def test_a_missing_tool_names_its_package():
    with pytest.raises(ToolMissing, match=r"systemd-analyze not found; run: apt-get install systemd"):
        toolchain.provide_tool("systemd-analyze", FakeMachine(root=False).system)


def test_apt_updates_its_lists_when_the_package_is_unknown():
    machine = FakeMachine(commands={"apt-get": "/usr/bin/apt-get"})
    calls = []

    def run(argv, timeout, env=None):
        calls.append(argv[1])
        if argv[1] == "update":
            machine.installs["docker-compose"] = {"docker-compose": "/usr/bin/docker-compose"}
            return True
        return FakeMachine.run(machine, argv, timeout, env)

    machine.system.run = run
    assert toolchain.provide_tool("docker-compose", machine.system).path == "/usr/bin/docker-compose"
    assert calls == ["install", "update", "install"]


# -- the real machine ----------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.toolchain", *args],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_on_this_machine_it_finds_a_browser_that_launches():
    from playwright.sync_api import sync_playwright

    result = _cli("--find-browser", env={k: v for k, v in os.environ.items() if k != "CHROMIUM_PATH"})
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        assert browser.version
        browser.close()


def test_with_no_browser_anywhere_the_cli_says_which_command_to_run(tmp_path: Path):
    # Given a PATH and a Playwright folder with nothing in them (no apt-get either: nothing is
    # installed for real), and no download
    env = {
        "PATH": str(tmp_path),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "ms-playwright"),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        "HOME": str(tmp_path),
    }
    result = _cli("--for", "demo", env=env)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("make setup: browser not found; run: ")
    assert "-m playwright install chromium --only-shell" in last


def test_the_screenshot_service_uses_the_same_discovery(tmp_path: Path, settings):
    from ai_agent.screenshots import BrowserMissing, ScreenshotService, default_chromium_path

    settings.CHROMIUM_PATH = ""
    found = toolchain.find_browser()
    assert found is not None and default_chromium_path() == found.path
    # A path that does not exist fails the first shot with the command that fixes it
    service = ScreenshotService(executable_path=str(tmp_path / "no-chromium"))
    try:
        with pytest.raises(BrowserMissing, match="make setup"):
            service.start()
    finally:
        service.close()
