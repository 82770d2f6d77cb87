"""drf-spectacular extensions for accounts (loaded by ``AccountsConfig.ready``)."""

from __future__ import annotations

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class TokenScheme(KnoxTokenScheme):
    """Documents :class:`accounts.authentication.TokenAuthentication` as knox's own scheme
    (``knoxApiToken``: header ``Authorization``, prefix ``Token``). drf-spectacular's knox
    extension matches knox's class exactly, not its subclasses."""

    target_class = "accounts.authentication.TokenAuthentication"
