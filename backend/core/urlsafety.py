"""The SSRF check for every URL the server or its browser fetches on a user's behalf.

Only ``http`` and ``https`` are allowed, and every address the host name resolves to must be
global (:attr:`ipaddress.IPv4Address.is_global`): private (RFC 1918, ULA), shared/CGNAT
(100.64.0.0/10, which holds cloud metadata addresses such as 100.100.100.200), loopback,
link-local (169.254.169.254), multicast, reserved, documentation and unspecified addresses are
refused, and so is an IPv6 address that embeds a refused IPv4 one (IPv4-mapped ``::ffff:a.b.c.d``,
IPv4-compatible ``::a.b.c.d``, 6to4 ``2002:aabb:ccdd::``, Teredo, NAT64 ``64:ff9b::/96`` and
``64:ff9b:1::/48``). Settings may allow loopback (``ADSPARK_ALLOW_LOOPBACK_URLS``; tests use it
for their local servers; never loopback wrapped in IPv6) and private ranges
(``ADSPARK_ALLOW_PRIVATE_URLS``); link-local and metadata addresses are never allowed.

Checking a name and then letting an HTTP client resolve it again leaves a window in which DNS
can answer differently (DNS rebinding). :func:`pinned_request` closes it: it resolves once,
checks, and connects to the checked address, sending the original host name in ``Host`` and in
TLS (SNI and certificate verification).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 prefixes that embed an IPv4 address in their last 32 bits (RFC 6052, RFC 8215).
NAT64_NETWORKS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# IPv4-compatible IPv6 addresses (deprecated, RFC 4291): ::a.b.c.d.
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Shared address space (RFC 6598): carrier-grade NAT and some clouds' metadata services.
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


class UnsafeURLError(ValueError):
    """The URL may not be fetched; ``str(error)`` says why in words a user can act on."""


@dataclass(frozen=True)
class CheckedURL:
    """A URL that passed :func:`resolve_url`: its ``host`` (as written, lower case), ``port``
    (explicit or the scheme's default) and the resolved ``addresses`` that were checked, in
    ``getaddrinfo`` order (one, for a literal IP host; empty when ``resolve=False`` left a name
    unresolved)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def resolve_url(
    url: str,
    *,
    allow_loopback: bool | None = None,
    allow_private: bool | None = None,
    resolve: bool = True,
) -> CheckedURL:
    """Check ``url`` and return it with the addresses it may be fetched from.

    Args:
        url: an absolute URL.
        allow_loopback / allow_private: override the settings of the same meaning.
        resolve: look the host name up (``getaddrinfo``) and check every address; when
            False only literal IP hosts are checked (for validating input offline).

    Raises:
        UnsafeURLError: not http(s), no host, the host does not resolve, or an address (or an
            IPv4 address embedded in it) is not global and not allowed.
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
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURLError("The URL's port is not a number from 0 to 65535.") from exc
    addresses: list[IPAddress]
    try:
        addresses = [ipaddress.ip_address(host.split("%")[0])]
    except ValueError:
        if not resolve:
            if (host == "localhost" or host.endswith(".localhost")) and not loopback_ok:
                raise UnsafeURLError("Loopback addresses are not allowed.") from None
            return CheckedURL(url=url, scheme=parts.scheme, host=host, port=port, addresses=())
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnsafeURLError(f"The host {host!r} does not resolve.") from exc
        addresses = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if address not in addresses:
                addresses.append(address)
    for address in addresses:
        _check_address(address, loopback_ok=loopback_ok, private_ok=private_ok)
    return CheckedURL(url=url, scheme=parts.scheme, host=host, port=port, addresses=tuple(addresses))


def check_url(
    url: str,
    *,
    allow_loopback: bool | None = None,
    allow_private: bool | None = None,
    resolve: bool = True,
) -> str:
    """Return ``url`` if it is safe to fetch, else raise :class:`UnsafeURLError`.

    The check of :func:`resolve_url`; use :func:`pinned_request` to fetch, so the connection
    goes to an address that was checked.

    Raises:
        UnsafeURLError: see :func:`resolve_url`.
    """
    resolve_url(url, allow_loopback=allow_loopback, allow_private=allow_private, resolve=resolve)
    return url


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 ``address`` carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if any(address in network for network in NAT64_NETWORKS):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _check_address(address: IPAddress, *, loopback_ok: bool, private_ok: bool) -> None:
    for embedded in embedded_ipv4(address):
        # Allowing loopback is for local test servers named plainly (127.0.0.1, ::1,
        # localhost); a loopback address wrapped in IPv6 is only ever a trick.
        _check_address(embedded, loopback_ok=False, private_ok=private_ok)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return  # its IPv4 address was the one to judge
    if address.is_loopback:
        if loopback_ok:
            return
        raise UnsafeURLError("Loopback addresses are not allowed.")
    if address.is_link_local:
        raise UnsafeURLError("Link-local addresses (such as cloud metadata) are not allowed.")
    if address in SHARED_ADDRESS_SPACE:
        raise UnsafeURLError(
            f"The address {address} is in the shared address space (carrier-grade NAT, cloud metadata)."
        )
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        raise UnsafeURLError(f"The address {address} is not a public address.")
    if address.is_private and not address.is_global:
        if private_ok:
            return
        raise UnsafeURLError(f"Private network addresses ({address}) are not allowed.")
    if not address.is_global:
        raise UnsafeURLError(f"The address {address} is not a public address.")


def pinned_request(
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float = 10.0,
    allow_loopback: bool | None = None,
    allow_private: bool | None = None,
    max_bytes: int | None = None,
) -> httpx.Response:
    """Send one HTTP request to ``url`` through a connection to an address that was checked.

    The host name is resolved and checked once (:func:`resolve_url`); the TCP connection goes
    to the first checked address that accepts it, while ``Host``, TLS SNI and certificate
    verification use the host name from the URL. Redirects are not followed (a ``3xx`` is
    returned as it is, for the caller to check its ``Location`` like a new URL).

    Args:
        method, url, content, headers: the request.
        timeout: seconds (an ``httpx.Timeout`` for connect/read/write/pool separately).
        allow_loopback / allow_private: as for :func:`resolve_url`.
        max_bytes: stop reading a body larger than this and raise ``ResponseTooLarge``.

    Returns:
        the response, its body read (``response.content``).

    Raises:
        UnsafeURLError: the URL or an address it resolves to is refused (nothing was sent).
        ResponseTooLarge: the body exceeded ``max_bytes``.
        httpx.TimeoutException, httpx.NetworkError, httpx.HTTPError: the request failed.
    """
    checked = resolve_url(url, allow_loopback=allow_loopback, allow_private=allow_private)
    target = httpx.URL(url)
    send_headers = {key: value for key, value in (headers or {}).items() if key.lower() != "host"}
    default_port = 443 if checked.scheme == "https" else 80
    send_headers["Host"] = target.netloc.decode("ascii")  # the name (and port) as written
    extensions: dict[str, Any] = {"sni_hostname": checked.host} if checked.scheme == "https" else {}
    last_error: httpx.TransportError | None = None
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for address in checked.addresses:
            pinned = target.copy_with(
                host=str(address), port=None if checked.port == default_port else checked.port
            )
            request = client.build_request(
                method, pinned, content=content, headers=send_headers, extensions=extensions
            )
            try:
                response = client.send(request, stream=True)
            except httpx.ConnectError as exc:  # try the next address, as create_connection does
                last_error = exc
                continue
            try:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if max_bytes is not None and len(body) > max_bytes:
                        raise ResponseTooLarge(f"The response is larger than {max_bytes} bytes.")
            finally:
                response.close()
            # A complete, read response (iter_bytes decoded any Content-Encoding).
            decoded_headers = [
                (key, value)
                for key, value in response.headers.multi_items()
                if key.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ]
            return httpx.Response(
                response.status_code, headers=decoded_headers, content=bytes(body), request=request
            )
    assert last_error is not None
    raise last_error


class ResponseTooLarge(Exception):
    """A response body was larger than the ``max_bytes`` a caller accepts."""
