from django.contrib import admin

from .models import Advertiser, Creative, CreativeDetails, FetchRun


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


@admin.register(FetchRun)
class FetchRunAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "pages_fetched", "creatives_seen", "creatives_new", "searches_used", "created_at")
    list_filter = ("status",)
    readonly_fields = ("celery_task_id", "created_at", "started_at", "finished_at")
