"""A local server that speaks SerpApi's Google Ads Transparency Center API from recordings.

It answers ``GET /search`` (and ``/search.json``) for the engines
``google_ads_transparency_center`` and ``google_ads_transparency_center_ad_details`` with real
SerpApi responses recorded in ``shared/fixtures/serpapi/responses/`` (see the README there), so
the real ``serpapi.Client`` -- HTTP, status codes, errors, pagination -- runs end to end in tests,
the offline demo and benchmarks. Standard library only (the HTTP side is
:mod:`local_services.http_base`, shared with the Dify and OpenAI fakes): it starts instantly and
needs no Django.

Run it::

    cd backend && python -m local_services.serpapi_server --port 8765 [--verbose]

or in-process (pytest fixtures, the demo)::

    with LocalSerpApiServer(responses_dir=path, api_key="test-key", port=0) as server:
        client = serpapi.Client(api_key="test-key")
        client.BASE_DOMAIN = server.url

Behaviour, as faithful to the live API as the recordings show:

* ``api_key`` must equal the configured key (any non-empty key when none is configured), else
  401 ``{"error": "Invalid API key. ..."}``. Unknown ``engine`` (SerpApi's default is
  ``google``) -> 400. Bad parameters -> 400 ``{"error": "..."}``: the list engine needs
  ``advertiser_id`` or ``text``; the details engine needs ``advertiser_id`` and ``creative_id``;
  ``region`` must be one of the numeric geo codes in ``spec/regions.json``; on the list engine
  ``num`` is an integer 1..100, ``creative_format`` is text/image/video, ``platform`` is
  PLAY/MAPS/SEARCH/SHOPPING/YOUTUBE and ``start_date``/``end_date`` are YYYYMMDD.
* A request is answered by the recording whose ``search_parameters`` match it: same engine,
  ``advertiser_id`` (as a set of comma-separated ids), ``text`` (case-insensitive) and
  ``creative_id``; the same ``region`` if the request gives one; and the same value for every
  filter (creative_format, platform, start_date, end_date, political_ads, num) that both the
  recording and the request carry. A ``creative_format`` the recording was not made with
  filters its ``ad_creatives`` by ``format``. When several recordings match, the one sharing the
  most given parameters wins (then the first by name).
* No match, or nothing left after filtering -> HTTP 200 with SerpApi's "no results" shape (a
  top-level ``error``, ``search_information.results_state == "Fully empty"``). Recordings that
  are themselves "no results" (a top-level ``error``) are served as they are.
* Every answer gets a fresh ``search_metadata`` (24-hex ``id``, ``json_endpoint`` on this
  server, ``created_at``/``processed_at`` as "YYYY-MM-DD HH:MM:SS UTC", ``total_time_taken`` in
  seconds) and ``search_parameters`` echoing the request (strings, without ``api_key`` and
  ``next_page_token``). The recorded ``raw_html_file``/``prettify_html_file`` links are dropped:
  this server cannot serve them. ``serpapi_details_link`` is pointed at this server.
  ``GET /searches/<id>.json`` returns one of the last 200 answers (SerpApi's Search Archive).
* ``media_host_base`` (``--media-host-base URL``, off by default) rewrites the Google ad hosts
  of the creatives' images and preview scripts (``GOOGLE_MEDIA_HOSTS``) in every answer to that
  base URL, path and query kept, so a local stand-in can serve them (the e2e run does).
* Pagination is re-done locally. The recordings' own ``serpapi_pagination`` is dropped, because
  its token points at a page nobody recorded. Instead, when the page size (``num``, default 40
  like SerpApi) is smaller than the recording's ``ad_creatives``, the answer is a slice plus
  ``serpapi_pagination = {"next_page_token": TOKEN, "next": "http://<Host>/search.json?..."}``;
  the key is absent on the last page, as on the live API. TOKEN is standard base64 of a small
  JSON ``{recording, offset, num, format}`` with a random salt, built so that it always holds
  ``+``, ``/`` and ``=`` like real tokens: a client that forgets to URL-encode it gets a 400
  ``{"error": "Invalid next_page_token."}`` here as it would there. ``total_results`` stays as
  recorded (a rounded estimate on the live API too).
* ``GET /account.json`` returns SerpApi's account shape; its usage counters count every
  ``/search`` request answered (any status) since start or the last reset.
* Faults (``inject_fault`` or ``POST /_control/faults``) apply to the next ``count`` /search
  requests, optionally only those for one engine, in the order they were injected.

Control endpoints (no ``api_key``; for a server running as a separate process), JSON in and out:
``POST /_control/faults`` ``{"status", "count", "delay", "body", "engine"}``,
``POST /_control/reset``, ``GET /_control/requests`` -> ``{"search_count", "requests"}``,
``POST /_control/responses`` ``{"dir": "..."}``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from local_services.http_base import LocalHTTPServer, Reply

LIST_ENGINE = "google_ads_transparency_center"
DETAILS_ENGINE = "google_ads_transparency_center_ad_details"
ENGINES = (LIST_ENGINE, DETAILS_ENGINE)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_RESPONSES_DIR = Path(__file__).resolve().parents[3] / "shared/fixtures/serpapi/responses"

# SerpApi's wording, from the recordings and the live API.
INVALID_API_KEY = "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key"
NO_RESULTS = {
    LIST_ENGINE: "Google Ads Transparency Center hasn't returned any results for this search.",
    DETAILS_ENGINE: ("Google Ads Transparency Center Ad Details hasn't returned any results for this query."),
}
INVALID_TOKEN = "Invalid next_page_token."  # noqa: S105 - an error message, not a secret

# From spec/params_google_ads_transparency_center.json: "`40` (default) ... `100` returns 100".
DEFAULT_NUM = 40
MAX_NUM = 100
CREATIVE_FORMATS = ("text", "image", "video")
PLATFORMS = ("PLAY", "MAPS", "SEARCH", "SHOPPING", "YOUTUBE")
# Recording parameters that narrow a search; they must agree when both sides carry them.
FILTERS = ("creative_format", "platform", "start_date", "end_date", "political_ads", "num")
NOT_ECHOED = ("api_key", "next_page_token")

FAULT_BODIES = (None, "malformed", "html", "empty")
MALFORMED_BODY = b'{"search_metadata": {"id": "x"'
HTML_BODY = b"<html><body>Bad Gateway</body></html>"
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

# Enough for a demo or benchmark run; oldest entries go first, counters keep counting.
REQUEST_LOG_LIMIT = 100_000
ARCHIVE_LIMIT = 200
# Where the recorded creatives' images (/archive/simgad/<id>) and preview scripts
# (/ads/preview/content.js) live; ``media_host_base`` moves them elsewhere.
GOOGLE_MEDIA_HOSTS = ("https://tpc.googlesyndication.com", "https://displayads-formats.googleusercontent.com")
SEARCHES_PER_MONTH = 100_000
RATE_LIMIT_PER_HOUR = 100_000

# Bytes that base64-encode to "+/+/": every token then carries `+` and `/` like real ones.
_TOKEN_MAGIC = b"\xfb\xff\xbf"
_TOKEN_SALT_BYTES = 4


class RecordingError(ValueError):
    """A file or dict given as a recording is not a SerpApi answer this server can serve."""


@dataclass(frozen=True)
class Recording:
    """One recorded SerpApi response, as parsed JSON, and the name it is known by (file stem)."""

    name: str
    data: dict[str, Any]

    @property
    def params(self) -> dict[str, str]:
        """The recording's ``search_parameters``, values as strings."""
        return {k: str(v) for k, v in self.data.get("search_parameters", {}).items()}

    @property
    def engine(self) -> str:
        return self.params.get("engine", "")

    @property
    def is_no_results(self) -> bool:
        """True for recordings of SerpApi's "no results" answer (a top-level ``error``)."""
        return "error" in self.data


@dataclass
class Fault:
    """A fault waiting for the next ``remaining`` /search requests (for ``engine``, or any).

    ``delay`` is in seconds; ``status`` None with a ``body`` means 200; ``status`` and ``body``
    both None means the request is answered normally after the delay.
    """

    status: int | None
    remaining: int
    delay: float
    body: str | None
    engine: str | None


def json_reply(status: int, payload: dict[str, Any]) -> Reply:
    # SerpApi sends UTF-8 as is (e.g. the curly apostrophe in ARC'TERYX), not \u escapes.
    return Reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), JSON_TYPE)


def rewrite_media_hosts(body: bytes, base_url: str) -> bytes:
    """``body`` (UTF-8 JSON as ``json_reply`` writes it: slashes unescaped) with every
    ``GOOGLE_MEDIA_HOSTS`` origin replaced by ``base_url`` (paths and queries kept)."""
    base = base_url.rstrip("/").encode()
    for host in GOOGLE_MEDIA_HOSTS:
        body = body.replace(host.encode() + b"/", base + b"/")
    return body


def error_reply(status: int, message: str) -> Reply:
    return json_reply(status, {"error": message})


def load_recordings(responses_dir: Path) -> dict[str, Recording]:
    """Read every ``*.json`` in ``responses_dir`` as a recording named by its file stem.

    Raises:
        FileNotFoundError: the directory does not exist.
        RecordingError: a file is not JSON or not a recording of a supported engine.
    """
    responses_dir = Path(responses_dir)
    if not responses_dir.is_dir():
        raise FileNotFoundError(f"responses directory not found: {responses_dir}")
    recordings = {}
    for path in sorted(responses_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RecordingError(f"{path} is not JSON: {exc}") from exc
        recordings[path.stem] = make_recording(data, path.stem)
    return recordings


def make_recording(data: dict[str, Any], name: str) -> Recording:
    """Check that ``data`` looks like a SerpApi answer for a supported engine and wrap it.

    Raises:
        RecordingError: no ``search_parameters.engine``, or an engine this server does not speak.
    """
    if not isinstance(data, dict) or not isinstance(data.get("search_parameters"), dict):
        raise RecordingError(f"recording {name!r} has no search_parameters")
    recording = Recording(name=name, data=data)
    if recording.engine not in ENGINES:
        raise RecordingError(f"recording {name!r} is for unsupported engine {recording.engine!r}")
    return recording


def load_region_codes(regions_file: Path) -> frozenset[str]:
    """Read SerpApi's region list (``[["2840", "United States"], ...]``) into a set of codes."""
    return frozenset(str(code) for code, _name in json.loads(regions_file.read_text("utf-8")))


def default_regions_file(responses_dir: Path) -> Path:
    """``spec/regions.json`` beside ``responses_dir``, else the one in the shared fixtures."""
    beside = Path(responses_dir).resolve().parent / "spec" / "regions.json"
    return beside if beside.is_file() else DEFAULT_RESPONSES_DIR.parent / "spec" / "regions.json"


def encode_page_token(*, recording: str, offset: int, num: int, creative_format: str | None) -> str:
    """Return a standard-base64 token for the page of ``num`` creatives starting at ``offset``."""
    payload = json.dumps({"r": recording, "o": offset, "n": num, "f": creative_format})
    raw = _TOKEN_MAGIC + secrets.token_bytes(_TOKEN_SALT_BYTES) + payload.encode("utf-8")
    if len(raw) % 3 == 0:
        raw += b" "  # JSON ignores it; the token now ends in "=" padding like real ones
    return base64.b64encode(raw).decode("ascii")


def decode_page_token(token: str) -> dict[str, Any] | None:
    """Return ``{"r": recording, "o": offset, "n": num, "f": format}``, or None if garbled."""
    try:
        raw = base64.b64decode(token, validate=True)
        if not raw.startswith(_TOKEN_MAGIC):
            return None
        page = json.loads(raw[len(_TOKEN_MAGIC) + _TOKEN_SALT_BYTES :])
    except (binascii.Error, ValueError):
        return None
    valid = (
        isinstance(page, dict)
        and isinstance(page.get("r"), str)
        and isinstance(page.get("o"), int)
        and isinstance(page.get("n"), int)
        and page["o"] >= 0
        and 1 <= page["n"] <= MAX_NUM
        and page.get("f") in (None, *CREATIVE_FORMATS)
    )
    return page if valid else None


def _ids(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.strip().casefold()


def _filter_value(name: str, value: str) -> str:
    # political_ads is a checkbox: "true"/"True" are the same request.
    return value.lower() if name == "political_ads" else value


def match_score(recording: Recording, engine: str, params: dict[str, str]) -> int | None:
    """How well ``recording`` answers a request with ``params``: None = not at all, else the
    number of optional parameters (region, filters) it shares with the request."""
    recorded = recording.params
    if recording.engine != engine:
        return None
    if _ids(recorded.get("advertiser_id")) != _ids(params.get("advertiser_id")):
        return None
    if engine == LIST_ENGINE and _casefold(recorded.get("text")) != _casefold(params.get("text")):
        return None
    if engine == DETAILS_ENGINE and recorded.get("creative_id") != params.get("creative_id"):
        return None
    score = 0
    if "region" in params:
        if recorded.get("region") != params["region"]:
            return None
        score += 1
    if engine == LIST_ENGINE:
        for name in FILTERS:
            if name in recorded and name in params:
                if _filter_value(name, recorded[name]) != _filter_value(name, params[name]):
                    return None
                score += 1
    return score


def validate_params(engine: str, params: dict[str, str], region_codes: frozenset[str]) -> str:
    """Return SerpApi-style error text for a bad request, or "" when the request is valid."""
    if engine == LIST_ENGINE:
        if not params.get("advertiser_id") and not params.get("text"):
            return "Missing query `advertiser_id` or `text` parameter."
    else:
        for name in ("advertiser_id", "creative_id"):
            if not params.get(name):
                return f"Missing query `{name}` parameter."
    region = params.get("region")
    if region is not None and region not in region_codes:
        return f"Unsupported `{region}` region. Use a numeric Google geo code such as 2840 (United States)."
    if engine == DETAILS_ENGINE:
        return ""
    num = params.get("num")
    if num is not None and not (num.isdecimal() and 1 <= int(num) <= MAX_NUM):
        return f"Invalid `num` parameter: `{num}`. It must be an integer from 1 to {MAX_NUM}."
    choices = {"creative_format": CREATIVE_FORMATS, "platform": PLATFORMS}
    for name, allowed in choices.items():
        if name in params and params[name] not in allowed:
            return f"Unsupported `{params[name]}` {name}. Available options: {', '.join(allowed)}."
    for name in ("start_date", "end_date"):
        if name in params:
            try:
                datetime.strptime(params[name], "%Y%m%d")
            except ValueError:
                return f"Invalid `{name}` parameter: `{params[name]}`. Use the format YYYYMMDD."
    return ""


def fault_message(status: int) -> str:
    """The ``error`` text an injected fault with HTTP ``status`` answers with."""
    if status == 429:
        return "Your account has run out of searches."
    if status >= 500:
        return "Internal server error."
    messages = {
        400: "Invalid search parameters.",
        401: INVALID_API_KEY,
        403: "Your account is not allowed to use this API.",
        404: "Not found.",
    }
    return messages.get(status, f"{status} {_status_phrase(status)}.")


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def fault_reply(fault: Fault) -> Reply:
    status = fault.status or 200
    if fault.body == "malformed":
        return Reply(status, MALFORMED_BODY, JSON_TYPE)
    if fault.body == "html":
        return Reply(status, HTML_BODY, HTML_TYPE)
    if fault.body == "empty":
        return Reply(status, b"", JSON_TYPE)
    return error_reply(status, fault_message(status))


def _utc_timestamp(unix_seconds: float) -> str:
    return datetime.fromtimestamp(unix_seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class LocalSerpApiServer(LocalHTTPServer):
    """A SerpApi-compatible HTTP server over recorded responses (see the module docstring).

    All methods are thread-safe: Celery worker threads may hit the server while a test injects
    faults or reads the request log.
    """

    def __init__(
        self,
        *,
        responses_dir: Path = DEFAULT_RESPONSES_DIR,
        api_key: str | None = None,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        regions_file: Path | None = None,
        verbose: bool = False,
        media_host_base: str | None = None,
    ) -> None:
        """Load the recordings and region codes; nothing listens until ``start()``.

        ``api_key`` None accepts any non-empty key. ``port`` 0 picks a free port.
        ``regions_file`` defaults to ``spec/regions.json`` beside ``responses_dir``, else the
        shared fixtures' copy. ``verbose`` logs one line per request to stderr.
        ``media_host_base`` (e.g. ``http://127.0.0.1:9000``, no trailing slash needed): serve
        every ``GOOGLE_MEDIA_HOSTS`` URL in the answers on that base instead (None: as recorded);
        settable later through the attribute of the same name.

        Raises:
            FileNotFoundError, RecordingError: see ``load_recordings``.
            OSError, ValueError: the regions file cannot be read or parsed.
        """
        super().__init__(host=host, port=port, verbose=verbose)
        self.responses_dir = Path(responses_dir)
        self.api_key = api_key
        self.account_id = secrets.token_hex(12)
        self._region_codes = load_region_codes(regions_file or default_regions_file(self.responses_dir))
        self._lock = threading.Lock()
        self._recordings = load_recordings(self.responses_dir)
        self._faults: list[Fault] = []
        self._request_log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)
        self._search_times: deque[float] = deque()
        self._search_count = 0
        self._archive: OrderedDict[str, bytes] = OrderedDict()
        self.media_host_base = media_host_base.rstrip("/") if media_host_base else None

    # -- recordings, faults, log ---------------------------------------------------------------

    @property
    def recording_names(self) -> list[str]:
        with self._lock:
            return sorted(self._recordings)

    def add_recording(self, data: dict[str, Any], name: str) -> None:
        """Register (or replace) a recorded SerpApi answer under ``name``.

        Raises:
            RecordingError: ``data`` is not a recording of a supported engine.
        """
        recording = make_recording(data, name)
        with self._lock:
            self._recordings = {**self._recordings, name: recording}

    def use_responses(self, responses_dir: Path) -> None:
        """Replace all recordings with those in ``responses_dir`` (region codes are kept).

        Raises:
            FileNotFoundError, RecordingError: see ``load_recordings``; the old set stays.
        """
        recordings = load_recordings(Path(responses_dir))
        with self._lock:
            self._recordings = recordings
            self.responses_dir = Path(responses_dir)

    def inject_fault(
        self,
        *,
        status: int | None = None,
        count: int = 1,
        delay: float = 0.0,
        body: str | None = None,
        engine: str | None = None,
    ) -> None:
        """Make the next ``count`` /search requests (only ``engine``'s, if given) misbehave.

        ``delay`` seconds are slept first (a delay alone then answers normally). ``status``
        answers ``{"error": ...}`` with that code (429: searches used up, 5xx: internal error).
        ``body`` replaces the body: "malformed" (truncated JSON), "html" (a proxy's HTML page)
        or "empty" (zero bytes), with ``status`` or 200. Faults queue in injection order.

        Raises:
            ValueError: nothing to inject, or an out-of-range argument.
        """
        if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
            raise ValueError(f"status must be an HTTP status code, not {status!r}")
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a positive integer, not {count!r}")
        if not isinstance(delay, (int, float)) or delay < 0:
            raise ValueError(f"delay must be seconds >= 0, not {delay!r}")
        if body not in FAULT_BODIES:
            raise ValueError(f"body must be one of {FAULT_BODIES}, not {body!r}")
        if engine is not None and engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        if status is None and body is None and not delay:
            raise ValueError("a fault needs a status, a body or a delay")
        fault = Fault(status=status, remaining=count, delay=float(delay), body=body, engine=engine)
        with self._lock:
            self._faults.append(fault)

    @property
    def pending_faults(self) -> int:
        """How many /search requests the queued faults will still hit."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the log of /search requests answered, oldest first.

        Each entry: ``{"path": "/search", "params": {name: str} (no api_key), "status": int,
        "time": float Unix seconds when the request arrived}``.
        """
        with self._lock:
            return [{**entry, "params": dict(entry["params"])} for entry in self._request_log]

    @property
    def search_count(self) -> int:
        """Number of /search requests answered, any status, since start or ``reset()``."""
        with self._lock:
            return self._search_count

    def reset(self) -> None:
        """Forget faults, the request log, usage counters and archived answers."""
        with self._lock:
            self._faults.clear()
            self._request_log.clear()
            self._search_times.clear()
            self._search_count = 0
            self._archive.clear()

    # -- request handling (called from handler threads) ----------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        """Answer one HTTP request: ``target`` is path + query (``url`` names the server)."""
        host = headers.get("Host", "")
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        base_url = f"http://{host}" if host else self.url
        if path.startswith("/_control/"):
            return self._control(method, path, body)
        if method != "GET":
            return error_reply(405, f"Method {method} is not allowed.")
        if path in ("/search", "/search.json"):
            return self._search(path, params, base_url)
        if path in ("/account", "/account.json"):
            return self._account(params)
        if path.startswith("/searches/"):
            return self._archived(path.removeprefix("/searches/").removesuffix(".json"), params)
        return error_reply(404, "Not found.")

    def _key_ok(self, api_key: str) -> bool:
        if self.api_key is None:
            return bool(api_key)
        return secrets.compare_digest(api_key.encode(), self.api_key.encode())

    def _take_fault(self, engine: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.engine is None or fault.engine == engine:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _search(self, path: str, params: dict[str, str], base_url: str) -> Reply:
        received = time.time()
        started = time.monotonic()
        engine = params.get("engine") or "google"
        fault = self._take_fault(engine)
        if fault is not None and fault.delay:
            self._stopping.wait(fault.delay)
        if fault is not None and (fault.status is not None or fault.body is not None):
            reply = fault_reply(fault)
        else:
            reply = self._answer_search(engine, params, base_url, started)
        logged = {k: v for k, v in params.items() if k != "api_key"}
        with self._lock:
            self._search_count += 1
            self._search_times.append(received)
            self._request_log.append(
                {"path": path, "params": logged, "status": reply.status, "time": received}
            )
        return reply

    def _answer_search(self, engine: str, params: dict[str, str], base_url: str, started: float) -> Reply:
        if not self._key_ok(params.get("api_key", "")):
            return error_reply(401, INVALID_API_KEY)
        if engine not in ENGINES:
            return error_reply(400, f"Unsupported `{engine}` search engine.")
        problem = validate_params(engine, params, self._region_codes)
        if problem:
            return error_reply(400, problem)
        with self._lock:
            recordings = self._recordings
        token = params.get("next_page_token")
        if token is not None:
            page = decode_page_token(token)
            recording = recordings.get(page["r"]) if page else None
            if page is None or recording is None or recording.engine != engine:
                return error_reply(400, INVALID_TOKEN)
            offset, num, creative_format = page["o"], page["n"], page["f"]
        else:
            recording = self._best_match(recordings.values(), engine, params)
            offset = 0
            num = int(params.get("num", DEFAULT_NUM))
            creative_format = params.get("creative_format")
        payload = self._render(recording, engine, params, offset, num, creative_format, base_url)
        if payload is None:
            return error_reply(400, INVALID_TOKEN)
        return self._finish(payload, engine, params, recording, base_url, started)

    @staticmethod
    def _best_match(recordings: Iterable[Recording], engine: str, params: dict[str, str]) -> Recording | None:
        best: tuple[int, str] | None = None
        found: Recording | None = None
        for recording in recordings:
            score = match_score(recording, engine, params)
            if score is None:
                continue
            rank = (-score, recording.name)
            if best is None or rank < best:
                best, found = rank, recording
        return found

    def _render(
        self,
        recording: Recording | None,
        engine: str,
        params: dict[str, str],
        offset: int,
        num: int,
        creative_format: str | None,
        base_url: str,
    ) -> dict[str, Any] | None:
        """The answer's body without metadata; None when ``offset`` is past the end."""
        if recording is None:
            return self._no_results(engine)
        body = {k: v for k, v in recording.data.items() if k != "serpapi_pagination"}
        if engine == DETAILS_ENGINE or recording.is_no_results:
            return body
        creatives = recording.data.get("ad_creatives") or []
        if creative_format is not None:
            creatives = [c for c in creatives if c.get("format") == creative_format]
        if offset and offset >= len(creatives):
            return None
        if not creatives:
            return self._no_results(engine)
        body["ad_creatives"] = [
            self._localize_creative(creative, base_url) for creative in creatives[offset : offset + num]
        ]
        if offset + num < len(creatives):
            token = encode_page_token(
                recording=recording.name,
                offset=offset + num,
                num=num,
                creative_format=creative_format,
            )
            # The live API lists the parameters alphabetically and form-encodes them.
            query = {k: v for k, v in params.items() if k not in NOT_ECHOED}
            query["next_page_token"] = token
            body["serpapi_pagination"] = {
                "next_page_token": token,
                "next": f"{base_url}/search.json?{urlencode(sorted(query.items()))}",
            }
        return body

    @staticmethod
    def _no_results(engine: str) -> dict[str, Any]:
        return {"search_information": {"results_state": "Fully empty"}, "error": NO_RESULTS[engine]}

    @staticmethod
    def _localize_creative(creative: dict[str, Any], base_url: str) -> dict[str, Any]:
        link = creative.get("serpapi_details_link")
        if isinstance(link, str) and link.startswith("https://serpapi.com/"):
            return {
                **creative,
                "serpapi_details_link": base_url + link[len("https://serpapi.com") :],
            }
        return creative

    def _finish(
        self,
        payload: dict[str, Any],
        engine: str,
        params: dict[str, str],
        recording: Recording | None,
        base_url: str,
        started: float,
    ) -> Reply:
        search_id = secrets.token_hex(12)
        now = _utc_timestamp(time.time())
        metadata: dict[str, Any] = {
            "id": search_id,
            "status": "Success",
            "json_endpoint": f"{base_url}/searches/{search_id}.json",
            "created_at": now,
            "processed_at": now,
        }
        page_url_key = f"{engine}_url"
        if recording is not None and page_url_key in recording.data.get("search_metadata", {}):
            metadata[page_url_key] = recording.data["search_metadata"][page_url_key]
        metadata["total_time_taken"] = round(time.monotonic() - started, 2)
        echoed = {"engine": engine}
        echoed.update({k: v for k, v in params.items() if k not in NOT_ECHOED})
        body = {"search_metadata": metadata, "search_parameters": echoed}
        body.update({k: v for k, v in payload.items() if k not in body})
        reply = json_reply(200, body)
        if self.media_host_base:
            reply = Reply(200, rewrite_media_hosts(reply.body, self.media_host_base), JSON_TYPE)
        with self._lock:
            self._archive[search_id] = reply.body
            while len(self._archive) > ARCHIVE_LIMIT:
                self._archive.popitem(last=False)
        return reply

    def _archived(self, search_id: str, params: dict[str, str]) -> Reply:
        if not self._key_ok(params.get("api_key", "")):
            return error_reply(401, INVALID_API_KEY)
        with self._lock:
            body = self._archive.get(search_id)
        if body is None:
            return error_reply(404, f"Search `{search_id}` not found.")
        return Reply(200, body, JSON_TYPE)

    def _account(self, params: dict[str, str]) -> Reply:
        api_key = params.get("api_key", "")
        if not self._key_ok(api_key):
            return error_reply(401, INVALID_API_KEY)
        now = time.time()
        this_hour_start = now - now % 3600
        last_hour_start = this_hour_start - 3600
        with self._lock:
            while self._search_times and self._search_times[0] < last_hour_start:
                self._search_times.popleft()
            usage = self._search_count
            this_hour = sum(1 for t in self._search_times if t >= this_hour_start)
            last_hour = len(self._search_times) - this_hour
        searches_left = max(SEARCHES_PER_MONTH - usage, 0)
        return json_reply(
            200,
            {
                "account_id": self.account_id,
                "api_key": api_key,
                "account_email": "local@example.invalid",
                "plan_id": "local",
                "plan_name": "Local server",
                "searches_per_month": SEARCHES_PER_MONTH,
                "plan_searches_left": searches_left,
                "extra_credits": 0,
                "total_searches_left": searches_left,
                "this_month_usage": usage,
                "this_hour_searches": this_hour,
                "last_hour_searches": last_hour,
                "account_rate_limit_per_hour": RATE_LIMIT_PER_HOUR,
            },
        )

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        if path == "/_control/requests" and method == "GET":
            return json_reply(200, {"search_count": self.search_count, "requests": self.requests})
        if method != "POST":
            return error_reply(405, f"Method {method} is not allowed on {path}.")
        try:
            options = json.loads(body or b"{}")
            if not isinstance(options, dict):
                raise TypeError("the body must be a JSON object")
            if path == "/_control/faults":
                self.inject_fault(
                    status=options.get("status"),
                    count=options.get("count", 1),
                    delay=options.get("delay", 0.0),
                    body=options.get("body"),
                    engine=options.get("engine"),
                )
                return json_reply(200, {"ok": True, "pending_faults": self.pending_faults})
            if path == "/_control/reset":
                self.reset()
                return json_reply(200, {"ok": True})
            if path == "/_control/responses":
                if not isinstance(options.get("dir"), str):
                    raise ValueError('the body needs "dir": a directory of recordings')
                self.use_responses(Path(options["dir"]))
                return json_reply(200, {"ok": True, "recordings": self.recording_names})
        except (ValueError, TypeError, OSError) as exc:
            return error_reply(400, str(exc))
        return error_reply(404, "Not found.")


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_services.serpapi_server",
        description="Serve recorded SerpApi Google Ads Transparency Center responses locally.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (%(default)s; 0 = pick a free one)"
    )
    parser.add_argument(
        "--responses",
        type=Path,
        default=Path(os.environ.get("LOCAL_SERPAPI_RESPONSES") or DEFAULT_RESPONSES_DIR),
        help="directory of recorded responses (env LOCAL_SERPAPI_RESPONSES; default %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("LOCAL_SERPAPI_API_KEY") or None,
        help="the only api_key accepted (env LOCAL_SERPAPI_API_KEY; default: any non-empty key)",
    )
    parser.add_argument(
        "--regions",
        type=Path,
        default=None,
        help="SerpApi's region list (default: spec/regions.json beside the responses directory)",
    )
    parser.add_argument(
        "--media-host-base",
        default=os.environ.get("LOCAL_SERPAPI_MEDIA_HOST_BASE") or None,
        metavar="URL",
        help="serve the creatives' Google image/preview URLs on this base URL instead "
        "(env LOCAL_SERPAPI_MEDIA_HOST_BASE; default: as recorded)",
    )
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the server until Ctrl-C or SIGTERM. Exit codes: 0 clean stop, 1 cannot start, 2 usage."""
    args = build_parser().parse_args(argv)
    try:
        server = LocalSerpApiServer(
            responses_dir=args.responses,
            api_key=args.api_key,
            host=args.host,
            port=args.port,
            regions_file=args.regions,
            verbose=args.verbose,
            media_host_base=args.media_host_base,
        ).start()
    except (OSError, ValueError) as exc:
        print(f"serpapi_server: cannot start: {exc}", file=sys.stderr)
        return 1
    # `docker stop` and honcho send SIGTERM: treat it like Ctrl-C. SIGINT is set explicitly
    # because a shell starts background jobs (`... &`) with SIGINT ignored.
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    count = len(server.recording_names)
    print(
        f"Local SerpApi server on {server.url} serving {count} recordings from "
        f"{server.responses_dir.resolve()}",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
