"""Issue 14, item 22: Chromium renders third-party creatives as an unprivileged user inside its
sandbox where it can, and says so loudly where it cannot (as root, or where user namespaces are
refused)."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_agent.screenshots import ScreenshotError, ScreenshotService, TextAd, chromium_sandbox_blocker

NOBODY = 65534
# Debian's chromium-headless-shell binary (/usr/bin/chromium-headless-shell is a shell wrapper).
SYSTEM_HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
AD = TextAd(title="Sandboxed", snippet="A creative from a third party.")


def browser_processes(browser_pid: int) -> list[dict[str, object]]:
    """The browser process and its descendants: ``{"uid", "type", "no_sandbox", "userns"}`` each
    (``userns``: the user namespace, ``/proc/PID/ns/user``)."""
    children: dict[int, list[int]] = {}
    info: dict[int, dict[str, object]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            # Zygote children rewrite their title: arguments may be joined by spaces.
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").split()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry), int(fields["PPid"].strip())
        children.setdefault(ppid, []).append(pid)
        kind = next((arg.decode()[7:] for arg in cmdline if arg.startswith(b"--type=")), "browser")
        try:
            namespace = os.readlink(f"/proc/{entry}/ns/user")
        except OSError:
            namespace = "?"
        info[pid] = {
            "uid": int(fields["Uid"].split()[1]),
            "type": kind,
            "no_sandbox": b"--no-sandbox" in cmdline,
            "userns": namespace,
        }
    found, todo = [], [browser_pid]
    while todo:
        pid = todo.pop()
        if pid in info:
            found.append(info[pid])
        todo.extend(children.get(pid, []))
    return found


def browser_pid_with_home(home: Path) -> int:
    """The top Chromium process started with ``HOME=home`` (ours, not another test's)."""
    marker = f"HOME={home}".encode()
    ours = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in environ:
                ours.add(int(entry))
    tops = [
        pid
        for pid in ours
        if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) not in ours
    ]
    assert len(tops) == 1, (ours, tops)
    return tops[0]


@pytest.fixture
def as_nobody(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(CHROMIUM_PATH, HOME)``: a wrapper that starts Debian's headless shell as the
    unprivileged user ``nobody`` with that HOME (the test process stays root), handing over the
    profile directory Playwright made first. What the Docker image's ``adspark`` user gives."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None or not Path(SYSTEM_HEADLESS_SHELL).exists():
        pytest.skip("needs root, setpriv and Debian's chromium-headless-shell to switch user")
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    wrapper = tmp_path / "chromium-as-nobody"
    wrapper.write_text(
        "#!/bin/sh\n"
        'for arg in "$@"; do case "$arg" in --user-data-dir=*) chown -R 65534:65534 "${arg#--user-data-dir=}";; esac; done\n'
        f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups --inh-caps=-all env HOME={home} "
        f'{SYSTEM_HEADLESS_SHELL} "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    tmp_path.chmod(0o755)
    yield str(wrapper), home


def test_an_unprivileged_browser_renders_with_its_sandbox(as_nobody: tuple[str, Path]) -> None:
    if chromium_sandbox_blocker() not in (
        None,
        "the worker runs as root, and Chromium's sandbox refuses root",
    ):
        pytest.skip(f"no sandbox possible on this machine: {chromium_sandbox_blocker()}")
    wrapper, home = as_nobody
    service = ScreenshotService(executable_path=wrapper, sandbox="true", timeout=20)
    try:
        # when a creative is drawn by a browser running as nobody
        shot = service.shot_text_ad(AD)
        processes = browser_processes(browser_pid_with_home(home))
    finally:
        service.close()
    # then it rendered, sandboxed: every Chromium process is nobody's, none runs with --no-sandbox
    assert (shot.width, shot.height) == (600, 200)
    assert service.sandboxed is True
    assert processes and {p["uid"] for p in processes} == {NOBODY}
    renderers = [p for p in processes if p["type"] == "renderer"]
    assert renderers, processes
    assert not any(p["no_sandbox"] for p in processes), processes
    # and the renderers are confined: each lives in a user namespace of its own sandbox
    browser_namespace = processes[0]["userns"]
    assert all(p["userns"] not in (browser_namespace, "?") for p in renderers), processes


def test_as_root_it_falls_back_without_the_sandbox_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    if os.geteuid() != 0:
        pytest.skip("only a root worker cannot sandbox Chromium")
    assert "root" in (chromium_sandbox_blocker() or "")
    service = ScreenshotService(sandbox="auto", timeout=20)
    with caplog.at_level(logging.WARNING, logger="ai_agent.screenshots"):
        try:
            shot = service.shot_text_ad(AD)
        finally:
            service.close()
    assert shot.width == 600 and service.sandboxed is False
    assert any(
        "WITHOUT its sandbox" in record.getMessage() and "root" in record.getMessage()
        for record in caplog.records
    )


def test_a_required_sandbox_that_cannot_run_is_an_error() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs a process where the sandbox cannot run (root)")
    service = ScreenshotService(executable_path=SYSTEM_HEADLESS_SHELL, sandbox="true", timeout=20)
    try:
        with pytest.raises(ScreenshotError, match="sandbox"):
            service.shot_text_ad(AD)
    finally:
        service.close()
