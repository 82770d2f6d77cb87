from django.apps import AppConfig


class AdSparkConfig(AppConfig):
    name = "AdSpark"
    verbose_name = "AdSpark creatives"

    def ready(self) -> None:
        from .jobs import register_jobs

        register_jobs()
