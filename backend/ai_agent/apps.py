from django.apps import AppConfig


class AiAgentConfig(AppConfig):
    name = "ai_agent"
    verbose_name = "AI ad variants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the worker_process_shutdown handler that closes this process's Chromium.
        from core.jobs import JobKind, job_register

        from . import screenshots  # noqa: F401
        from .models import AdVariant

        # A variant saves its provider run id as soon as the provider names it, so a re-sent
        # waiting variant resumes; one whose worker died is failed (no requeue counter).
        job_register(
            JobKind(
                model=AdVariant, task_name=AdVariant.TASK_NAME, task_kwargs=lambda row: {"variant_id": row.pk}
            )
        )
