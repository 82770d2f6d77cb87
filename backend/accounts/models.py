"""Per-user settings (the user model is Django's own)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UserSettings(models.Model):
    """A user's preferences: default region (geo code, e.g. "2840") and alert e-mails."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="adspark_settings"
    )
    default_region = models.CharField(max_length=8, blank=True, default="")
    email_alerts = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "user settings"

    def __str__(self) -> str:
        return f"Settings of user {self.user_id}"
