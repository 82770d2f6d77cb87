"""Benchmark: screenshots with one reused Chromium (the service) vs a launch per shot.

Renders ``--shots`` shots of local content (text ad cards, and images served by a local HTTP
server, alternately) with :class:`ai_agent.screenshots.ScreenshotService` keeping its browser
open, then the same content with a new service (a browser launch) per shot. Prints shots/s for
both, the ratio, and the peak RSS of this process plus its children (Chromium, the Playwright
driver), sampled from /proc every 100 ms.

Targets (issue 4): ratio >= 5x, >= 10 shots/s with the service, RSS well inside the 2 GB limit
of the ai_generation worker.

Run: ``cd /work/main && .venv/bin/python bench/screenshots.py [--shots 200] [--baseline-shots 200]``
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "backend"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "warning")

import django  # noqa: E402

django.setup()

from ai_agent.images import png_encode, png_size  # noqa: E402
from ai_agent.screenshots import ScreenshotService, TextAd  # noqa: E402

TARGET_SHOTS_PER_S = 10.0  # issue 4, section 6
TARGET_RATIO = 5.0
RSS_BUDGET_MB = 1024

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_rss_bytes(root: int) -> int:
    """Resident memory (bytes) of ``root`` and all its descendants, from /proc/<pid>/statm."""
    tree = _children_of()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE_SIZE
        except OSError:
            pass
    return total


def tree_pss_bytes(root: int) -> int:
    """Proportional set size (bytes) of ``root`` and its descendants: shared pages (Chromium's
    processes share most of theirs) are divided among the processes that map them."""
    tree = _children_of()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) * 1024 for line in handle if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return total


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) used by ``root``, its living descendants, and every
    descendant that has exited and been reaped (``cutime``/``cstime``)."""
    tree = _children_of()
    ticks, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


class PeakRSS:
    """Samples :func:`tree_rss_bytes` of this process every ``interval`` seconds in a thread."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval, self.peak, self.peak_pss = interval, 0, 0
        self.cpu_seconds = 0.0  # the sampler's own CPU time, left out of the per-shot figures
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        samples = 0
        while not self._stop.is_set():
            started = time.thread_time()
            self.peak = max(self.peak, tree_rss_bytes(os.getpid()))
            if samples % 4 == 0:  # smaps_rollup of Chromium's huge address spaces is costly
                self.peak_pss = max(self.peak_pss, tree_pss_bytes(os.getpid()))
            samples += 1
            self.cpu_seconds += time.thread_time() - started
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def shoot(service: ScreenshotService, index: int, base_url: str) -> None:
    """One shot of local content: an image on even indexes, a text ad card on odd ones."""
    if index % 2 == 0:
        shot = service.shot_image_url(f"{base_url}/ad-{index % 10}.png", width=300, height=250)
        assert png_size(shot.png) == (300, 250)
    else:
        shot = service.shot_text_ad(
            TextAd(title=f"Ad {index}", snippet="Lightweight travel gear.", visible_link="example.com")
        )
        assert png_size(shot.png) == (600, 200)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", type=int, default=200, help="shots with the reused browser")
    parser.add_argument("--baseline-shots", type=int, default=200, help="shots with a launch per shot")
    parser.add_argument(
        "--parallel", type=int, default=2, help="callers at once in the extra parallel run (0: skip)"
    )
    args = parser.parse_args()

    site = Path(tempfile.mkdtemp(prefix="bench-shots-"))
    for i in range(10):
        (site / f"ad-{i}.png").write_bytes(
            png_encode(150, 125, lambda x, y, i=i: ((x + i * 20) % 256, y * 2 % 256, 90))
        )
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{httpd.server_port}"

    print(
        f"Chromium: {ScreenshotService(allow_loopback=True).executable_path}; cpus: {os.cpu_count()}; "
        f"load average: {os.getloadavg()[0]:.1f}"
    )
    with PeakRSS() as rss:
        service = ScreenshotService(allow_loopback=True).start()
        shoot(service, 0, base_url)  # warm-up, not timed
        started, cpu, sampler = time.perf_counter(), tree_cpu_seconds(os.getpid()), rss.cpu_seconds
        for i in range(args.shots):
            shoot(service, i, base_url)
        reused = args.shots / (time.perf_counter() - started)
        reused_cpu = (tree_cpu_seconds(os.getpid()) - cpu - (rss.cpu_seconds - sampler)) / args.shots
        parallel = None
        if args.parallel > 1:
            started = time.perf_counter()
            with ThreadPoolExecutor(args.parallel) as pool:
                list(pool.map(lambda i: shoot(service, i, base_url), range(args.shots)))
            parallel = args.shots / (time.perf_counter() - started)
        assert service.launches == 1
        service.close()
    reused_peak, reused_pss = rss.peak, rss.peak_pss

    with PeakRSS() as rss:
        started, cpu, sampler = time.perf_counter(), tree_cpu_seconds(os.getpid()), rss.cpu_seconds
        for i in range(args.baseline_shots):
            one = ScreenshotService(allow_loopback=True)
            shoot(one, i, base_url)
            one.close()
        baseline = args.baseline_shots / (time.perf_counter() - started)
        baseline_cpu = (
            tree_cpu_seconds(os.getpid()) - cpu - (rss.cpu_seconds - sampler)
        ) / args.baseline_shots
    httpd.shutdown()

    print(f"reused browser:   {args.shots} shots, {reused:6.2f} shots/s (one caller)")
    if parallel is not None:
        print(
            f"reused browser:   {args.shots} shots, {parallel:6.2f} shots/s ({args.parallel} callers at once)"
        )
    print(f"launch per shot:  {args.baseline_shots} shots, {baseline:6.2f} shots/s")
    print(f"ratio:            {reused / baseline:6.1f}x wall clock (one caller)")
    print(
        f"CPU per shot:     reused {reused_cpu * 1000:.0f} ms, launch per shot {baseline_cpu * 1000:.0f} ms "
        f"(ratio {baseline_cpu / reused_cpu:.1f}x; an idle {os.cpu_count()}-core machine does about "
        f"{os.cpu_count() / reused_cpu:.0f} shots/s reused)"
    )
    print(
        f"peak RSS (process + children): reused {reused_peak / 2**20:.0f} MB, launch per shot {rss.peak / 2**20:.0f} MB; "
        f"peak PSS: reused {reused_pss / 2**20:.0f} MB, launch per shot {rss.peak_pss / 2**20:.0f} MB (limit 2048 MB)"
    )
    # "Well inside" the ai_generation worker's 2 GB limit: at most half of it, so that the
    # worker's own Python (Django, a provider's image in memory) has room.
    targets = {
        f">= {TARGET_SHOTS_PER_S:.0f} shots/s reused": reused >= TARGET_SHOTS_PER_S,
        f">= {TARGET_RATIO:.0f}x the launch-per-shot baseline": reused / baseline >= TARGET_RATIO,
        f"peak RSS <= {RSS_BUDGET_MB} MB": reused_peak <= RSS_BUDGET_MB * 2**20,
    }
    for name, met in targets.items():
        print(f"target {name}: {'met' if met else 'NOT met'}")
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())} ({os.cpu_count()} cpus)")
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
