from django.contrib import admin

from .models import AdVariant


@admin.register(AdVariant)
class AdVariantAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "ad_creative_id", "provider", "status", "stage", "rating", "created_at")
    list_filter = ("status", "provider")
    search_fields = ("ad_creative_id", "owner__username", "prompt", "provider_run_id")
    raw_id_fields = ("owner", "source_creative")
    readonly_fields = (
        "celery_task_id",
        "creative_snapshot",
        "provider_run_id",
        "provider_meta",
        "tokens",
        "provider_elapsed_seconds",
        "created_at",
        "started_at",
        "finished_at",
    )
