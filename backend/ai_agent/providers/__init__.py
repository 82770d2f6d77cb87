"""Generation providers (``AI_PROVIDER``): ``dify``, ``openai`` and ``template``."""

from __future__ import annotations

from typing import Any

from .base import Provider, ProviderConfigError


def get_provider(name: str, *, screenshots: Any = None) -> Provider:
    """Return the provider called ``name`` (``screenshots``: the service the template uses).

    Raises:
        ProviderConfigError: unknown name.
    """
    if name == "template":
        from .template import TemplateProvider

        return TemplateProvider(screenshots)
    if name == "dify":
        from .dify import DifyProvider

        return DifyProvider()
    if name == "openai":
        from .openai_compat import OpenAICompatProvider

        return OpenAICompatProvider()
    raise ProviderConfigError(f"Unknown provider {name!r}.", code="unknown_provider")


def provider_configured(name: str) -> str:
    """Return "" if provider ``name`` can run with the current settings, else what is missing."""
    from django.conf import settings

    if name == "dify" and not settings.DIFY_API_KEY:
        return "The dify provider is not configured (DIFY_API_KEY is empty)."
    if name == "openai" and not settings.OPENAI_API_KEY:
        return "The openai provider is not configured (OPENAI_API_KEY is empty)."
    return ""
