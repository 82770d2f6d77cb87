"""The screenshot service draws every kind of creative in a real Chromium, safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_agent.images import png_encode, png_is_blank, png_size
from ai_agent.providers.base import GenerationHooks, GenerationRequest
from ai_agent.providers.template import TemplateProvider
from ai_agent.screenshots import PageTooLargeError, ScreenshotError, ScreenshotService, TextAd, creative_kind
from core.urlsafety import UnsafeURLError

pytestmark = pytest.mark.slow

# A stand-in for displayads-formats.googleusercontent.com/ads/preview/content.js: like the real
# script it reads htmlParentId / responseCallback from its own URL, renders the ad into that
# element (an iframe) and then calls the callback.
CONTENT_JS = """(function () {
  var q = new URL(document.currentScript.src).searchParams;
  var parent = document.getElementById(q.get('htmlParentId'));
  var frame = document.createElement('iframe');
  frame.width = 300; frame.height = 250; frame.style.border = '0';
  frame.srcdoc = '<body style="margin:0;background:#0b57d0;color:#fff;font:22px sans-serif">'
    + '<div style="padding:24px">Preview ad</div><img src="' + q.get('pixel') + '" width="40" height="40"></body>';
  frame.onload = function () { window[q.get('responseCallback')]({renderedAd: true}); };
  parent.appendChild(frame);
})();"""


def _write_png(root: Path, name: str, width: int, height: int) -> None:
    (root / name).write_bytes(png_encode(width, height, lambda x, y: ((x * 3) % 256, (y * 5) % 256, 120)))


def test_it_draws_an_image_creative_at_its_size(
    screenshots: ScreenshotService, static_site: tuple[str, Path]
) -> None:
    # Given an image creative served over HTTP with SerpApi's width/height
    base, root = static_site
    _write_png(root, "ad.png", 174, 165)
    snapshot = {"format": "image", "image_url": f"{base}/ad.png", "width": 348, "height": 330}
    # When it is drawn
    shot = screenshots.shot_creative(snapshot)
    # Then the PNG has the creative's size and is not blank
    assert shot.kind == "image"
    assert png_size(shot.png) == (348, 330)
    assert not png_is_blank(shot.png)


def test_it_draws_an_image_of_unknown_size_at_its_natural_size(
    screenshots: ScreenshotService, static_site: tuple[str, Path]
) -> None:
    base, root = static_site
    _write_png(root, "natural.png", 120, 80)
    shot = screenshots.shot_image_url(f"{base}/natural.png")
    assert (shot.width, shot.height) == (120, 80)


def test_it_draws_a_preview_link_through_a_host_page(
    screenshots: ScreenshotService, static_site: tuple[str, Path]
) -> None:
    # Given a SerpApi-style preview link whose content.js is served locally
    base, root = static_site
    (root / "ads" / "preview").mkdir(parents=True, exist_ok=True)
    (root / "ads" / "preview" / "content.js").write_text(CONTENT_JS)
    _write_png(root, "pixel.png", 40, 40)
    link = (
        f"{base}/ads/preview/content.js?client=ads-integrity-transparency&creativeId=1&pixel={base}/pixel.png"
        "&htmlParentId=fletch-render-12503952735795319731&responseCallback=fletchCallback12503952735795319731"
    )
    snapshot = {"format": "video", "preview_url": link}
    assert creative_kind(snapshot) == "preview"
    # When it is drawn
    shot = screenshots.shot_creative(snapshot)
    # Then the rendered ad is captured at its size, and it is not blank
    assert shot.kind == "preview"
    assert png_size(shot.png) == (300, 250)
    assert not png_is_blank(shot.png)
    assert shot.blocked == ()


def test_it_draws_a_text_ad_as_a_card(screenshots: ScreenshotService) -> None:
    snapshot = {
        "format": "text",
        "details": {
            "title": "lululemon",
            "snippet": "Lightweight travel gear.",
            "visible_link": "shop.lululemon.com",
        },
    }
    assert creative_kind(snapshot) == "text"
    shot = screenshots.shot_creative(snapshot)
    assert png_size(shot.png) == (600, 200)
    assert not png_is_blank(shot.png)


def test_it_escapes_ad_copy_in_the_card(screenshots: ScreenshotService) -> None:
    # A title with markup is text, not HTML: the card still renders at its size.
    shot = screenshots.shot_text_ad(
        TextAd(title='<img src="http://10.0.0.1/x">Sale', snippet="<script>alert(1)</script>")
    )
    assert (shot.width, shot.height) == (600, 200)
    assert shot.blocked == ()  # the <img> was never an element, so nothing was even requested


def test_the_template_provider_renders_three_standard_sizes(screenshots: ScreenshotService) -> None:
    request = GenerationRequest(
        variant_id=1, prompt="Summer sale: 20% off", snapshot={"advertiser_name": "Nike, Inc."}, user_ref="u"
    )
    result = TemplateProvider(screenshots).generate(request, GenerationHooks())
    sizes = [(r.label, png_size(r.png)) for r in result.renders]
    assert sizes == [("1080x1080", (1080, 1080)), ("300x250", (300, 250)), ("728x90", (728, 90))]
    assert not png_is_blank(result.renders[1].png)
    assert result.headline == "Nike, Inc."
    assert result.text == "Summer sale: 20% off"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/ad.png",  # private
        "http://192.168.0.10/ad.png",
        "http://169.254.169.254/latest/meta-data/",  # link-local (cloud metadata)
        "file:///etc/passwd",  # not http(s)
        "ftp://example.com/ad.png",
        "javascript:alert(1)",
    ],
)
def test_it_refuses_unsafe_urls_before_any_request(screenshots: ScreenshotService, url: str) -> None:
    with pytest.raises(UnsafeURLError):
        screenshots.shot_image_url(url)
    with pytest.raises(UnsafeURLError):
        screenshots.shot_preview(url)


def test_it_refuses_loopback_unless_allowed(static_site: tuple[str, Path]) -> None:
    # Given a local server and a service that does not allow loopback addresses
    base, root = static_site
    _write_png(root, "local.png", 10, 10)
    strict = ScreenshotService(allow_loopback=False)
    try:
        # When a loopback URL is drawn, then it is refused, and the browser never started
        with pytest.raises(UnsafeURLError):
            strict.shot_image_url(f"{base}/local.png")
        assert not strict.browser_running
    finally:
        strict.close()


def test_it_blocks_unsafe_sub_requests_of_a_page(
    screenshots: ScreenshotService, static_site: tuple[str, Path]
) -> None:
    # Given a preview script (allowed) that pulls an image from a private address
    base, root = static_site
    (root / "ads" / "preview").mkdir(parents=True, exist_ok=True)
    (root / "ads" / "preview" / "content.js").write_text(CONTENT_JS)
    link = f"{base}/ads/preview/content.js?pixel=http://10.0.0.5/track.png&htmlParentId=fletch-render-1&responseCallback=fletchCallback1"
    # When it is drawn, then the private sub-request is refused and reported
    shot = screenshots.shot_preview(link)
    assert shot.blocked == ("http://10.0.0.5/track.png",)


def test_it_refuses_pages_over_the_byte_budget(static_site: tuple[str, Path]) -> None:
    base, root = static_site
    _write_png(root, "big.png", 400, 400)
    size = (root / "big.png").stat().st_size
    small = ScreenshotService(allow_loopback=True, max_bytes=max(1024, size // 2))
    try:
        with pytest.raises(ScreenshotError):
            small.shot_image_url(f"{base}/big.png")
    finally:
        small.close()


def test_it_refuses_renders_larger_than_the_maximum(screenshots: ScreenshotService) -> None:
    with pytest.raises(PageTooLargeError):
        screenshots.render_html("<p>x</p>", width=5000, height=100)


def test_a_preview_that_draws_nothing_is_an_error(
    screenshots: ScreenshotService, static_site: tuple[str, Path]
) -> None:
    base, root = static_site
    (root / "empty.js").write_text("/* renders nothing and never calls back */")
    fast = ScreenshotService(allow_loopback=True, timeout=2)
    try:
        with pytest.raises(ScreenshotError):
            fast.shot_preview(
                f"{base}/empty.js?htmlParentId=fletch-render-9&responseCallback=fletchCallback9"
            )
    finally:
        fast.close()
