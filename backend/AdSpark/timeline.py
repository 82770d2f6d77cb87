"""An advertiser's timeline: creatives first shown and active per week by format, and what
changed in the last week.

Weeks are ISO weeks starting on Monday (PostgreSQL ``date_trunc('week', …)`` through Django's
``TruncWeek``, in UTC). The window ends with the week of the advertiser's newest date in the data
(the latest ``last_shown`` or ``first_shown`` of its creatives; today when it has none), not
today: the Ads Transparency Center reports ``last_shown`` days behind, and stored data may be
older, so the chart and the "what changed" list always cover the advertiser's latest activity.

Each series is one aggregate query:

* ``first_shown``: creatives counted by (week of ``first_shown``, format);
* ``active``: a creative is active in every week from its ``first_shown`` week to its
  ``last_shown`` week; the query counts creatives by (first week, last week, format) and the
  spans are added up per week here (the groups are few: creatives of one advertiser share dates).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from .models import Advertiser, Creative, CreativeFormat

DEFAULT_WEEKS = 26
MAX_WEEKS = 104
# Creatives listed under "new" and "stopped" (the counts cover all of them).
MAX_CHANGES_LISTED = 50
CHANGE_WINDOW = dt.timedelta(days=7)
FORMATS = tuple(CreativeFormat.values)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _zero() -> dict[str, int]:
    return dict.fromkeys(FORMATS, 0)


def advertiser_newest(creatives: QuerySet[Creative]) -> dt.datetime:
    """The newest ``last_shown`` / ``first_shown`` among ``creatives`` (now when there is none)."""
    bounds = creatives.aggregate(last=Max("last_shown"), first=Max("first_shown"))
    dates = [value for value in bounds.values() if value is not None]
    return max(dates) if dates else timezone.now()


def advertiser_timeline(*, advertiser: Advertiser, weeks: int = DEFAULT_WEEKS) -> dict[str, Any]:
    """The timeline of ``advertiser`` over its latest ``weeks`` weeks (1-104).

    Returns::

        {"advertiser_id", "name",
         "weeks": [{"week_start": date (a Monday), "first_shown": {"text", "image", "video"},
                    "active": {"text", "image", "video"}}, …],          # oldest first
         "changes": {"since": date, "new": [Creative…], "stopped": [Creative…],
                     "new_count", "stopped_count"}}

    "new": first shown within the 7 days up to the newest date; "stopped": last shown in the 7
    days before that and not since. Lists hold at most 50 creatives each (newest first), with
    their advertiser joined.

    Raises:
        ValueError: ``weeks`` outside 1-104.
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be from 1 to {MAX_WEEKS}")
    creatives = Creative.objects.filter(advertiser=advertiser)
    newest = advertiser_newest(creatives)
    last_week = _monday(newest.astimezone(dt.UTC).date())
    first_week = last_week - dt.timedelta(weeks=weeks - 1)
    start = dt.datetime.combine(first_week, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(last_week + dt.timedelta(weeks=1), dt.time.min, tzinfo=dt.UTC)
    series = {
        first_week + dt.timedelta(weeks=n): {"first_shown": _zero(), "active": _zero()} for n in range(weeks)
    }

    first_rows = (
        creatives.filter(first_shown__gte=start, first_shown__lt=end)
        .annotate(week=TruncWeek("first_shown", tzinfo=dt.UTC))
        .values("week", "format")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for first_row in first_rows:
        counts = series.get(_as_date(first_row["week"]))
        if counts is not None and first_row["format"] in FORMATS:
            counts["first_shown"][first_row["format"]] += first_row["n"]

    spans = (
        creatives.filter(first_shown__lt=end, last_shown__gte=start)
        .annotate(
            first=TruncWeek("first_shown", tzinfo=dt.UTC),
            last=TruncWeek("last_shown", tzinfo=dt.UTC),
        )
        .values("first", "last", "format")
        .annotate(n=Count("pk"))
        .order_by()
    )
    active: Counter[tuple[dt.date, str]] = Counter()
    for span in spans:
        week: dt.date = max(_as_date(span["first"]), first_week)
        until: dt.date = min(_as_date(span["last"]), last_week)
        while week <= until:
            active[(week, span["format"])] += span["n"]
            week += dt.timedelta(weeks=1)
    for (active_week, creative_format), count in active.items():
        if creative_format in FORMATS:
            series[active_week]["active"][creative_format] = count

    since = newest - CHANGE_WINDOW
    new = (
        creatives.filter(first_shown__gt=since)
        .select_related("advertiser")
        .order_by("-first_shown", "ad_creative_id")
    )
    stopped = (
        creatives.filter(last_shown__gt=since - CHANGE_WINDOW, last_shown__lte=since)
        .select_related("advertiser")
        .order_by("-last_shown", "ad_creative_id")
    )
    return {
        "advertiser_id": advertiser.advertiser_id,
        "name": advertiser.name,
        "weeks": [{"week_start": week, **counts} for week, counts in sorted(series.items())],
        "changes": {
            "since": since.astimezone(dt.UTC).date(),
            "new": list(new[:MAX_CHANGES_LISTED]),
            "stopped": list(stopped[:MAX_CHANGES_LISTED]),
            "new_count": new.count(),
            "stopped_count": stopped.count(),
        },
    }
