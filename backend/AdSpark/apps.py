from django.apps import AppConfig


class AdSparkConfig(AppConfig):
    name = "AdSpark"
    verbose_name = "AdSpark creatives"
