"""Celery broker and result-backend options for Redis past one box: TLS and Sentinel.

Three URL forms work for ``CELERY_BROKER_URL`` and ``CELERY_RESULT_BACKEND``:

* ``redis://[:password@]host:6379/0`` — one Redis (the default);
* ``rediss://[:password@]host:6380/0`` — Redis over TLS; the server certificate is checked
  (``ssl_cert_reqs``: ``required`` by default, against ``ssl_ca_certs`` or the system CAs);
* ``sentinel://[:password@]s1:26379/0;sentinel://[:password@]s2:26379/0`` — ask Redis
  Sentinel for the current master of ``master_name`` and follow a fail-over (kombu's
  ``SentinelTransport``, Celery's ``SentinelBackend``); ``sentinel_password`` authenticates to
  the sentinels themselves when they require it.

:func:`celery_broker_options` turns these into Celery settings; ``backend/settings.py`` applies
them as ``CELERY_*`` Django settings, so the Celery app reads them like every other setting.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from kombu.transport import redis as kombu_redis

CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


class _ReusedClientChannel:
    """A kombu Redis channel that keeps one ``redis.Redis`` client for its synchronous commands.

    kombu's ``Channel.conn_or_acquire()`` builds a new ``redis.Redis`` for every command it
    sends outside the event loop, and redis-py fills ~170 response callbacks in each: two
    clients per ``apply_async`` (the task message and its ``task-sent`` event), about a
    quarter of a publish's CPU (``bench/api_enqueue.py --publish`` measures both). The
    client is thread-safe and borrows connections from the channel's pool, so one per
    channel does the same work; it is rebuilt when kombu replaces the pool (after a fork
    or a connection error).
    """

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]
        pool = self.pool  # type: ignore[attr-defined]
        client = self.__dict__.get("_reused_client")
        if client is None or client.connection_pool is not pool:
            client = self.__dict__["_reused_client"] = super()._create_client()  # type: ignore[misc]
        return client


class RedisChannel(_ReusedClientChannel, kombu_redis.Channel):
    """kombu's Redis channel with one reused client (see :class:`_ReusedClientChannel`)."""


class RedisTransport(kombu_redis.Transport):
    """kombu's ``redis://``/``rediss://`` transport with :class:`RedisChannel`."""

    Channel = RedisChannel


class SentinelChannel(_ReusedClientChannel, kombu_redis.SentinelChannel):
    """kombu's Sentinel channel with one reused client (see :class:`_ReusedClientChannel`)."""


class SentinelTransport(kombu_redis.SentinelTransport):
    """kombu's ``sentinel://`` transport with :class:`SentinelChannel`."""

    Channel = SentinelChannel


# Our transport class for each broker URL scheme (:func:`transports_register`).
TRANSPORTS = {
    "redis": "backend.brokers:RedisTransport",
    "rediss": "backend.brokers:RedisTransport",
    "sentinel": "backend.brokers:SentinelTransport",
}


def transports_register() -> None:
    """Make kombu resolve the ``redis``, ``rediss`` and ``sentinel`` schemes to :data:`TRANSPORTS`.

    Registered in kombu's alias table under its own scheme names rather than set as Celery's
    ``broker_transport``: the URLs stay as they are, and so does everything that reads them
    back (Flower's broker page parses ``Connection.as_uri()``, whose scheme would otherwise be
    the class path). Idempotent; ``backend/settings.py`` calls it before any connection exists
    (kombu caches a scheme's class when it first resolves it).
    """
    from kombu.transport import TRANSPORT_ALIASES

    TRANSPORT_ALIASES.update(TRANSPORTS)


def _scheme(url: str) -> str:
    return urlsplit(url.split(";", 1)[0]).scheme.lower()


def celery_broker_options(
    *,
    broker_url: str,
    result_backend: str,
    broker_transport_options: dict[str, Any],
    result_backend_transport_options: dict[str, Any],
    master_name: str = "mymaster",
    sentinel_password: str = "",
    ssl_cert_reqs: str = "required",
    ssl_ca_certs: str = "",
) -> dict[str, Any]:
    """Return Celery settings (lower-case names) for ``broker_url`` and ``result_backend``.

    Keys: ``broker_transport_options`` and ``result_backend_transport_options`` (the given
    ones, plus ``master_name``/``sentinel_kwargs`` for ``sentinel://``), and
    ``broker_use_ssl`` / ``redis_backend_use_ssl`` (``{"ssl_cert_reqs": ssl.CERT_*,
    "ssl_ca_certs"?: path}``, or None when the URL is not ``rediss://``).

    Raises:
        ImproperlyConfigured: a scheme other than redis, rediss or sentinel; ``ssl_cert_reqs``
            not one of required/optional/none.
    """
    if ssl_cert_reqs not in CERT_REQS:
        raise ImproperlyConfigured(f"ssl_cert_reqs={ssl_cert_reqs!r} must be one of {', '.join(CERT_REQS)}")
    tls: dict[str, Any] = {"ssl_cert_reqs": CERT_REQS[ssl_cert_reqs]}
    if ssl_ca_certs:
        tls["ssl_ca_certs"] = ssl_ca_certs
    sentinel: dict[str, Any] = {"master_name": master_name}
    if sentinel_password:
        sentinel["sentinel_kwargs"] = {"password": sentinel_password}

    options: dict[str, Any] = {
        "broker_transport_options": dict(broker_transport_options),
        "result_backend_transport_options": dict(result_backend_transport_options),
        "broker_use_ssl": None,
        "redis_backend_use_ssl": None,
    }
    for url, transport_key, ssl_key, what in (
        (broker_url, "broker_transport_options", "broker_use_ssl", "CELERY_BROKER_URL"),
        (
            result_backend,
            "result_backend_transport_options",
            "redis_backend_use_ssl",
            "CELERY_RESULT_BACKEND",
        ),
    ):
        scheme = _scheme(url)
        if scheme == "sentinel":
            options[transport_key].update(sentinel)
        elif scheme == "rediss":
            options[ssl_key] = dict(tls)
        elif scheme != "redis":
            raise ImproperlyConfigured(
                f"{what} must be a redis://, rediss:// or sentinel:// URL, not {scheme}://"
            )
    return options
