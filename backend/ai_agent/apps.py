from django.apps import AppConfig


class AiAgentConfig(AppConfig):
    name = "ai_agent"
    verbose_name = "AI ad variants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the worker_process_shutdown handler that closes this process's Chromium.
        from . import screenshots  # noqa: F401
