"""The template provider makes a variant of the source creative: its picture, copy and colours."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from ai_agent.providers.base import GenerationHooks, GenerationRequest, ProviderPermanentError
from ai_agent.providers.template import TEMPLATE_SIZES, AdCopy, TemplateProvider, dominant_colours, palette_of

NAVY = (12, 34, 96)
ORANGE = (250, 140, 20)
SNAPSHOT = {
    "advertiser_name": "Tesla Inc.",
    "target_domain": "tesla.com",
    "details": {
        "title": "Model Y: test drive today",
        "snippet": "Book a demo drive at your nearest showroom.",
        "call_to_action": "Book now",
    },
}


def _creative_png(width: int = 600, height: int = 300) -> bytes:
    """A source creative: mostly navy with an orange block (the ad's logo, say) on the left."""
    image = Image.new("RGB", (width, height), NAVY)
    ImageDraw.Draw(image).rectangle((0, 0, width // 4, height // 2), fill=ORANGE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _generate(screenshot: bytes, snapshot: dict | None = None, prompt: str = "Winter test-drive weekend"):
    request = GenerationRequest(
        variant_id=1, prompt=prompt, snapshot=snapshot or SNAPSHOT, user_ref="u", screenshot=screenshot
    )
    return TemplateProvider().generate(request, GenerationHooks())


def _share(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 12) -> float:
    """The fraction of ``image``'s pixels within ``tolerance`` of ``colour`` on every channel."""
    pixels = list(image.convert("RGB").get_flattened_data())
    close = sum(1 for p in pixels if all(abs(a - b) <= tolerance for a, b in zip(p, colour, strict=True)))
    return close / len(pixels)


def test_it_renders_the_three_standard_sizes_as_pngs():
    result = _generate(_creative_png())
    assert [(r.label, r.width, r.height) for r in result.renders] == [
        (label, w, h) for label, w, h in TEMPLATE_SIZES
    ]
    for render in result.renders:
        with Image.open(io.BytesIO(render.png)) as image:
            assert image.format == "PNG" and image.size == (render.width, render.height)


def test_the_source_creative_is_the_hero_of_every_size():
    # Given a creative with an orange block covering 1/8 of it
    result = _generate(_creative_png())
    for render in result.renders:
        image = Image.open(io.BytesIO(render.png))
        # Then its orange pixels are in the variant (the hero is the creative, scaled to fit) …
        assert _share(image, ORANGE) > 0.002, render.label
    square = Image.open(io.BytesIO(result.renders[0].png))
    # … and in the square, the hero's top-left holds the creative's own top-left (orange), its
    # bottom-right the creative's navy.
    hero = square.crop((72, 72, 1008, 562))
    assert _share(hero, ORANGE) == pytest.approx(1 / 8, abs=0.03)


def test_it_takes_its_colours_from_the_creative():
    # Given a mostly navy creative with an orange accent
    result = _generate(_creative_png())
    assert result.meta["palette"]["background"] == "#{:02x}{:02x}{:02x}".format(*NAVY)
    assert result.meta["palette"]["accent"] == "#{:02x}{:02x}{:02x}".format(*ORANGE)
    assert result.meta["palette"]["text"] == "#ffffff"  # light text on a dark background
    # Then the variant's background is the creative's navy: the corners, and most of the canvas
    square = Image.open(io.BytesIO(result.renders[0].png)).convert("RGB")
    assert square.getpixel((5, 1075)) == NAVY and square.getpixel((1075, 1075)) == NAVY
    assert _share(square, NAVY) > 0.5


def test_dominant_colours_are_the_commonest_first():
    image = Image.new("RGB", (100, 100), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((0, 0, 29, 99), fill=(200, 0, 0))  # 30 %
    colours = dominant_colours(image)
    assert colours[0][0] == (255, 255, 255) and colours[1][0] == (200, 0, 0)
    palette = palette_of(image)
    assert palette.background == (255, 255, 255) and palette.accent == (200, 0, 0)
    assert palette.text == (20, 20, 20)  # dark text on a light background


def test_a_single_colour_creative_still_gets_a_visible_accent():
    palette = palette_of(Image.new("RGB", (50, 50), (255, 255, 255)))
    assert palette.accent == palette.text != palette.background


def test_it_uses_the_ad_details_for_copy_and_the_prompt_as_the_message():
    result = _generate(_creative_png(), prompt="Announce a winter test-drive weekend")
    assert result.headline == "Model Y: test drive today"
    assert result.text == "Announce a winter test-drive weekend"
    copy = AdCopy.from_request(
        GenerationRequest(variant_id=1, prompt="p", snapshot=SNAPSHOT, user_ref="u", screenshot=b"")
    )
    assert copy.description == "Book a demo drive at your nearest showroom."
    assert copy.cta == "Book now" and copy.link == "tesla.com"


def test_without_ad_details_the_advertiser_is_the_headline():
    result = _generate(_creative_png(), snapshot={"advertiser_name": "Nike, Inc."})
    assert result.headline == "Nike, Inc."
    assert len(result.renders) == 3


def test_the_copy_changes_the_pixels():
    # Two prompts give two different images (the text is drawn, not only stored)
    one = _generate(_creative_png(), prompt="Summer sale").renders[1].png
    two = _generate(_creative_png(), prompt="Winter test-drive weekend with free coffee").renders[1].png
    assert one != two


def test_a_screenshot_that_is_not_an_image_fails_permanently():
    with pytest.raises(ProviderPermanentError) as caught:
        _generate(b"not a png")
    assert caught.value.code == "bad_screenshot"
