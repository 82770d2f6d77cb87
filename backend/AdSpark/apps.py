from django.apps import AppConfig


class AdSparkConfig(AppConfig):
    name = "AdSpark"
    verbose_name = "AdSpark creatives"

    def ready(self) -> None:
        from core.metrics import register_cluster_collector

        from .metrics import serpapi_budget_metrics

        register_cluster_collector("serpapi_budget", serpapi_budget_metrics)
