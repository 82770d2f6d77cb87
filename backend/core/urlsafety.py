"""The SSRF check for every URL the server or its browser fetches on a user's behalf.

Only ``http`` and ``https`` are allowed, and every address the host name resolves to must be
public: private (RFC 1918, ULA), loopback, link-local, multicast, reserved and unspecified
addresses are refused unless settings allow them (``ADSPARK_ALLOW_LOOPBACK_URLS``,
``ADSPARK_ALLOW_PRIVATE_URLS``; tests allow loopback for their local servers).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURLError(ValueError):
    """The URL may not be fetched; ``str(error)`` says why in words a user can act on."""


def check_url(
    url: str,
    *,
    allow_loopback: bool | None = None,
    allow_private: bool | None = None,
    resolve: bool = True,
) -> str:
    """Return ``url`` if it is safe to fetch, else raise :class:`UnsafeURLError`.

    Args:
        url: an absolute URL.
        allow_loopback / allow_private: override the settings of the same meaning.
        resolve: look the host name up (``getaddrinfo``) and check every address; when
            False only literal IP hosts are checked (for validating input offline).

    Raises:
        UnsafeURLError: not http(s), no host, the host does not resolve, or an address is
            loopback/private/link-local/reserved and not allowed.
    """
    loopback_ok = settings.URL_ALLOW_LOOPBACK if allow_loopback is None else allow_loopback
    private_ok = settings.URL_ALLOW_PRIVATE if allow_private is None else allow_private
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"Only http and https URLs are allowed, not {parts.scheme or 'none'!r}.")
    host = parts.hostname
    if not host:
        raise UnsafeURLError("The URL has no host name.")
    try:
        literal = ipaddress.ip_address(host)
        addresses = [literal]
    except ValueError:
        if not resolve:
            if host == "localhost" and not loopback_ok:
                raise UnsafeURLError("Loopback addresses are not allowed.") from None
            return url
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            raise UnsafeURLError(f"The host {host!r} does not resolve.") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        _check_address(address, loopback_ok=loopback_ok, private_ok=private_ok)
    return url


def _check_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, loopback_ok: bool, private_ok: bool
) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback:
        if loopback_ok:
            return
        raise UnsafeURLError("Loopback addresses are not allowed.")
    if address.is_link_local:
        raise UnsafeURLError("Link-local addresses (such as cloud metadata) are not allowed.")
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        raise UnsafeURLError(f"The address {address} is not a public address.")
    if address.is_private and not private_ok:
        raise UnsafeURLError(f"Private network addresses ({address}) are not allowed.")
