from django.contrib import admin

from .models import SearchHistoryEntry


@admin.register(SearchHistoryEntry)
class SearchHistoryEntryAdmin(admin.ModelAdmin):
    list_display = ("owner", "q", "result_count", "searched_at")
    search_fields = ("q", "owner__username")
    raw_id_fields = ("owner",)
