from django.contrib import admin

from .models import Advertiser, Creative, CreativeArchive, CreativeDetails, FetchRun


@admin.register(Advertiser)
class AdvertiserAdmin(admin.ModelAdmin):
    list_display = ("advertiser_id", "name", "first_seen", "last_seen")
    search_fields = ("advertiser_id", "name")


@admin.register(Creative)
class CreativeAdmin(admin.ModelAdmin):
    list_display = ("ad_creative_id", "advertiser", "format", "target_domain", "first_shown", "last_shown")
    list_filter = ("format",)
    search_fields = ("ad_creative_id", "advertiser__name", "target_domain")
    raw_id_fields = ("advertiser",)


@admin.register(CreativeDetails)
class CreativeDetailsAdmin(admin.ModelAdmin):
    list_display = ("creative", "format", "title", "visible_link", "fetched_at")
    raw_id_fields = ("creative",)


@admin.register(CreativeArchive)
class CreativeArchiveAdmin(admin.ModelAdmin):
    list_display = ("creative", "status", "source", "visual_hash", "attempts", "archived_at")
    list_filter = ("status", "source")
    search_fields = ("creative__ad_creative_id", "visual_hash")
    raw_id_fields = ("creative",)
    readonly_fields = ("queued_at", "started_at", "archived_at", "updated_at")


@admin.register(FetchRun)
class FetchRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "status",
        "pages_fetched",
        "creatives_seen",
        "creatives_new",
        "searches_used",
        "created_at",
    )
    list_filter = ("status",)
    readonly_fields = ("celery_task_id", "created_at", "started_at", "finished_at")


# --- Watches (issue 3) ----------------------------------------------------------------------
from .models import Watch, WatchRun, WebhookAttempt, WebhookDelivery  # noqa: E402


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "owner",
        "is_active",
        "interval_minutes",
        "next_run_at",
        "consecutive_failures",
        "paused_reason",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "text", "owner__username")
    raw_id_fields = ("owner", "last_run")
    readonly_fields = ("query_fingerprint", "baseline_at", "created_at", "updated_at")


@admin.register(WatchRun)
class WatchRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "watch",
        "status",
        "trigger",
        "fetch_run",
        "shared_fetch",
        "new_creatives_count",
        "is_baseline",
        "created_at",
    )
    list_filter = ("status", "trigger", "is_baseline")
    raw_id_fields = ("watch", "fetch_run")
    readonly_fields = ("celery_task_id", "created_at", "started_at", "finished_at")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    readonly_fields = ("number", "status_code", "error", "duration_ms", "attempted_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "watch_run", "url", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("watch_run",)
    inlines = [WebhookAttemptInline]
