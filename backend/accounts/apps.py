from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # Registers the OpenAPI security scheme of accounts.authentication.TokenAuthentication.
        from . import schema  # noqa: F401
