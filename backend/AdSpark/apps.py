from django.apps import AppConfig


class AdSparkConfig(AppConfig):
    name = "AdSpark"
    verbose_name = "AdSpark creatives"

    def ready(self) -> None:
        from core.metrics import register_cluster_collector

        from .jobs import register_jobs
        from .metrics import serpapi_budget_metrics

        register_jobs()
        register_cluster_collector("serpapi_budget", serpapi_budget_metrics)
