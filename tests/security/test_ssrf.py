"""Issue 14, item 9: webhook URLs and the screenshot browser's requests reach public addresses
only, and the connection goes to the address that was checked (no DNS-rebinding window)."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from AdSpark.alerts import webhook_attempt
from AdSpark.models import DeliveryStatus, Watch, WatchRun, WebhookDelivery
from ai_agent.screenshots import ScreenshotService
from core.urlsafety import UnsafeURLError, check_url, embedded_ipv4, pinned_request
from tests.conftest import TESLA
from tests.factories import UserFactory

# Addresses the hardening probe got accepted, and their relatives: none is global.
REFUSED_URLS = [
    "http://100.64.0.1/",  # shared address space (CGNAT)
    "http://100.100.100.200/latest/meta-data/",  # a cloud metadata service in 100.64.0.0/10
    "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
    "http://[2002:a9fe:a9fe::]/",  # 6to4 wrapping 169.254.169.254
    "http://[2002:0a00:0001::]/",  # 6to4 wrapping 10.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 wrapping 169.254.169.254
    "http://[64:ff9b:1::7f00:1]/",  # local-use NAT64 wrapping 127.0.0.1
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
    "http://[::a9fe:a9fe]/",  # IPv4-compatible
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://10.0.0.1/",
    "http://192.0.2.1/",  # documentation range
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
]
GLOBAL_URLS = ["http://8.8.8.8/", "https://[2606:4700:4700::1111]/hook", "http://[2002:808:808::]/"]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_it_refuses_every_non_global_address_even_with_loopback_allowed(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_url(url, allow_loopback=True, allow_private=False)


@pytest.mark.parametrize(
    "url", ["http://[2002:7f00:1::]/", "http://[64:ff9b::7f00:1]/", "http://[::ffff:127.0.0.1]/"]
)
def test_loopback_wrapped_in_ipv6_is_loopback(url: str) -> None:
    with pytest.raises(UnsafeURLError, match="Loopback"):
        check_url(url, allow_loopback=False)


@pytest.mark.parametrize(
    "url", ["http://100.100.100.200/", "http://[2002:a9fe:a9fe::]/", "http://169.254.169.254/"]
)
def test_metadata_addresses_stay_refused_when_private_ranges_are_allowed(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_url(url, allow_loopback=True, allow_private=True)


@pytest.mark.parametrize("url", GLOBAL_URLS)
def test_it_accepts_global_addresses(url: str) -> None:
    assert check_url(url, allow_loopback=False, allow_private=False) == url


def test_it_finds_ipv4_addresses_inside_ipv6_ones() -> None:
    assert embedded_ipv4(ipaddress.ip_address("2002:a9fe:a9fe::")) == [
        ipaddress.ip_address("169.254.169.254")
    ]
    assert embedded_ipv4(ipaddress.ip_address("64:ff9b::a00:1")) == [ipaddress.ip_address("10.0.0.1")]
    assert embedded_ipv4(ipaddress.ip_address("2606:4700:4700::1111")) == []


# --- every way a webhook URL gets in --------------------------------------------------------

WATCHES = "/api/adspark/watches/"
PROBE_URLS = [
    "http://100.64.0.1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::]/",
]


@pytest.fixture
def alice_api(db: None) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(username="alice"))
    return client


@pytest.mark.parametrize("url", PROBE_URLS)
def test_webhook_create_refuses_it(alice_api: APIClient, url: str) -> None:
    response = alice_api.post(WATCHES, {"name": "w", "text": "tesla", "webhook_url": url}, format="json")
    assert response.status_code == 400 and "webhook_url" in response.json()
    assert not Watch.objects.exists()


@pytest.mark.parametrize("url", PROBE_URLS)
def test_webhook_patch_refuses_it(alice_api: APIClient, url: str) -> None:
    created = alice_api.post(WATCHES, {"name": "w", "text": "tesla"}, format="json")
    assert created.status_code == 201, created.json()
    response = alice_api.patch(f"{WATCHES}{created.json()['id']}/", {"webhook_url": url}, format="json")
    assert response.status_code == 400 and "webhook_url" in response.json()
    assert Watch.objects.get().webhook_url == ""


@pytest.mark.parametrize("url", PROBE_URLS)
def test_save_as_watch_from_search_refuses_it(alice_api: APIClient, url: str) -> None:
    response = alice_api.post("/api/search/save-as-watch/", {"q": TESLA, "webhook_url": url}, format="json")
    assert response.status_code == 400 and "webhook_url" in response.json(), response.json()
    assert not Watch.objects.exists()


# --- DNS rebinding: connect to the address that was checked ---------------------------------


class RebindingDNS:
    """A resolver for ``name`` that answers ``first`` once and ``then`` ever after (the attack:
    a public answer for the check, an internal one for the connection); other names resolve
    normally. ``lookups`` counts the answers given for ``name``."""

    def __init__(self, name: str, first: str, then: str) -> None:
        self.name, self.first, self.then = name, first, then
        self.lookups = 0
        self._real = socket.getaddrinfo

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != self.name:
            return self._real(host, port, *args, **kwargs)
        self.lookups += 1
        address = self.first if self.lookups == 1 else self.then
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 80)))]


class Receiver:
    """A local HTTP server that records requests: ``(method, path, Host header)``."""

    def __init__(self, *, body: bytes = b"ok", content_type: str = "text/plain") -> None:
        self.requests: list[tuple[str, str, str]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                receiver.requests.append((self.command, self.path, self.headers.get("Host", "")))
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def test_a_pinned_request_connects_to_the_checked_address_and_keeps_the_host_name(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a name that resolves to the receiver for the check, then to a metadata address
    dns = RebindingDNS("hooks.rebind.test", first="127.0.0.1", then="169.254.169.254")
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    # when a request is sent there
    response = pinned_request(
        "POST",
        f"http://hooks.rebind.test:{receiver.port}/hook",
        content=b"{}",
        allow_loopback=True,
        timeout=5,
    )
    # then it reached the checked address, the name was looked up once, and Host is the name
    assert response.status_code == 200 and response.content == b"ok"
    assert dns.lookups == 1
    assert receiver.requests == [("POST", "/hook", f"hooks.rebind.test:{receiver.port}")]


def test_a_pinned_request_to_a_refused_address_sends_nothing(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        socket, "getaddrinfo", RebindingDNS("evil.rebind.test", first="169.254.169.254", then="127.0.0.1")
    )
    with pytest.raises(UnsafeURLError):
        pinned_request("GET", f"http://evil.rebind.test:{receiver.port}/", allow_loopback=True)
    assert receiver.requests == []


@pytest.mark.django_db
def test_a_webhook_delivery_goes_to_the_address_that_was_checked(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, settings
) -> None:  # type: ignore[no-untyped-def]
    # given a watch whose webhook host answers the receiver's address once, then a private one
    settings.URL_ALLOW_LOOPBACK = True
    watch = Watch.objects.create(
        owner=UserFactory(username="alice"),
        name="w",
        text="tesla",
        next_run_at="2026-01-01T00:00:00Z",
        webhook_url=f"http://hooks.rebind.test:{receiver.port}/adspark",
        webhook_secret="s" * 32,
    )
    run = WatchRun.objects.create(watch=watch, status="succeeded")
    delivery = WebhookDelivery.objects.create(watch_run=run, url=watch.webhook_url)
    dns = RebindingDNS("hooks.rebind.test", first="127.0.0.1", then="10.255.255.1")
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    # when it is delivered
    outcome = webhook_attempt(delivery_id=delivery.pk)
    # then it arrived at the checked address after a single lookup
    assert outcome.done and outcome.status_code == 200, outcome
    assert dns.lookups == 1
    assert [request[:2] for request in receiver.requests] == [("POST", "/adspark")]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


# A 1x1 red PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc000"
    "000301010018dd8db00000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[ScreenshotService]:
    service = ScreenshotService(allow_loopback=True, timeout=15)
    yield service
    service.close()


def test_the_browser_loads_sub_requests_from_the_checked_address_only(
    browser: ScreenshotService, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Receiver(body=PNG, content_type="image/png") as images:
        # given an image host that exists only in our resolver (Chromium could not resolve it)
        dns = RebindingDNS("img.rebind.test", first="127.0.0.1", then="127.0.0.1")
        monkeypatch.setattr(socket, "getaddrinfo", dns)
        # when the browser draws an image from it
        shot = browser.shot_image_url(f"http://img.rebind.test:{images.port}/ad.png", width=1, height=1)
        # then the image came through the checked connection, with the name as Host
        assert (shot.width, shot.height) == (1, 1)
        assert images.requests == [("GET", "/ad.png", f"img.rebind.test:{images.port}")]

        # and when the name rebinds to a refused address after the page's first check
        rebinding = RebindingDNS("img2.rebind.test", first="127.0.0.1", then="169.254.169.254")
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        with pytest.raises(Exception, match="did not load"):
            browser.shot_image_url(f"http://img2.rebind.test:{images.port}/ad.png", width=1, height=1)
        # then nothing was fetched from it: the sub-request was checked again and refused
        assert len(images.requests) == 1


def test_page_sub_requests_to_refused_addresses_are_blocked(
    browser: ScreenshotService, tmp_path: Path
) -> None:
    html = (
        '<img src="http://100.100.100.200/latest/meta-data/x.png"><img src="http://[2002:a9fe:a9fe::]/y.png">'
    )
    shot = browser.render_html(html, width=50, height=50, allow_network=True)
    assert set(shot.blocked) == {
        "http://100.100.100.200/latest/meta-data/x.png",
        "http://[2002:a9fe:a9fe::]/y.png",
    }
