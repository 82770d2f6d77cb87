"""Advertisers, creatives, creative details and fetch runs.

Field sources are SerpApi's ``google_ads_transparency_center`` items (``ad_creatives[]``) and
``google_ads_transparency_center_ad_details`` responses; SerpApi names are given per field.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.models import Job


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
    advertiser = models.ForeignKey(Advertiser, on_delete=models.CASCADE, related_name="creatives")
    format = models.CharField(max_length=8, choices=CreativeFormat.choices, db_index=True)
    image_url = models.TextField(blank=True, default="")
    preview_url = models.TextField(blank=True, default="")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    target_domain = models.CharField(max_length=255, blank=True, default="", db_index=True)
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
            models.Index(fields=["updated_at"]),
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
    ids it saw; ``stop_reason`` why pagination stopped (see ``StopReason``).
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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"FetchRun {self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("fetchrun-detail", args=[self.pk])
