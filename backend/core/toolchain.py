"""The binaries AdSpark needs besides Python packages: where to find them and how to get them.

One place decides which browser Playwright launches (the screenshot service in
:mod:`ai_agent.screenshots`, the frontend end-to-end tests and ``make setup`` all call
:func:`find_browser`) and which command-line tools the tests use (``docker-compose`` validates
the compose files, ``systemd-analyze`` the unit files, ``psql`` runs ``setup_local_db.sh``).

Search order for the browser (the first that exists and answers ``--version``):

1. ``CHROMIUM_PATH`` when set (nothing else is tried: the user chose);
2. Playwright's own headless shell (``$PLAYWRIGHT_BROWSERS_PATH``, default
   ``~/.cache/ms-playwright``);
3. the system's ``chromium-headless-shell`` on ``PATH`` (Debian's ``/usr/bin/…`` is a shell
   wrapper; the binary behind it, ``/usr/lib/chromium/chromium-headless-shell``, is launched);
4. Playwright's own full Chromium;
5. the system's ``chromium`` / ``chromium-browser`` / ``google-chrome`` on ``PATH``.

The headless shell comes first because it renders a shot with ~3.5x less CPU than the full
browser (bench/screenshots.py).

:func:`provide` (``make setup``, ``python -m core.toolchain``) goes further when nothing from
Playwright is installed: it asks Playwright to download its headless shell
(``python -m playwright install chromium --only-shell``; skipped when
``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD`` is set, and failing in seconds without a network), else
takes the system's browser, else on Debian/Ubuntu as root installs ``chromium-headless-shell``
with apt, else stops with one line naming the command to run. The tools follow the same rule
without the Playwright step. It prints which one it chose.

This module imports neither Django nor any app (``make setup`` runs it before settings exist).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Debian's package chromium-headless-shell: /usr/bin/chromium-headless-shell runs this binary.
DEBIAN_HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
PLAYWRIGHT_INSTALL = ("-m", "playwright", "install", "chromium", "--only-shell")
# A download is ~110 MB; the connection timeout makes a closed network fail in seconds (its
# first attempt measured at 3 s here) instead of after Playwright's default 30 s per retry.
PLAYWRIGHT_INSTALL_TIMEOUT = 600.0
PLAYWRIGHT_CONNECTION_TIMEOUT_MS = "10000"
# `--version` loads every shared library; a browser missing one fails here, not in a worker.
VERSION_TIMEOUT = 20.0
APT_TIMEOUT = 900.0

# The browser and the fonts every page is drawn with (the worker image installs the same).
BROWSER_APT_PACKAGES = ("chromium-headless-shell", "fonts-liberation", "fonts-dejavu-core")
BROWSER_FIX = (
    f"{sys.executable} {' '.join(PLAYWRIGHT_INSTALL)}"
    " (or, as root on Debian/Ubuntu: apt-get install chromium-headless-shell)"
)


@dataclass(frozen=True)
class Tool:
    """A command-line tool the tests use: its ``command`` on PATH and the apt ``package``."""

    command: str
    package: str
    used_for: str


TOOLS = {
    "docker-compose": Tool("docker-compose", "docker-compose", "validating docker-compose*.yml"),
    "systemd-analyze": Tool("systemd-analyze", "systemd", "verifying deploy/systemd/*.service"),
    "psql": Tool("psql", "postgresql-client", "running setup_local_db.sh"),
}
# What each entry point needs (`make demo` only renders; `make test` also validates deployment).
NEEDS = {"demo": ("browser",), "test": ("browser", *TOOLS)}


@dataclass(frozen=True)
class Choice:
    """A binary that was found: ``tool`` name, absolute ``path``, and ``source`` (how it was
    found or obtained, e.g. ``"Playwright's headless shell"``, ``"on PATH"``,
    ``"installed now with apt-get install systemd"``)."""

    tool: str
    path: str
    source: str

    def __str__(self) -> str:
        return f"{self.tool}: {self.path} ({self.source})"


class ToolMissing(RuntimeError):
    """A binary is missing and could not be obtained. ``fix`` is the command that provides it."""

    def __init__(self, tool: str, fix: str, reason: str = ""):
        self.tool, self.fix = tool, fix
        super().__init__(f"{tool} not found{f' ({reason})' if reason else ''}; run: {fix}")


def _run(args: Sequence[str], timeout: float, env: Mapping[str, str] | None = None) -> bool:
    try:
        completed = subprocess.run(
            list(args), capture_output=True, timeout=timeout, env=dict(env) if env else None, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.returncode == 0


@dataclass
class System:
    """The machine as the search sees it. Defaults are the real one; tests pass fakes.

    ``find_command(name)`` finds a command (default: on ``environ["PATH"]``);
    ``run(argv, timeout, env=None)`` is True when the command exited 0 (False on a timeout or
    when it cannot start); ``exists(path)``; ``glob(pattern)``; ``environ``; ``euid``;
    ``os_release`` the ``ID``/``ID_LIKE`` words of /etc/os-release; ``log`` prints progress lines.
    """

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    find_command: Callable[[str], str | None] | None = None
    run: Callable[..., bool] = _run
    exists: Callable[[str], bool] = os.path.exists
    glob: Callable[[str], list[str]] = glob.glob
    euid: int = field(default_factory=lambda: os.geteuid() if hasattr(os, "geteuid") else -1)
    os_release: frozenset[str] = field(default_factory=lambda: _os_release_ids())
    log: Callable[[str], None] = lambda line: print(line, flush=True)

    def which(self, name: str) -> str | None:
        if self.find_command is not None:
            return self.find_command(name)
        return shutil.which(name, path=self.environ.get("PATH", os.defpath))

    @property
    def playwright_dir(self) -> str:
        return self.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")

    @property
    def can_apt(self) -> bool:
        return self.euid == 0 and bool({"debian", "ubuntu"} & self.os_release) and bool(self.which("apt-get"))

    def works(self, path: str) -> bool:
        return self.exists(path) and self.run([path, "--version"], VERSION_TIMEOUT)


def _os_release_ids(path: str = "/etc/os-release") -> frozenset[str]:
    try:
        text = Path(path).read_text()
    except OSError:
        return frozenset()
    words: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            words.update(value.strip().strip('"').split())
    return frozenset(words)


def _newest(system: System, pattern: str) -> str | None:
    found = sorted(system.glob(pattern))
    return found[-1] if found else None


def browser_candidates(system: System) -> list[tuple[str, str | None]]:
    """``(source, path or None)`` in search order, without the ``CHROMIUM_PATH`` step."""
    root = system.playwright_dir
    shell_on_path = system.which("chromium-headless-shell")
    if shell_on_path and system.exists(DEBIAN_HEADLESS_SHELL):
        shell_on_path = DEBIAN_HEADLESS_SHELL
    chromium_on_path = (
        system.which("chromium") or system.which("chromium-browser") or system.which("google-chrome")
    )
    return [
        (
            "Playwright's headless shell",
            _newest(system, os.path.join(root, "chromium_headless_shell-*", "chrome-*", "*headless_shell")),
        ),
        ("the system's chromium-headless-shell", shell_on_path),
        (
            "Playwright's Chromium",
            _newest(system, os.path.join(root, "chromium-*", "chrome-linux*", "chrome")),
        ),
        ("the system's Chromium", chromium_on_path),
    ]


def find_browser(system: System | None = None, *, configured: str | None = None) -> Choice | None:
    """The browser to launch (see the module docstring for the order), or None.

    ``configured`` is ``CHROMIUM_PATH`` (None: read it from ``system.environ``). A configured path
    is returned as it is when it exists (whether it runs is the user's business).

    Raises:
        ToolMissing: ``CHROMIUM_PATH`` names a file that does not exist.
    """
    system = system or System()
    configured = system.environ.get("CHROMIUM_PATH", "") if configured is None else configured
    if configured:
        if not system.exists(configured):
            raise ToolMissing(
                "browser",
                "unset CHROMIUM_PATH or point it at a Chromium",
                f"CHROMIUM_PATH={configured} does not exist",
            )
        return Choice("browser", configured, "CHROMIUM_PATH")
    for source, path in browser_candidates(system):
        if path and system.works(path):
            return Choice("browser", path, source)
    return None


def provide_browser(system: System | None = None) -> Choice:
    """Find the browser, or obtain one: Playwright's download, the system's, apt, in that order.

    Raises:
        ToolMissing: nothing found and nothing could be installed (the message names the command).
    """
    system = system or System()
    found = find_browser(system)
    if found and (found.source.startswith("Playwright") or found.source == "CHROMIUM_PATH"):
        return found
    if system.environ.get("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"):
        system.log("browser: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD is set; not downloading Playwright's")
    else:
        system.log("browser: asking Playwright to download its headless shell …")
        env = {**system.environ, "PLAYWRIGHT_DOWNLOAD_CONNECTION_TIMEOUT": PLAYWRIGHT_CONNECTION_TIMEOUT_MS}
        if system.run([sys.executable, *PLAYWRIGHT_INSTALL], PLAYWRIGHT_INSTALL_TIMEOUT, env):
            downloaded = find_browser(system)
            if downloaded and downloaded.source.startswith("Playwright"):
                return Choice("browser", downloaded.path, "Playwright's headless shell, downloaded now")
        system.log("browser: Playwright could not download its browser (no network?); using the system's")
    if found:
        return found
    if system.can_apt:
        system.log("browser: none installed; apt-get install chromium-headless-shell …")
        if _apt_install(system, *BROWSER_APT_PACKAGES):
            installed = find_browser(system)
            if installed:
                return Choice(
                    "browser", installed.path, "installed now with apt-get install chromium-headless-shell"
                )
    raise ToolMissing("browser", BROWSER_FIX)


def provide_tool(name: str, system: System | None = None) -> Choice:
    """Find ``name`` (a key of :data:`TOOLS`) on PATH, else install its apt package as root.

    Raises:
        ToolMissing: not on PATH and apt is not available (the message names the package).
    """
    system = system or System()
    tool = TOOLS[name]
    path = system.which(tool.command)
    if path:
        return Choice(name, path, "on PATH")
    if system.can_apt:
        system.log(f"{name}: not installed; apt-get install {tool.package} …")
        if _apt_install(system, tool.package):
            path = system.which(tool.command)
            if path:
                return Choice(name, path, f"installed now with apt-get install {tool.package}")
    raise ToolMissing(name, f"apt-get install {tool.package} (as root), for {tool.used_for}")


def _apt_install(system: System, *packages: str) -> bool:
    env = {**system.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = system.which("apt-get") or "apt-get"
    install = [apt, "install", "-y", "-qq", "--no-install-recommends", *packages]
    # A fresh container has empty package lists: install alone would not find the package.
    return system.run(install, APT_TIMEOUT, env) or (
        system.run([apt, "update", "-qq"], APT_TIMEOUT, env) and system.run(install, APT_TIMEOUT, env)
    )


def provide(needs: Sequence[str], system: System | None = None) -> list[Choice]:
    """Provide every binary in ``needs`` (``"browser"`` and keys of :data:`TOOLS`), in order.

    Raises:
        ToolMissing: for the first one that cannot be provided.
    """
    system = system or System()
    return [provide_browser(system) if name == "browser" else provide_tool(name, system) for name in needs]


def main(argv: list[str] | None = None) -> int:
    """``python -m core.toolchain [--for demo|test] [--find-browser]``: exit 0 when provided,
    1 with one ``… not found; run: COMMAND`` line on standard error otherwise."""
    parser = argparse.ArgumentParser(description="Provide the browser and tools AdSpark needs (make setup).")
    parser.add_argument(
        "--for", dest="purpose", choices=sorted(NEEDS), default="demo", help="what to provide for"
    )
    parser.add_argument(
        "--find-browser", action="store_true", help="only print the browser that would be launched"
    )
    args = parser.parse_args(argv)
    system = System()
    try:
        if args.find_browser:
            found = find_browser(system)
            if found is None:
                raise ToolMissing("browser", BROWSER_FIX)
            print(found.path)
            return 0
        for choice in provide(NEEDS[args.purpose], system):
            print(choice, flush=True)
    except ToolMissing as exc:
        print(f"make setup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
