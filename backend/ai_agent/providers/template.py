"""The ``template`` provider: no AI and no network, the offline default.

It makes a variant *of the source creative*, drawn with Pillow: the creative's screenshot (the
worker's browser draws it before the provider runs, like for the AI providers) is the hero
image, its headline and description (SerpApi ad details ``headline``/``title`` and
``snippet``/``description``, else the advertiser's name) are the copy, the user's prompt is the
new message, and the colours are the screenshot's dominant ones. Three standard sizes: the
1080x1080 social square (the variant's main image), the IAB 300x250 medium rectangle and the
728x90 leaderboard. The API labels these variants as templates, not AI (``is_ai`` False).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from ..models import Stage
from .base import GenerationHooks, GenerationRequest, GenerationResult, ProviderPermanentError, Render

RGB = tuple[int, int, int]
# (label, width, height): the social square first (the variant's main image), then the IAB
# medium rectangle and leaderboard.
TEMPLATE_SIZES = (("1080x1080", 1080, 1080), ("300x250", 300, 250), ("728x90", 728, 90))
# Colours counted on a thumbnail this wide (pixels): enough for the big areas of an ad, fast.
PALETTE_SAMPLE_PX = 96
PALETTE_COLOURS = 6
# Debian's fonts-dejavu-core / fonts-liberation (the worker image has both); else Pillow's own.
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")
FONT_FILES = {
    False: ("DejaVuSans.ttf", "LiberationSans-Regular.ttf"),
    True: ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf"),
}


@dataclass(frozen=True)
class Palette:
    """Colours taken from the creative: ``background`` (its most common colour), ``accent`` (the
    most common one that stands out from it), and ``text`` readable on the background."""

    background: RGB
    accent: RGB
    text: RGB


@dataclass(frozen=True)
class AdCopy:
    """What the variant says: ``headline`` and ``description`` of the source ad, the user's
    ``message`` (the prompt), ``cta`` and the ``link`` shown."""

    headline: str
    description: str
    message: str
    cta: str
    link: str

    @classmethod
    def from_request(cls, request: GenerationRequest) -> AdCopy:
        snapshot = request.snapshot
        details = snapshot.get("details") or {}
        return cls(
            headline=details.get("headline")
            or details.get("title")
            or snapshot.get("advertiser_name")
            or "Your ad",
            description=details.get("snippet") or details.get("description") or "",
            message=request.prompt,
            cta=details.get("call_to_action") or "Learn more",
            link=details.get("visible_link") or snapshot.get("target_domain") or "",
        )


def _luminance(colour: RGB) -> float:
    r, g, b = colour
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _distance(a: RGB, b: RGB) -> int:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))


def dominant_colours(image: Image.Image, count: int = PALETTE_COLOURS) -> list[tuple[RGB, int]]:
    """The ``count`` most common colours of ``image`` as ``[(rgb, pixels), …]``, most common first
    (median-cut quantisation of a ``PALETTE_SAMPLE_PX``-wide thumbnail)."""
    sample = image.convert("RGB")
    sample.thumbnail((PALETTE_SAMPLE_PX, PALETTE_SAMPLE_PX))
    quantised = sample.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    flat = quantised.getpalette() or []
    found = []
    for pixels, index in sorted(quantised.getcolors() or [], reverse=True):
        start = int(index) * 3  # type: ignore[call-overload]  # a palette image's colours are indices
        r, g, b = flat[start : start + 3]
        found.append(((r, g, b), pixels))
    return found


def palette_of(image: Image.Image) -> Palette:
    """The variant's colours from the creative (see :class:`Palette`)."""
    colours = [rgb for rgb, _ in dominant_colours(image)] or [(32, 33, 36)]
    background = colours[0]
    # The accent must be visible on the background: the most common colour far enough from it.
    accent = next((c for c in colours[1:] if _distance(c, background) > 60**2), None)
    text: RGB = (20, 20, 20) if _luminance(background) > 140 else (255, 255, 255)
    return Palette(background=background, accent=accent or text, text=text)


def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for directory in FONT_DIRS:
        for name in FONT_FILES[bold]:
            path = Path(directory) / name
            if path.exists():
                return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels, at most ``max_lines`` (the last ends with "…")."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(".,;:") + "…"
    for i, line in enumerate(lines):  # a single word longer than the width
        while len(line) > 1 and draw.textlength(line, font=font) > width:
            line = line[:-2] + "…"
        lines[i] = line
    return lines


def _text_block(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    *,
    size: int,
    width: int,
    lines: int,
    colour: RGB,
    bold: bool = False,
) -> int:
    """Draw wrapped ``text`` at ``xy``; return the y below it (pixels)."""
    if not text or lines <= 0:
        return xy[1]
    font = _font(size, bold=bold)
    x, y = xy
    step = int(size * 1.22)
    for line in _wrap(draw, text, font, width, lines):
        draw.text((x, y), line, font=font, fill=colour)
        y += step
    return y


def _button(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    label: str,
    *,
    size: int,
    palette: Palette,
    anchor_right: bool = False,
) -> tuple[int, int, int, int]:
    font = _font(size, bold=True)
    pad_x, pad_y = size, size // 2
    width = int(draw.textlength(label, font=font)) + 2 * pad_x
    height = size + 2 * pad_y
    x, y = xy
    if anchor_right:
        x -= width
    box = (x, y, x + width, y + height)
    draw.rounded_rectangle(box, radius=height // 2, fill=palette.accent)
    label_colour: RGB = (20, 20, 20) if _luminance(palette.accent) > 140 else (255, 255, 255)
    draw.text((x + pad_x, y + pad_y + size // 2), label, font=font, fill=label_colour, anchor="lm")
    return box


def _paste_fitted(
    canvas: Image.Image, hero: Image.Image, box: tuple[int, int, int, int]
) -> tuple[int, int, int, int]:
    """Scale ``hero`` to fit ``box`` (x0, y0, x1, y1) keeping its aspect ratio, centred; return
    where it went."""
    x0, y0, x1, y1 = box
    scale = min((x1 - x0) / hero.width, (y1 - y0) / hero.height)
    size = (max(1, round(hero.width * scale)), max(1, round(hero.height * scale)))
    fitted = hero.resize(size, Image.Resampling.LANCZOS)
    at = (x0 + (x1 - x0 - size[0]) // 2, y0 + (y1 - y0 - size[1]) // 2)
    canvas.paste(fitted, at)
    placed = (at[0], at[1], at[0] + size[0], at[1] + size[1])
    # A hairline frame: a creative on a background of its own colour still shows its edges.
    ImageDraw.Draw(canvas).rectangle(
        (placed[0] - 1, placed[1] - 1, placed[2], placed[3]), outline=(128, 128, 128)
    )
    return placed


def _badge(draw: ImageDraw.ImageDraw, width: int, size: int) -> None:
    font = _font(size)
    label = "TEMPLATE"
    w = int(draw.textlength(label, font=font)) + size
    draw.rectangle((width - w, 0, width, int(size * 1.6)), fill=(0, 0, 0))
    draw.text((width - w + size // 2, int(size * 0.8)), label, font=font, fill=(255, 255, 255), anchor="lm")


def render_size(hero: Image.Image, copy: AdCopy, palette: Palette, width: int, height: int) -> Image.Image:
    """One size of the variant: ``width`` x ``height`` pixels, RGB."""
    canvas = Image.new("RGB", (width, height), palette.background)
    draw = ImageDraw.Draw(canvas)
    if height <= 120:  # leaderboard: hero on the left, copy in the middle, button on the right
        pad = 8
        placed = _paste_fitted(
            canvas, hero, (pad, pad, min(width // 3, pad + 3 * (height - 2 * pad)), height - pad)
        )
        button = _button(
            draw, (width - 14, height // 2 - 16), copy.cta, size=14, palette=palette, anchor_right=True
        )
        x = placed[2] + 14
        text_width = button[0] - 12 - x
        y = _text_block(
            draw, (x, 10), copy.headline, size=18, width=text_width, lines=1, colour=palette.text, bold=True
        )
        _text_block(draw, (x, y + 2), copy.message, size=13, width=text_width, lines=2, colour=palette.text)
        _badge(draw, width, 8)
    elif width <= 400:  # medium rectangle: hero on top, headline, message, button
        pad = 12
        placed = _paste_fitted(canvas, hero, (pad, pad, width - pad, int(height * 0.46)))
        y = _text_block(
            draw,
            (pad, placed[3] + 8),
            copy.headline,
            size=17,
            width=width - 2 * pad,
            lines=2,
            colour=palette.text,
            bold=True,
        )
        _text_block(
            draw, (pad, y + 2), copy.message, size=12, width=width - 2 * pad, lines=2, colour=palette.text
        )
        _button(draw, (pad, height - pad - 26), copy.cta, size=12, palette=palette)
        _badge(draw, width, 9)
    else:  # square: hero on top half, then headline, description, message, button and link
        pad = 72
        placed = _paste_fitted(canvas, hero, (pad, pad, width - pad, int(height * 0.52)))
        y = placed[3] + 44
        y = _text_block(
            draw,
            (pad, y),
            copy.headline,
            size=60,
            width=width - 2 * pad,
            lines=2,
            colour=palette.text,
            bold=True,
        )
        y = _text_block(
            draw,
            (pad, y + 10),
            copy.description,
            size=32,
            width=width - 2 * pad,
            lines=2,
            colour=palette.text,
        )
        draw.rectangle((pad, y + 18, pad + 8, y + 18 + 2 * 46), fill=palette.accent)
        _text_block(
            draw,
            (pad + 28, y + 18),
            copy.message,
            size=38,
            width=width - 2 * pad - 28,
            lines=2,
            colour=palette.text,
        )
        button = _button(draw, (pad, height - pad - 76), copy.cta, size=36, palette=palette)
        if copy.link:
            _text_block(
                draw,
                (button[2] + 32, button[1] + 20),
                copy.link,
                size=28,
                width=width - button[2] - 32 - pad,
                lines=1,
                colour=palette.text,
            )
        _badge(draw, width, 22)
    return canvas


def render_variant(
    screenshot: bytes, copy: AdCopy, sizes: Sequence[tuple[str, int, int]] = TEMPLATE_SIZES
) -> tuple[list[Render], Palette]:
    """Every size of the variant from the creative's ``screenshot`` (PNG or JPEG bytes), and the
    colours taken from it.

    Raises:
        ProviderPermanentError: the screenshot is not an image Pillow can read.
    """
    try:
        with Image.open(io.BytesIO(screenshot)) as opened:
            hero = opened.convert("RGB")
    except (OSError, ValueError) as exc:
        raise ProviderPermanentError(
            f"The creative's screenshot is not an image: {exc}", code="bad_screenshot"
        ) from exc
    palette = palette_of(hero)
    renders = []
    for label, width, height in sizes:
        buffer = io.BytesIO()
        render_size(hero, copy, palette, width, height).save(buffer, format="PNG", optimize=True)
        renders.append(Render(label=label, png=buffer.getvalue(), width=width, height=height))
    return renders, palette


class TemplateProvider:
    name = "template"
    needs_screenshot = True  # the source creative is the variant's hero image

    def __init__(self, screenshots: Any = None) -> None:
        self._screenshots = screenshots

    def generate(self, request: GenerationRequest, hooks: GenerationHooks) -> GenerationResult:
        """Lay the creative out in the three sizes; the first (1080x1080) is the main image.

        ``request.screenshot`` is the creative drawn by the worker; without one (a direct call)
        the creative is drawn here with the screenshot service.

        Raises:
            ai_agent.screenshots.ScreenshotError: drawing the creative failed (transient).
            ProviderPermanentError: the screenshot is not an image.
        """
        screenshot = request.screenshot
        if screenshot is None:
            from ..screenshots import get_screenshot_service

            screenshot = (self._screenshots or get_screenshot_service()).shot_creative(request.snapshot).png
        copy = AdCopy.from_request(request)
        hooks.progress(20, Stage.GENERATING)
        renders, palette = render_variant(screenshot, copy)
        colours = {"background": palette.background, "accent": palette.accent, "text": palette.text}
        return GenerationResult(
            headline=copy.headline,
            text=copy.message,
            renders=renders,
            meta={
                "template": "pillow",
                "palette": {k: "#{:02x}{:02x}{:02x}".format(*v) for k, v in colours.items()},
            },
        )
