"""Advertisers, creatives, creative details and fetch runs.

Field sources are SerpApi's ``google_ads_transparency_center`` items (``ad_creatives[]``) and
``google_ads_transparency_center_ad_details`` responses; SerpApi names are given per field.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.models import Job
from core.redaction import RedactedTextField


class CreativeFormat(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"


class Advertiser(models.Model):
    """An Ads Transparency Center advertiser (``advertiser_id``, ``advertiser``).

    ``first_seen`` / ``last_seen`` are the min / max of its creatives' ``first_shown`` /
    ``last_shown``, recomputed from all its creatives after every ingested page.
    """

    advertiser_id = models.CharField(max_length=32, primary_key=True)
    name = models.CharField(max_length=255, blank=True, default="")
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "advertiser_id"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name or '?'} ({self.advertiser_id})"


class Creative(models.Model):
    """One ad creative (``ad_creative_id``) as last seen by SerpApi.

    ``image_url`` is SerpApi's ``image``; ``preview_url`` its ``link`` (a JavaScript preview that
    renders the ad); ``width``/``height`` may be missing, separately. ``first_shown`` /
    ``last_shown`` come from Unix seconds. ``regions`` (geo codes) and ``platforms`` are every
    region/platform filter it was fetched under; ``raw`` is the SerpApi item of the last sighting.
    """

    ad_creative_id = models.CharField(max_length=32, primary_key=True)
    # No single-column FK index: the (advertiser, -last_shown) index below serves those lookups,
    # and every index costs time on each ingested page (bench/ingest.py).
    advertiser = models.ForeignKey(
        Advertiser, on_delete=models.CASCADE, related_name="creatives", db_index=False
    )
    format = models.CharField(max_length=8, choices=CreativeFormat.choices)
    image_url = models.TextField(blank=True, default="")
    preview_url = models.TextField(blank=True, default="")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # No btree index: lookups are case-insensitive (iexact, icontains) and use the full-text index
    # of the search app instead; each index costs time on every ingested page (bench/ingest.py).
    target_domain = models.CharField(max_length=255, blank=True, default="")
    first_shown = models.DateTimeField(null=True, blank=True)
    last_shown = models.DateTimeField(null=True, blank=True, db_index=True)
    total_days_shown = models.PositiveIntegerField(null=True, blank=True)
    details_link = models.TextField(blank=True, default="")
    serpapi_details_link = models.TextField(blank=True, default="")
    regions = models.JSONField(default=list, blank=True)
    platforms = models.JSONField(default=list, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_shown", "ad_creative_id"]
        indexes = [
            models.Index(fields=["advertiser", "-last_shown"]),
            models.Index(fields=["first_shown"]),
        ]

    def __str__(self) -> str:
        return self.ad_creative_id


class CreativeDetails(models.Model):
    """A creative's ``google_ads_transparency_center_ad_details`` response.

    ``variations`` is SerpApi's ``ad_creatives`` list (title, headline, snippet, visible_link,
    call_to_action, images, sitelink_texts …, as returned); ``regions`` is
    ``search_information.regions`` (``[{"region": 2840, "region_name": …, "last_shown":
    YYYYMMDD}]``); the first variation's copy is also stored in plain fields for search.
    """

    creative = models.OneToOneField(
        Creative, on_delete=models.CASCADE, primary_key=True, related_name="details"
    )
    format = models.CharField(max_length=8, blank=True, default="")
    title = models.TextField(blank=True, default="")
    headline = models.TextField(blank=True, default="")
    snippet = models.TextField(blank=True, default="")
    visible_link = models.CharField(max_length=255, blank=True, default="")
    call_to_action = models.CharField(max_length=255, blank=True, default="")
    ad_funded_by = models.CharField(max_length=255, blank=True, default="")
    variations = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    last_shown = models.DateTimeField(null=True, blank=True)
    no_results = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "creative details"

    def __str__(self) -> str:
        return f"Details of {self.creative_id}"


class StopReason(models.TextChoices):
    LAST_PAGE = "last_page", "Last page reached"
    MAX_PAGES = "max_pages", "Page limit reached"
    SEARCH_BUDGET = "search_budget", "Search budget spent"
    NO_RESULTS = "no_results", "No results"


class FetchRun(Job):
    """One fetch of Ads Transparency Center results through SerpApi (a durable job).

    ``params`` is the normalised query (:meth:`AdSpark.queries.FetchQuery.as_dict`);
    progress counts pages (``progress_total`` = pages planned = ``max_pages``);
    ``next_page_token`` is the checkpoint a redelivered task resumes from; ``creative_ids`` the
    ids it saw, in order, filled when the run ends (while it runs they are
    :class:`FetchRunCreative` rows); ``stop_reason`` why pagination stopped (see ``StopReason``).
    """

    TASK_NAME = "AdSpark.tasks.fetch_creatives_task"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="fetch_runs",
    )
    params = models.JSONField(default=dict)
    query_fingerprint = models.CharField(max_length=64, blank=True, default="", db_index=True)
    pages_fetched = models.PositiveIntegerField(default=0)
    creatives_seen = models.PositiveIntegerField(default=0)
    creatives_new = models.PositiveIntegerField(default=0)
    creatives_updated = models.PositiveIntegerField(default=0)
    searches_used = models.PositiveIntegerField(default=0)
    total_results = models.PositiveIntegerField(null=True, blank=True)
    next_page_token = models.TextField(blank=True, default="")
    retries = models.PositiveIntegerField(default=0)
    creative_ids = models.JSONField(default=list, blank=True)
    stop_reason = models.CharField(max_length=32, choices=StopReason.choices, blank=True, default="")
    # When the retry of a transient SerpApi error is due (set by the task's retry, cleared when a
    # delivery claims the run again): what "Retrying in … s" counts down to.
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"FetchRun {self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("fetchrun-detail", args=[self.pk])


class FetchRunCreative(models.Model):
    """A creative id a running fetch run saw, written with its page (part of the checkpoint).

    One row per id instead of rewriting the run's whole ``creative_ids`` list with every page,
    which made a 100-page run write O(pages²) bytes (bench/ingest.py). When the run ends the
    rows become ``FetchRun.creative_ids`` (in ``position`` order) and are deleted.
    ``creative_id`` is not a foreign key: cleanup may delete a creative a run saw.
    """

    fetch_run = models.ForeignKey(FetchRun, on_delete=models.CASCADE, related_name="page_creatives")
    creative_id = models.CharField(max_length=32)
    position = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fetch_run", "creative_id"], name="fetchruncreative_once_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.creative_id} in fetch run {self.fetch_run_id}"


# --- Watches (issue 3) ----------------------------------------------------------------------


class WatchTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Scheduled by the dispatcher"
    MANUAL = "manual", "Triggered through the API"


class Watch(models.Model):
    """A saved query that AdSpark re-runs every ``interval_minutes`` and reports new creatives of.

    The query fields hold the values :func:`AdSpark.queries.normalize_fetch_params` returned
    (``region`` as a geo code, dates as ``YYYYMMDD``); ``query_fingerprint`` is that query's
    :meth:`~AdSpark.queries.FetchQuery.fingerprint`, shared by watches with identical queries.

    Scheduling: the dispatcher picks active watches with ``next_run_at <= now``.
    ``consecutive_failures`` drives backoff; ``paused_reason`` says (in words) why a watch was
    switched off by AdSpark itself (empty when the owner paused it or it is active).
    """

    MIN_INTERVAL_MINUTES = 15
    # A query is cheap to repeat but each page is a paid SerpApi search: at most daily-ish
    # backoff (see AdSpark.watches.backoff_minutes) and a week as the longest interval.
    MAX_INTERVAL_MINUTES = 7 * 24 * 60

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    name = models.CharField(max_length=200)
    advertiser_ids = models.JSONField(default=list, blank=True)
    text = models.CharField(max_length=200, blank=True, default="")
    region = models.CharField(max_length=8, blank=True, default="")
    platform = models.CharField(max_length=16, blank=True, default="")
    creative_format = models.CharField(max_length=8, blank=True, default="")
    start_date = models.CharField(max_length=8, blank=True, default="")
    end_date = models.CharField(max_length=8, blank=True, default="")
    political_ads = models.BooleanField(default=False)
    max_pages = models.PositiveSmallIntegerField(null=True, blank=True)
    query_fingerprint = models.CharField(max_length=64, blank=True, default="", db_index=True)
    interval_minutes = models.PositiveIntegerField(default=60)
    is_active = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey(
        "WatchRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Set by the first successful run (the baseline); cleared when the query changes.
    baseline_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused_reason = models.TextField(blank=True, default="")
    alert_on_first_run = models.BooleanField(default=False)
    notify_email = models.BooleanField(default=True)
    webhook_url = models.URLField(max_length=2000, blank=True, default="")
    webhook_secret = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # The dispatcher's scan: active watches by next_run_at (a partial index stays small).
            models.Index(fields=["next_run_at"], name="watch_due_idx", condition=models.Q(is_active=True)),
        ]

    def __str__(self) -> str:
        return f"Watch {self.pk} {self.name!r}"

    def query_params(self) -> dict[str, object]:
        """The raw query as :func:`~AdSpark.queries.normalize_fetch_params` takes it."""
        return {
            "advertiser_ids": list(self.advertiser_ids or []),
            "text": self.text,
            "region": self.region,
            "platform": self.platform,
            "creative_format": self.creative_format,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "political_ads": self.political_ads,
            "max_pages": self.max_pages,
        }


class WatchRun(Job):
    """One run of a watch: the fetch it used and the creatives that were new to the watch.

    ``fetch_run`` may be shared with other watches with the same query (see
    ``AdSpark.watches``). ``new_creative_ids`` lists ``ad_creative_id`` values in the order
    SerpApi returned them; on a baseline run (the watch's first success) they are recorded as
    seen but not alerted unless the watch says ``alert_on_first_run``. ``requeues`` counts
    re-queues by the stuck-run repair.
    """

    OWNER_FIELD = "watch__owner"
    TASK_NAME = "AdSpark.tasks.process_watch_task"

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=WatchTrigger.choices, default=WatchTrigger.SCHEDULE)
    fetch_run = models.ForeignKey(
        FetchRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="watch_runs"
    )
    shared_fetch = models.BooleanField(default=False)
    is_baseline = models.BooleanField(default=False)
    new_creatives_count = models.PositiveIntegerField(default=0)
    new_creative_ids = models.JSONField(default=list, blank=True)
    alerted = models.BooleanField(default=False)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    requeues = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["watch", "-created_at"])]

    def __str__(self) -> str:
        return f"WatchRun {self.pk} of watch {self.watch_id} ({self.status})"


class WatchCreative(models.Model):
    """A creative a watch has seen: "new" means new to this watch.

    ``ad_creative_id`` is deliberately not a foreign key: the cleanup of old creatives must not
    make a watch forget what it has seen (it would alert again when the creative comes back).
    """

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="seen_creatives")
    ad_creative_id = models.CharField(max_length=32)
    first_seen_by_watch = models.DateTimeField()
    first_run = models.ForeignKey(
        WatchRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_baseline = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["watch", "ad_creative_id"], name="watch_creative_unique")
        ]
        indexes = [models.Index(fields=["watch", "-first_seen_by_watch"])]

    def __str__(self) -> str:
        return f"{self.ad_creative_id} seen by watch {self.watch_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One webhook notification of a watch run (``POST`` to ``url``), retried with backoff.

    ``attempts`` counts HTTP attempts; each is logged as a :class:`WebhookAttempt`.
    """

    watch_run = models.ForeignKey(WatchRun, on_delete=models.CASCADE, related_name="webhook_deliveries")
    url = models.URLField(max_length=2000)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = RedactedTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"Webhook delivery {self.pk} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a webhook delivery: ``status_code`` (None when no response came:
    timeout, refused connection, refused URL), ``error`` text, ``duration_ms``."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = RedactedTextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    attempted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique")]

    def __str__(self) -> str:
        return f"Attempt {self.number} of delivery {self.delivery_id}: {self.status_code or self.error[:40]}"
