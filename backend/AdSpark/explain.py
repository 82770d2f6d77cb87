"""Fetch runs in a marketer's words: a one-line summary, what went wrong, how far it got.

The job row keeps the engineer's text (``FetchRun.error``: SerpApi's own message, HTTP status,
retry countdown); the web app shows these instead, which never quote SerpApi's raw text.
Pure functions over a row and the advertiser names it needs (no queries here: the serializer
loads the names of a whole page in one query, :func:`AdSpark.selectors.advertiser_names`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.models import JobStatus

from .models import FetchRun
from .regions import region_name

FORMAT_WORDS = {"text": "text ads", "image": "images", "video": "videos"}
PLATFORM_WORDS = {
    "PLAY": "Google Play",
    "MAPS": "Google Maps",
    "SEARCH": "Google Search",
    "SHOPPING": "Google Shopping",
    "YOUTUBE": "YouTube",
}
# Advertisers named in a summary before the rest are counted ("Tesla, Inc., Rivian +3 more").
NAMED_ADVERTISERS = 2

_GAVE_UP = re.compile(r"^Gave up after (\d+) attempts: (.*)$", re.S)
_RETRYING = re.compile(r"^Retrying in (\d+) s after: (.*)$", re.S)
_HTTP_STATUS = re.compile(r"SerpApi HTTP (\d{3})")


def run_advertiser_names(run: FetchRun, names: Mapping[str, str]) -> list[str]:
    """The advertisers a run asked for, in its order: each one's stored name, else its id."""
    return [
        names.get(advertiser_id) or advertiser_id for advertiser_id in run.params.get("advertiser_ids") or []
    ]


def run_region_name(run: FetchRun) -> str | None:
    """The English name of the run's region (``"United States"``), or None for all regions."""
    code = run.params.get("region")
    return region_name(str(code)) if code else None


def _who(run: FetchRun, names: Mapping[str, str]) -> str:
    advertisers = run_advertiser_names(run, names)
    parts = []
    if advertisers:
        shown = ", ".join(advertisers[:NAMED_ADVERTISERS])
        more = len(advertisers) - NAMED_ADVERTISERS
        parts.append(f"{shown} +{more} more" if more > 0 else shown)
    if run.params.get("text"):
        parts.append(f"“{run.params['text']}”")
    return " · ".join(parts) or "Any advertiser"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def fetch_run_summary(run: FetchRun, names: Mapping[str, str]) -> str:
    """One human line: who, where, what and how much, e.g.
    ``"Tesla, Inc. · United States · images · 3 pages · 40 creatives (12 new)"``.

    ``names`` maps advertiser ids to stored names (ids without a name are shown as ids).
    Pages and creatives are counted once the run fetched a page; before that the page bound
    is shown (``"up to 5 pages"``).
    """
    params = run.params or {}
    parts = [_who(run, names), run_region_name(run) or "All regions"]
    if params.get("creative_format"):
        parts.append(FORMAT_WORDS.get(params["creative_format"], params["creative_format"]))
    if params.get("platform"):
        parts.append(PLATFORM_WORDS.get(params["platform"], params["platform"]))
    if run.pages_fetched:
        parts.append(_plural(run.pages_fetched, "page"))
        creatives = _plural(run.creatives_seen, "creative")
        parts.append(f"{creatives} ({run.creatives_new} new)" if run.creatives_new else creatives)
    elif run.status in (JobStatus.PENDING, JobStatus.RUNNING) and params.get("max_pages"):
        parts.append(f"up to {_plural(int(params['max_pages']), 'page')}")
    return " · ".join(parts)


def _transient_reason(error: str) -> str:
    """Why SerpApi could not answer, from a transient error's text (no SerpApi wording)."""
    status = _HTTP_STATUS.search(error)
    if status and status.group(1) == "429":
        return "SerpApi is rate-limiting AdSpark (too many requests)"
    if status:
        return f"SerpApi had a server error (HTTP {status.group(1)})"
    if "timed out" in error:
        return "SerpApi did not answer in time"
    if "Cannot reach" in error or "request failed" in error:
        return "SerpApi could not be reached"
    if "rate limiter" in error:
        return "AdSpark's SerpApi rate limiter (Redis) is unavailable"
    if "limit" in error.lower():
        return "AdSpark's hourly SerpApi request limit is used up"
    return "SerpApi could not answer"


def _failure_message(error: str) -> str:
    """A failed run's explanation, from its ``error`` text (see AdSpark.serpapi_client)."""
    if "SERPAPI_API_KEY is not set" in error:
        return "AdSpark has no SerpApi API key — an operator must set SERPAPI_API_KEY."
    gave_up = _GAVE_UP.match(error)
    if gave_up:
        reason = _transient_reason(gave_up.group(2))
        return f"{reason}; AdSpark gave up after {gave_up.group(1)} attempts. Try again later."
    status = _HTTP_STATUS.search(error)
    code = status.group(1) if status else ""
    if code == "401" or "Invalid API key" in error:
        return "SerpApi rejected the API key — an operator must set SERPAPI_API_KEY."
    if code == "403":
        return (
            "SerpApi refused the request (HTTP 403): the SerpApi account may be out of searches "
            "— an operator should check it."
        )
    if code == "400":
        return "SerpApi rejected this query — check the advertiser IDs, region and dates."
    if "not JSON" in error or "is not a list" in error:
        return "SerpApi sent an answer AdSpark could not read. Try again later."
    if error.startswith("Time limit exceeded"):
        return "The fetch took too long and was stopped; try again with fewer pages."
    if error.startswith("Invalid parameters"):
        return "This fetch's query is not valid any more; start a new fetch."
    return "The fetch failed because of an error in AdSpark; an operator can find the details in the logs."


def fetch_run_user_message(run: FetchRun, names: Mapping[str, str]) -> str:
    """What a marketer should know about the run, or ``""`` when there is nothing to explain.

    Explains a failure (e.g. ``"SerpApi rejected the API key — an operator must set
    SERPAPI_API_KEY."``), a retry that is waiting (``"SerpApi is rate-limiting AdSpark …;
    AdSpark tries again automatically."``), a cancel, and a successful run that found nothing
    (``"SerpApi found no ads for advertiser AR… in United States."``). Never quotes SerpApi.
    """
    error = run.error or ""
    if run.status == JobStatus.FAILED:
        return _failure_message(error)
    if run.status == JobStatus.CANCELLED:
        return "This fetch was cancelled; creatives of the pages fetched before are kept."
    if run.status == JobStatus.RUNNING:
        retrying = _RETRYING.match(error)
        if retrying:
            return f"{_transient_reason(retrying.group(2))}; AdSpark tries again automatically."
        return ""
    if run.status == JobStatus.SUCCEEDED and run.creatives_seen == 0:
        params = run.params or {}
        ids = run_advertiser_names(run, names)
        if ids:
            label = "advertiser" if len(ids) == 1 else "advertisers"
            who = f"{label} {', '.join(ids)}"
        else:
            who = f"“{params.get('text', '')}”"
        where = run_region_name(run) or "any region"
        return f"SerpApi found no ads for {who} in {where}."
    return ""


def fetch_run_progress_percent(run: FetchRun) -> float | None:
    """Pages done in percent (0-100), or None while the number of pages is unknown.

    100 only for a run that succeeded: a failed or cancelled run shows how far it got (below
    100), not a full bar. The total is unknown until SerpApi's first page names its result count
    (before that, ``progress_total`` is only the page bound).
    """
    if run.status == JobStatus.SUCCEEDED:
        return 100.0
    if run.total_results is None or not run.progress_total:
        return None
    percent = round(min(100.0, 100.0 * run.progress_done / run.progress_total), 1)
    return min(percent, 99.0)


def fetch_run_retry_at(run: FetchRun) -> Any:
    """When the run's retry is due (a datetime), or None unless it waits for one."""
    if run.status == JobStatus.RUNNING and run.retry_at is not None and not run.lease_owner:
        return run.retry_at
    return None
