"""Screenshots of creatives and ad layouts in a real Chromium (Playwright).

One browser per worker process, launched on first use and closed when the process ends
(Celery's ``worker_process_shutdown`` signal, and ``atexit`` for everything else); every shot
gets a fresh browser context (no cookies, cache or storage shared between shots).

Playwright runs with its asyncio API on a private event-loop thread owned by the service; the
public methods are synchronous and thread-safe. That keeps the browser usable from any thread
(Celery's threads pool on Windows) and lets a Celery soft time limit interrupt the waiting
caller while the shot is cancelled cleanly on the loop, leaving the browser healthy.

Kinds of creatives (SerpApi ``ad_creatives`` items, see :mod:`AdSpark.models`):

* ``image``: ``image`` URL, drawn as an ``<img>`` at the creative's ``width`` x ``height`` when
  known, else at its natural size.
* ``preview``: ``link``, SerpApi's JavaScript preview
  (``…/ads/preview/content.js?…&htmlParentId=fletch-render-N&responseCallback=fletchCallbackN``).
  The script renders into the element whose id is ``htmlParentId`` and then calls the global
  function ``responseCallback``; a small host page provides both.
* ``text``: a text ad from its ad details (title, snippet, visible link) drawn as an ad card
  (600 x 200).

Safety: every URL the page loads, the first one and every sub-request (scripts, iframes,
images, redirects), is fetched by :func:`core.urlsafety.pinned_request` in a route handler:
checked, and connected to the address that was checked (Chromium itself opens no connection);
refused URLs are aborted before any connection is made. A shot may download at most
``SCREENSHOT_MAX_BYTES`` bytes and take ``SCREENSHOT_TIMEOUT`` seconds; images are limited to
``SCREENSHOT_MAX_WIDTH`` x ``SCREENSHOT_MAX_HEIGHT`` CSS pixels. WebSockets and service workers
are refused.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import logging
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from celery.signals import worker_process_shutdown
from django.conf import settings
from django.template.loader import render_to_string

from core.toolchain import BROWSER_FIX, ToolMissing, find_browser
from core.urlsafety import ResponseTooLarge, UnsafeURLError, check_url, pinned_request

from .images import ImageFormatError, png_is_blank, png_size

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Headless Chromium: no GPU, and none of the background services (updates, sync, safe-browsing
# lists) that would flood a closed network. The sandbox stays on where it can (see
# chromium_sandbox_blocker); it is turned off (--no-sandbox) only where it cannot run.
CHROMIUM_ARGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    # Chromium keeps a "spare" renderer process launched for the next page; every shot's context
    # is new, so the spare is never the one used and is thrown away with the context. Measured
    # (new context + page in a loop, /usr/bin/chromium, 2 cores): 330 -> 275 ms of CPU each.
    "--disable-features=SpareRendererForSitePerProcess",
)
SYSTEM_CHROMIUM = "/usr/bin/chromium"

TEXT_CARD_SIZE = (600, 200)
# Viewport for shots whose size is only known after rendering (previews, images of unknown
# size): the largest standard display ad (970 x 250 billboard, 300 x 600 half page) fits.
DEFAULT_VIEWPORT = (1000, 700)
# After a preview's callback fired, images inside it get this long to finish (seconds).
PREVIEW_SETTLE_SECONDS = 2.0
_JS_NAME = re.compile(r"^[A-Za-z_$][\w$]{0,127}$")
_ELEMENT_ID = re.compile(r"^[\w-]{1,128}$")


class ScreenshotError(Exception):
    """A shot failed: timeout, page too large, nothing drawn, or the browser failed."""


class BrowserMissing(ScreenshotError):
    """No browser at the configured or discovered path; the message names the command to run."""


class ScreenshotTimeout(ScreenshotError):
    """The shot took longer than ``SCREENSHOT_TIMEOUT`` seconds."""


class PageTooLargeError(ScreenshotError):
    """The page downloaded more than ``SCREENSHOT_MAX_BYTES`` or is larger than the maximum size."""


@dataclass(frozen=True)
class Shot:
    """A PNG screenshot: ``png`` bytes, ``width`` x ``height`` pixels, the ``kind`` drawn
    (image / preview / text / html), and sub-request URLs that were refused (``blocked``)."""

    png: bytes
    width: int
    height: int
    kind: str
    blocked: tuple[str, ...] = ()


@dataclass(frozen=True)
class TextAd:
    """A text ad's copy, from ad details (SerpApi ``title``, ``snippet``, ``visible_link`` …)."""

    title: str
    snippet: str = ""
    visible_link: str = ""
    headline: str = ""
    call_to_action: str = ""

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> TextAd:
        """Build from a variant's ``creative_snapshot``, falling back to advertiser and domain."""
        details = snapshot.get("details") or {}
        title = details.get("title") or details.get("headline") or snapshot.get("advertiser_name") or ""
        return cls(
            title=title or snapshot.get("ad_creative_id", "Ad"),
            snippet=details.get("snippet") or "",
            visible_link=details.get("visible_link") or snapshot.get("target_domain") or "",
            headline=details.get("headline") or "",
            call_to_action=details.get("call_to_action") or "",
        )


def creative_kind(snapshot: dict[str, Any]) -> str:
    """Return how to draw a creative snapshot: ``"image"``, ``"preview"`` or ``"text"``."""
    details = snapshot.get("details") or {}
    if snapshot.get("format") == "text" and (details.get("title") or details.get("snippet")):
        return "text"
    if snapshot.get("image_url"):
        return "image"
    if snapshot.get("preview_url"):
        return "preview"
    return "text"


def preview_host_ids(link: str) -> tuple[str, str]:
    """Return ``(htmlParentId, responseCallback)`` from a preview link, sanitised for HTML/JS."""
    query = parse_qs(urlsplit(link).query)
    parent = (query.get("htmlParentId") or [""])[0]
    callback = (query.get("responseCallback") or [""])[0]
    if not _ELEMENT_ID.match(parent):
        parent = "fletch-render-adspark"
    if not _JS_NAME.match(callback):
        callback = "fletchCallbackAdspark"
    return parent, callback


def default_chromium_path() -> str:
    """The browser to launch: :func:`core.toolchain.find_browser` with ``CHROMIUM_PATH``, else
    ``/usr/bin/chromium`` (launching it then fails with :class:`BrowserMissing`).

    The headless shell is preferred there: every shot opens a new context and page, and in the
    full browser (``chromium`` in headless mode) each page brings the whole browser's per-tab
    machinery and a heavier renderer. Measured with bench/screenshots.py on 2 cores (Chromium
    156, Debian 12): ~170 ms of CPU per shot with the shell against ~580 ms with
    ``/usr/bin/chromium`` (9.2 vs 3.4 shots/s at load 3.5). Same Blink, same rendering.
    """
    try:
        found = find_browser(configured=settings.CHROMIUM_PATH)
    except ToolMissing:
        return settings.CHROMIUM_PATH  # launching it raises BrowserMissing with the fix
    return found.path if found else SYSTEM_CHROMIUM


def chromium_sandbox_blocker() -> str | None:
    """Why Chromium's sandbox cannot run in this process, or None if nothing known stops it.

    Chromium renders third-party creative content, so its sandbox (user namespaces on Debian's
    build, which has no setuid helper) should confine each renderer. It cannot when:

    * the process runs as root: Chromium refuses to start sandboxed as root (crbug.com/638180);
      run the worker as an unprivileged user (the Docker image's ``adspark`` user does);
    * the kernel allows no unprivileged user namespaces (``/proc/sys/user/max_user_namespaces``
      is 0, or Debian's ``kernel.unprivileged_userns_clone`` is 0).

    A container runtime can still refuse the namespaces at launch (a seccomp profile that blocks
    ``clone``/``unshare`` with ``CLONE_NEWUSER``); :class:`ScreenshotService` finds that out by
    launching.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "the worker runs as root, and Chromium's sandbox refuses root"
    for path in ("/proc/sys/user/max_user_namespaces", "/proc/sys/kernel/unprivileged_userns_clone"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value == "0":
            return f"unprivileged user namespaces are disabled ({path} = 0)"
    return None


@dataclass
class _ShotState:
    """Per-shot bookkeeping for the route handler: bytes left, refused and failed URLs."""

    bytes_left: int
    allow_network: bool = False  # set when the shot starts; nothing is requested before
    blocked: list[str] = field(default_factory=list)
    too_large: bool = False


class ScreenshotService:
    """A Chromium kept open for many shots (see the module docstring).

    Args override settings: ``executable_path`` (``CHROMIUM_PATH``), ``timeout`` seconds
    (``SCREENSHOT_TIMEOUT``), ``max_bytes`` (``SCREENSHOT_MAX_BYTES``), ``max_width`` /
    ``max_height`` pixels, ``concurrency`` (shots at once, ``SCREENSHOT_CONCURRENCY``),
    ``allow_loopback`` / ``allow_private`` (``check_url``; None = settings), ``sandbox``
    (``auto``/``true``/``false``, ``CHROMIUM_SANDBOX``; see :meth:`_launch`).
    """

    def __init__(
        self,
        *,
        executable_path: str | None = None,
        timeout: float | None = None,
        max_bytes: int | None = None,
        max_width: int | None = None,
        max_height: int | None = None,
        concurrency: int | None = None,
        allow_loopback: bool | None = None,
        allow_private: bool | None = None,
        sandbox: str | None = None,
    ) -> None:
        self.executable_path = executable_path or default_chromium_path()
        self.timeout = float(timeout or settings.SCREENSHOT_TIMEOUT)
        self.max_bytes = int(max_bytes or settings.SCREENSHOT_MAX_BYTES)
        self.max_width = int(max_width or settings.SCREENSHOT_MAX_WIDTH)
        self.max_height = int(max_height or settings.SCREENSHOT_MAX_HEIGHT)
        self.concurrency = int(concurrency or settings.SCREENSHOT_CONCURRENCY)
        self.allow_loopback = allow_loopback
        self.allow_private = allow_private
        self.sandbox = sandbox or settings.CHROMIUM_SANDBOX
        self.sandboxed = False  # whether the running browser has its sandbox (set at launch)
        self.launches = 0  # browser launches so far (1 unless the browser crashed)
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._semaphore: asyncio.Semaphore | None = None
        # Fresh, never used (context, page, state) pairs made ahead of the next shot: see _spare_page.
        self._spares: list[tuple[Any, Any, _ShotState]] = []
        self._spare_tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def browser_running(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="screenshots", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _call(self, make: Callable[[], Awaitable[T]], *, timeout: float) -> T:
        """Run ``make()`` on the loop thread and wait up to ``timeout`` seconds for it."""
        if os.getpid() != self._pid:
            raise RuntimeError(
                "a ScreenshotService cannot be used across fork(); use get_screenshot_service()"
            )
        loop = self._ensure_loop()
        future: Future[T] = asyncio.run_coroutine_threadsafe(make(), loop)  # type: ignore[arg-type]
        try:
            return future.result(timeout=timeout)
        except TimeoutError as exc:
            future.cancel()
            raise ScreenshotTimeout(f"The screenshot took longer than {timeout:.0f} s.") from exc
        except BaseException:
            # e.g. Celery's SoftTimeLimitExceeded: stop the shot, keep the browser.
            future.cancel()
            raise

    async def _get_browser(self) -> Any:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        from playwright.async_api import async_playwright

        if self._playwright is None:
            self._playwright = await async_playwright().start()
        if self._browser is not None:
            logger.warning("Chromium disconnected; launching a new one")
        if not os.path.exists(self.executable_path):
            raise BrowserMissing(
                f"No browser at {self.executable_path}: run `make setup`, or {BROWSER_FIX},"
                " or set CHROMIUM_PATH"
            )
        self._browser = await self._launch()
        self._semaphore = asyncio.Semaphore(self.concurrency)
        self._spares.clear()  # they belonged to the browser that went away
        self.launches += 1
        logger.info(
            "Chromium %s launched (pid %s, sandbox %s)",
            self._browser.version,
            os.getpid(),
            "on" if self.sandboxed else "OFF",
        )
        return self._browser

    async def _launch(self) -> Any:
        """Launch Chromium, sandboxed unless ``CHROMIUM_SANDBOX`` or this process forbids it.

        ``auto`` (default): sandboxed where :func:`chromium_sandbox_blocker` finds nothing in the
        way and the launch succeeds; else without the sandbox, with a warning saying why.
        ``true``: sandboxed or not at all (tried even when a blocker is known). ``false``: never
        sandboxed.

        Raises:
            ScreenshotError: ``CHROMIUM_SANDBOX=true`` and the sandbox cannot run.
        """
        mode = self.sandbox

        async def launch(sandbox: bool) -> Any:
            # chromium_sandbox=False makes Playwright pass --no-sandbox; True leaves it out.
            browser = await self._playwright.chromium.launch(
                executable_path=self.executable_path,
                args=list(CHROMIUM_ARGS),
                headless=True,
                chromium_sandbox=sandbox,
            )
            self.sandboxed = sandbox
            return browser

        if mode == "false":
            return await launch(False)
        blocker = chromium_sandbox_blocker()
        # "true" always tries (CHROMIUM_PATH may be a wrapper that starts the browser as another
        # user); "auto" does not spend a launch that is known to fail.
        if blocker is None or mode == "true":
            try:
                return await launch(True)
            except Exception as exc:
                if mode == "true":
                    hint = f" ({blocker})" if blocker else ""
                    raise ScreenshotError(f"Chromium could not start with its sandbox{hint}: {exc}") from exc
                blocker = f"the sandboxed launch failed ({str(exc).splitlines()[0][:300]})"
        logger.warning(
            "Chromium runs WITHOUT its sandbox: %s. Creatives are third-party content; run the "
            "worker as an unprivileged user where user namespaces are allowed (docs/operations.md).",
            blocker,
        )
        return await launch(False)

    def start(self) -> ScreenshotService:
        """Launch the browser now instead of on the first shot (benchmarks, warm-up)."""
        self._call(self._get_browser, timeout=60)
        return self

    def close(self) -> None:
        """Close the browser and stop the loop thread. Idempotent; safe at interpreter exit."""
        loop, thread = self._loop, self._thread
        if loop is None or os.getpid() != self._pid:
            return

        async def shutdown() -> None:
            for task in list(self._spare_tasks):
                task.cancel()
            self._spares.clear()  # closed with the browser
            if self._browser is not None:
                try:
                    await self._browser.close()
                finally:
                    self._browser = None
            if self._playwright is not None:
                try:
                    await self._playwright.stop()
                finally:
                    self._playwright = None

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=15)
        except Exception:  # the process is going away; a stuck browser dies with it
            logger.warning("Chromium did not close cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        with self._lock:
            self._loop = self._thread = None

    # -- public shots ------------------------------------------------------------------------

    def shot_creative(self, snapshot: dict[str, Any]) -> Shot:
        """Draw a creative snapshot (see :func:`creative_kind`).

        Raises:
            UnsafeURLError: the creative's URL may not be fetched (nothing was requested).
            ScreenshotError: see the subclasses.
        """
        kind = creative_kind(snapshot)
        if kind == "image":
            return self.shot_image_url(
                snapshot["image_url"], width=snapshot.get("width"), height=snapshot.get("height")
            )
        if kind == "preview":
            return self.shot_preview(snapshot["preview_url"])
        return self.shot_text_ad(TextAd.from_snapshot(snapshot))

    def shot_image_url(self, url: str, *, width: int | None = None, height: int | None = None) -> Shot:
        """Draw the image at ``url`` (at ``width`` x ``height`` when given).

        Raises:
            UnsafeURLError: before any request. ScreenshotError: did not load, too big, timeout.
        """
        self._check(url)
        size = ""
        if width and height:
            width, height = min(int(width), self.max_width), min(int(height), self.max_height)
            size = f"width:{width}px;height:{height}px;"
        html = render_to_string("ai_agent/shot_image.html", {"url": url, "size_style": size})
        # Known size: the image is drawn at exactly width x height, so that is the viewport (less
        # to lay out and paint); unknown: room for any standard ad size.
        viewport = (width, height) if size else DEFAULT_VIEWPORT
        wait = "() => { const i = document.getElementById('shot'); return i && i.complete; }"
        check = "() => document.getElementById('shot').naturalWidth > 0"
        return self._run(
            html=html, viewport=viewport, selector="#shot", wait_js=wait, check_js=check, kind="image"
        )

    def shot_image_bytes(self, data: bytes, mime: str) -> Shot:
        """Redraw image bytes (JPEG, WebP, GIF …) as a PNG of the same size (no network).

        Raises:
            ScreenshotError: the browser cannot decode it, or it is larger than the maximum.
        """
        url = f"data:{mime};base64," + base64.b64encode(data).decode()
        html = render_to_string("ai_agent/shot_image.html", {"url": url, "size_style": ""})
        wait = "() => { const i = document.getElementById('shot'); return i && i.complete; }"
        check = "() => document.getElementById('shot').naturalWidth > 0"
        return self._run(
            html=html,
            viewport=(self.max_width, self.max_height),
            selector="#shot",
            wait_js=wait,
            check_js=check,
            kind="image",
            allow_network=False,
        )

    def shot_preview(self, link: str) -> Shot:
        """Draw a SerpApi preview ``link`` (content.js) in a host page and shoot what it drew.

        Raises:
            UnsafeURLError: before any request. ScreenshotError: the script drew nothing
            (blank or zero-sized), too big, or timeout.
        """
        self._check(link)
        parent_id, callback = preview_host_ids(link)
        html = render_to_string(
            "ai_agent/shot_preview.html", {"link": link, "parent_id": parent_id, "callback": callback}
        )
        wait = (
            "(id) => { const el = document.getElementById(id); return window.__adsparkPreviewDone === true"
            " || (el && el.firstElementChild && el.getBoundingClientRect().width > 0"
            " && el.getBoundingClientRect().height > 0); }"
        )
        shot = self._run(
            html=html,
            viewport=DEFAULT_VIEWPORT,
            selector=f"#{parent_id}",
            wait_js=wait,
            wait_arg=parent_id,
            settle=True,
            kind="preview",
        )
        try:
            blank = png_is_blank(shot.png)
        except ImageFormatError:
            blank = False
        if blank:
            raise ScreenshotError("The preview script drew nothing (a blank image).")
        return shot

    def shot_text_ad(self, ad: TextAd) -> Shot:
        """Draw a text ad as a 600 x 200 ad card (no network)."""
        html = render_to_string("ai_agent/shot_text_ad.html", {"ad": ad})
        return self._run(
            html=html, viewport=TEXT_CARD_SIZE, selector="#card", kind="text", allow_network=False
        )

    def render_html(self, html: str, *, width: int, height: int, allow_network: bool = False) -> Shot:
        """Render trusted ``html`` (our templates) into a ``width`` x ``height`` PNG.

        Raises:
            PageTooLargeError: larger than the maximum size. ScreenshotError: timeout.
        """
        if width > self.max_width or height > self.max_height:
            raise PageTooLargeError(f"{width}x{height} is larger than {self.max_width}x{self.max_height}.")
        return self._run(
            html=html, viewport=(width, height), selector=None, kind="html", allow_network=allow_network
        )

    def render_html_many(self, pages: list[tuple[str, int, int]]) -> list[Shot]:
        """Render several ``(html, width, height)`` pages at once (up to ``concurrency``).

        Raises:
            ScreenshotError: the first failure (the other shots still finish or are cancelled).
        """
        for _, width, height in pages:
            if width > self.max_width or height > self.max_height:
                raise PageTooLargeError(
                    f"{width}x{height} is larger than {self.max_width}x{self.max_height}."
                )

        async def all_shots() -> list[Shot]:
            return list(
                await asyncio.gather(
                    *(
                        self._shoot(html=h, viewport=(w, ht), selector=None, kind="html", allow_network=False)
                        for h, w, ht in pages
                    )
                )
            )

        return self._call(all_shots, timeout=self.timeout * max(1, len(pages)) + 30)

    # -- internals -----------------------------------------------------------------------------

    def _check(self, url: str) -> str:
        return check_url(url, allow_loopback=self.allow_loopback, allow_private=self.allow_private)

    def _run(self, **kwargs: Any) -> Shot:
        # Launch time is not shot time: the first call may spend ~2 s starting Chromium.
        return self._call(lambda: self._shoot(**kwargs), timeout=self.timeout + 60)

    async def _shoot(
        self,
        *,
        html: str,
        viewport: tuple[int, int],
        selector: str | None,
        kind: str,
        wait_js: str | None = None,
        wait_arg: Any = None,
        check_js: str | None = None,
        settle: bool = False,
        allow_network: bool = True,
    ) -> Shot:
        browser = await self._get_browser()
        assert self._semaphore is not None
        async with self._semaphore:
            context, page, state = await self._take_page(browser)
            state.allow_network = allow_network
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.timeout):
                    png = await self._capture(
                        page,
                        html=html,
                        viewport=viewport,
                        selector=selector,
                        wait_js=wait_js,
                        wait_arg=wait_arg,
                        check_js=check_js,
                        settle=settle,
                        freeze_animations=kind == "preview",
                    )
            except TimeoutError as exc:
                raise ScreenshotTimeout(f"The screenshot took longer than {self.timeout:.0f} s.") from exc
            except ScreenshotError:
                raise
            except Exception as exc:
                if state.too_large:
                    raise PageTooLargeError(f"The page downloads more than {self.max_bytes} bytes.") from exc
                if type(exc).__name__ == "TimeoutError":  # playwright's own TimeoutError
                    raise ScreenshotTimeout(f"The screenshot timed out: {exc}") from exc
                raise ScreenshotError(f"The browser could not render the page: {exc}") from exc
            finally:
                await context.close()
            if state.too_large:
                raise PageTooLargeError(f"The page downloads more than {self.max_bytes} bytes.")
        width, height = png_size(png)
        logger.debug("%s shot %dx%d in %.3f s", kind, width, height, time.monotonic() - started)
        return Shot(png=png, width=width, height=height, kind=kind, blocked=tuple(state.blocked))

    async def _new_page(self, browser: Any) -> tuple[Any, Any, _ShotState]:
        """A new browser context with one blank page, its route handlers already in place."""
        state = _ShotState(bytes_left=self.max_bytes)
        context = await browser.new_context(
            viewport={"width": DEFAULT_VIEWPORT[0], "height": DEFAULT_VIEWPORT[1]},
            device_scale_factor=1,
            service_workers="block",
            accept_downloads=False,
        )
        try:
            await context.route("**/*", self._route_handler(state))
            await context.route_web_socket("**/*", _refuse_websocket)
            page = await context.new_page()
        except BaseException:
            await context.close()
            raise
        page.set_default_timeout(self.timeout * 1000)
        return context, page, state

    async def _take_page(self, browser: Any) -> tuple[Any, Any, _ShotState]:
        """A never-used context + page for one shot: the spare made ahead if there is one, else a
        new one; either way a replacement spare is started in the background.

        Why: with Debian's Chromium (the full browser in headless mode) a new page costs far
        more than the shot itself — a new renderer process and the browser's per-tab setup,
        ~150-300 ms and ~300 ms of CPU measured on 2 cores, against ~50-100 ms to draw and
        encode a small page. Making the next shot's page while this one renders overlaps the
        two. The spare is a fresh context like any other (nothing is loaded into it before its
        shot), so isolation between shots is unchanged; it costs one idle renderer (~30 MB PSS).
        """
        spare = None
        while self._spares:
            candidate = self._spares.pop()
            if not candidate[1].is_closed():
                spare = candidate
                break
        self._start_spare(browser)
        if spare is not None:
            return spare
        return await self._new_page(browser)

    def _start_spare(self, browser: Any) -> None:
        # One spare: a single caller's next shot finds it ready; with concurrent callers the
        # others make their own page as before (one spare per caller would hold more renderers
        # for ~no gain on 2 cores, where the CPU is already the limit).
        if self._spares or self._spare_tasks:
            return

        async def make() -> None:
            try:
                made = await self._new_page(browser)
            except Exception:  # the browser went away: the next shot relaunches it
                logger.debug("spare page failed", exc_info=True)
                return
            if browser is self._browser and browser.is_connected():
                self._spares.append(made)
            else:
                await made[0].close()

        task = asyncio.get_running_loop().create_task(make())
        self._spare_tasks.add(task)
        task.add_done_callback(self._spare_tasks.discard)

    async def _capture(
        self,
        page: Any,
        *,
        html: str,
        viewport: tuple[int, int],
        selector: str | None,
        wait_js: str | None,
        wait_arg: Any,
        check_js: str | None,
        settle: bool,
        freeze_animations: bool,
    ) -> bytes:
        if tuple(viewport) != DEFAULT_VIEWPORT:
            await page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        # "load": the document, its images, scripts, styles and fonts in use are in (our pages
        # have no webfonts; fonts are local). Never "networkidle", which waits 500 ms more.
        await page.set_content(html, wait_until="load")
        if wait_js:
            # Polled in the page every 50 ms (not Playwright's wait_for_function, which first
            # loads its large injected script into the new page: ~30-60 ms of CPU per shot);
            # bounded by the shot's timeout.
            await page.evaluate(_WAIT_JS_TEMPLATE.replace("READY", wait_js), wait_arg)
        if check_js and not await page.evaluate(check_js):
            raise ScreenshotError("The image did not load (refused, missing or not an image).")
        if settle:
            await page.evaluate(_SETTLE_JS, PREVIEW_SETTLE_SECONDS * 1000)
        animations = "disabled" if freeze_animations else "allow"
        if selector is None:
            return await page.screenshot(type="png", animations=animations)
        box = await page.evaluate(_BOX_JS, selector)
        if not box or box["width"] < 1 or box["height"] < 1:
            raise ScreenshotError("Nothing was drawn (the element is empty).")
        if box["width"] > self.max_width or box["height"] > self.max_height:
            raise PageTooLargeError(
                f"The rendering is {box['width']:.0f}x{box['height']:.0f}, larger than "
                f"{self.max_width}x{self.max_height}."
            )
        if box["x"] >= 0 and box["y"] >= 0 and box["right"] <= viewport[0] and box["bottom"] <= viewport[1]:
            # Inside the viewport (all our own pages): one capture of that rectangle.
            clip = {k: box[k] for k in ("x", "y", "width", "height")}
            return await page.screenshot(type="png", clip=clip, animations=animations)
        element = await page.query_selector(selector)  # larger than the viewport: let Playwright scroll
        if element is None:
            raise ScreenshotError("Nothing was drawn (the element is empty).")
        return await element.screenshot(type="png", animations=animations)

    def _route_handler(self, state: _ShotState) -> Callable[[Any], Awaitable[None]]:
        async def handle(route: Any) -> None:
            url = route.request.url
            if url.startswith(("data:", "about:", "blob:")):
                await route.continue_()
                return
            if not state.allow_network:
                state.blocked.append(url)
                await route.abort("blockedbyclient")
                return
            if state.bytes_left <= 0:
                state.too_large = True
                await route.abort("blockedbyclient")
                return
            request = route.request
            try:
                # Python makes the request, not Chromium: the name is resolved once, checked,
                # and the connection goes to that address (no DNS-rebinding window). Blocking
                # I/O, so off the loop and parallel shots go on. No automatic redirects: a 3xx
                # goes back to the browser, whose next request comes through here again.
                response = await asyncio.to_thread(
                    pinned_request,
                    request.method,
                    url,
                    content=request.post_data_buffer,
                    headers=_forwardable_headers(request.headers),
                    timeout=self.timeout,
                    allow_loopback=self.allow_loopback,
                    allow_private=self.allow_private,
                    max_bytes=state.bytes_left,
                )
            except UnsafeURLError as exc:
                logger.info("screenshot refused %s: %s", url[:200], exc)
                state.blocked.append(url)
                await route.abort("blockedbyclient")
                return
            except ResponseTooLarge:
                state.too_large = True
                await route.abort("blockedbyclient")
                return
            except Exception as exc:
                logger.info("screenshot sub-request failed %s: %s", url[:200], exc)
                await route.abort("failed")
                return
            state.bytes_left -= len(response.content)
            await route.fulfill(
                status=response.status_code,
                headers=dict(response.headers),
                body=response.content,
            )

        return handle


# Headers about Chromium's own connection, not the request (the pinned client
# sets Host, the encodings it can decode and manages the connection itself).
_HOP_BY_HOP = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "accept-encoding",
    }
)


def _forwardable_headers(headers: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key.lower() not in _HOP_BY_HOP}


async def _refuse_websocket(websocket: Any) -> None:
    await websocket.close(code=1008, reason="not allowed")


# Resolves once the readiness test READY (a JS function of one argument) is true, polled every
# 50 ms in the page.
_WAIT_JS_TEMPLATE = """(arg) => new Promise((resolve) => {
  const ready = READY;
  const poll = () => { if (ready(arg)) { resolve(true); } else { setTimeout(poll, 50); } };
  poll();
})"""

# The element's box in whole CSS pixels (enclosing its fractional box, as Playwright's element
# screenshots do), in page coordinates, or null.
_BOX_JS = """(selector) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  const x = Math.floor(r.left + scrollX), y = Math.floor(r.top + scrollY);
  const right = Math.ceil(r.right + scrollX), bottom = Math.ceil(r.bottom + scrollY);
  return {x, y, right, bottom, width: r.width && right - x, height: r.height && bottom - y};
}"""


# Resolves when every <img> and <iframe> in the page has loaded (or after ``ms``).
_SETTLE_JS = """(ms) => new Promise((resolve) => {
  const pending = [...document.images].filter((i) => !i.complete);
  const frames = [...document.querySelectorAll('iframe')];
  if (!pending.length) { setTimeout(resolve, frames.length ? 100 : 0); return; }
  let left = pending.length;
  const done = () => { left -= 1; if (left <= 0) resolve(); };
  pending.forEach((i) => { i.addEventListener('load', done); i.addEventListener('error', done); });
  setTimeout(resolve, ms);
})"""


_service: ScreenshotService | None = None
_service_lock = threading.Lock()


def get_screenshot_service() -> ScreenshotService:
    """This process's shared :class:`ScreenshotService` (created on first use; after a fork the
    child gets its own)."""
    global _service
    with _service_lock:
        if _service is None or _service._pid != os.getpid():
            _service = ScreenshotService()
        return _service


def shutdown_screenshot_service(**_: Any) -> None:
    """Close this process's browser, if one was launched (signal handler and atexit hook)."""
    global _service
    with _service_lock:
        service, _service = _service, None
    if service is not None and service._pid == os.getpid():
        service.close()


worker_process_shutdown.connect(shutdown_screenshot_service, weak=False)
atexit.register(shutdown_screenshot_service)
