from django.contrib import admin

from .models import Board, BoardItem


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "updated_at")
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner",)


@admin.register(BoardItem)
class BoardItemAdmin(admin.ModelAdmin):
    list_display = ("creative", "board", "added_at")
    raw_id_fields = ("board", "creative")
