"""The one client for SerpApi's Google Ads Transparency Center engines.

Wraps the official ``serpapi.Client`` (its ``BASE_DOMAIN`` set from ``SERPAPI_BASE_URL``, so a
local compatible server can stand in), takes a cluster-wide rate-limit slot before every
request, and classifies every failure:

- transient (:class:`SerpApiTransientError`): HTTP 429, 5xx, timeouts, connection errors and
  our own rate limit — retry with backoff;
- permanent (:class:`SerpApiPermanentError`): HTTP 400, 401, 403 (and other 4xx) and bodies
  that are not a JSON object — never retried;
- "no results" is not an error: SerpApi answers HTTP 200 with a top-level ``error`` string,
  returned as a page with ``no_results=True`` and no creatives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import redis
import requests
import serpapi
from django.conf import settings

from core.redaction import redact

from .metrics import SERPAPI_SEARCHES
from .queries import ENGINE_DETAILS, FetchQuery
from .ratelimit import RateLimitExceeded, SlidingWindowLimiter

logger = logging.getLogger(__name__)


class SerpApiError(Exception):
    """A SerpApi request failed. ``status_code`` is the HTTP status (None without a response).

    The message is redacted (:func:`core.redaction.redact`); the causing exception is not
    chained (``from None``) where its text would quote the key.
    """

    transient = False

    def __init__(self, message: str, *, status_code: int | None = None):
        # Transport errors quote the request URL, which carries api_key: mask it here, once,
        # so neither logs nor stored errors nor Celery results and events ever hold it.
        super().__init__(redact(message))
        self.status_code = status_code


class SerpApiTransientError(SerpApiError):
    """Worth retrying later: 429, 5xx, timeout, connection error, local rate limit.

    ``retry_after`` (seconds) is set when the wait is known (our rate limiter).
    """

    transient = True

    def __init__(self, message: str, *, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class SerpApiPermanentError(SerpApiError):
    """Retrying cannot help: bad parameters (400), bad key (401), forbidden (403), malformed body."""


@dataclass
class SerpApiPage:
    """One page of ``google_ads_transparency_center`` results.

    ``creatives`` is the raw ``ad_creatives`` list (dicts with SerpApi's field names);
    ``next_page_token`` is ``serpapi_pagination.next_page_token`` or None on the last page;
    ``no_results`` is True for SerpApi's "no results" answer, whose text is ``message``;
    ``total_results`` is SerpApi's rounded estimate (``search_information.total_results``).
    """

    data: dict[str, Any]
    creatives: list[dict[str, Any]] = field(default_factory=list)
    next_page_token: str | None = None
    no_results: bool = False
    message: str = ""
    total_results: int | None = None


def _error_text(exc: serpapi.HTTPError) -> str:
    detail = getattr(exc, "error", None)
    if not detail:
        response = getattr(exc, "response", None)
        detail = (response.text[:200] if response is not None else "") or str(exc)
    return str(detail)


class SerpApiClient:
    """Client for the Ads Transparency Center engines of SerpApi.

    Args:
        api_key: defaults to ``settings.SERPAPI_API_KEY``.
        base_url: defaults to ``settings.SERPAPI_BASE_URL`` (``https://serpapi.com``).
        timeout: seconds per HTTP request; defaults to ``settings.SERPAPI_TIMEOUT``.
        limiter: the cluster-wide limiter; defaults to one holding
            ``SERPAPI_RATE_LIMIT_PER_HOUR`` in Redis. Pass ``False`` to disable (dry runs of
            tests that count nothing).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        limiter: SlidingWindowLimiter | bool | None = None,
    ):
        self.api_key = api_key if api_key is not None else settings.SERPAPI_API_KEY
        self.base_url = (base_url or settings.SERPAPI_BASE_URL).rstrip("/")
        self.timeout = timeout or settings.SERPAPI_TIMEOUT
        self._client = serpapi.Client(api_key=self.api_key, timeout=self.timeout)
        self._client.BASE_DOMAIN = self.base_url
        if limiter is None or limiter is True:
            limiter = SlidingWindowLimiter("serpapi", limit=settings.SERPAPI_RATE_LIMIT_PER_HOUR)
        self.limiter: SlidingWindowLimiter | None = (
            limiter if isinstance(limiter, SlidingWindowLimiter) else None
        )

    def _request(self, params: dict[str, str]) -> dict[str, Any]:
        if not self.api_key:
            raise SerpApiPermanentError(
                "SERPAPI_API_KEY is not set; put your SerpApi key in the environment or .env."
            )
        if self.limiter is not None:
            try:
                self.limiter.acquire()
            except RateLimitExceeded as exc:
                raise SerpApiTransientError(str(exc), retry_after=exc.retry_after) from exc
            except redis.RedisError as exc:
                # The limit lives in Redis: without it no request may go out, but it will return.
                raise SerpApiTransientError(
                    f"The SerpApi rate limiter (Redis) is unavailable: {exc}"
                ) from None
        engine = params.get("engine", "")
        try:
            data = self._search(params)
        except SerpApiTransientError:
            SERPAPI_SEARCHES.labels(engine, "transient_error").inc()
            raise
        except SerpApiPermanentError:
            SERPAPI_SEARCHES.labels(engine, "permanent_error").inc()
            raise
        SERPAPI_SEARCHES.labels(engine, "ok").inc()
        return data

    def _search(self, params: dict[str, str]) -> dict[str, Any]:
        """One HTTP request through ``serpapi.Client``; errors classified (module docstring)."""
        try:
            result = self._client.search(dict(params))
        except serpapi.TimeoutError:
            raise SerpApiTransientError(f"SerpApi timed out after {self.timeout:g} s.") from None
        except serpapi.HTTPConnectionError as exc:
            raise SerpApiTransientError(f"Cannot reach SerpApi at {self.base_url}: {exc}") from None
        except serpapi.HTTPError as exc:
            status = exc.status_code
            text = _error_text(exc)
            if status == 429 or status >= 500:
                raise SerpApiTransientError(f"SerpApi HTTP {status}: {text}", status_code=status) from None
            raise SerpApiPermanentError(f"SerpApi HTTP {status}: {text}", status_code=status) from None
        except requests.RequestException as exc:
            raise SerpApiTransientError(f"SerpApi request failed: {exc}") from None
        if not isinstance(result, serpapi.SerpResults) or not isinstance(result.data, dict):
            snippet = str(result)[:120]
            raise SerpApiPermanentError(f"SerpApi answered with a body that is not JSON: {snippet!r}")
        return result.data

    def search_page(self, query: FetchQuery, *, next_page_token: str | None = None) -> SerpApiPage:
        """Fetch one page for ``query`` (the first, or the one ``next_page_token`` names).

        Raises:
            SerpApiTransientError, SerpApiPermanentError: see the module docstring.
        """
        params = query.serpapi_params()
        if next_page_token:
            params["next_page_token"] = next_page_token
        data = self._request(params)
        creatives = data.get("ad_creatives")
        if creatives is not None and not isinstance(creatives, list):
            raise SerpApiPermanentError("SerpApi's ad_creatives is not a list.")
        pagination = data.get("serpapi_pagination") or {}
        total = (data.get("search_information") or {}).get("total_results")
        error = data.get("error")
        return SerpApiPage(
            data=data,
            creatives=[item for item in creatives or [] if isinstance(item, dict)],
            next_page_token=pagination.get("next_page_token") or None,
            no_results=bool(error) and not creatives,
            message=str(error or ""),
            total_results=total if isinstance(total, int) else None,
        )

    def ad_details(
        self, *, advertiser_id: str, creative_id: str, region: str | None = None
    ) -> dict[str, Any]:
        """Fetch ``engine=google_ads_transparency_center_ad_details`` for one creative.

        Returns the raw response dict; "no results" comes back with a top-level ``error``.

        Raises:
            SerpApiTransientError, SerpApiPermanentError: see the module docstring.
        """
        params = {"engine": ENGINE_DETAILS, "advertiser_id": advertiser_id, "creative_id": creative_id}
        if region:
            params["region"] = region
        return self._request(params)

    def account(self) -> dict[str, Any]:
        """Return ``/account.json`` (plan, searches left, hourly usage). Spends no search.

        Raises:
            SerpApiTransientError, SerpApiPermanentError: as for searches.
        """
        try:
            return self._client.account()
        except serpapi.HTTPError as exc:
            status = exc.status_code
            cls = SerpApiTransientError if status == 429 or status >= 500 else SerpApiPermanentError
            raise cls(f"SerpApi HTTP {status}: {_error_text(exc)}", status_code=status) from None
        except (serpapi.TimeoutError, requests.RequestException) as exc:
            raise SerpApiTransientError(f"SerpApi account request failed: {exc}") from None
