"""Image facts through Pillow: the type of some bytes, a PNG's size, whether a render is blank.

Screenshots and provider images are checked before they are stored: a preview script that drew
nothing gives a single-colour PNG, which is a failure, not a variant.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, UnidentifiedImageError

# Pillow's format names for the types providers return (anything else is refused).
_KNOWN_TYPES = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}


class ImageFormatError(ValueError):
    """The bytes are not an image, or not the image type asked for."""


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data))  # lazy: reads the header only
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageFormatError("not an image") from exc


def sniff_image_type(data: bytes) -> str:
    """Return ``"png"``, ``"jpeg"``, ``"gif"``, ``"webp"`` or ``""`` (not one of those)."""
    try:
        return _KNOWN_TYPES.get(_open(data).format or "", "")
    except ImageFormatError:
        return ""


def png_size(data: bytes) -> tuple[int, int]:
    """Return ``(width, height)`` in pixels of a PNG (from its header; pixels are not decoded).

    Raises:
        ImageFormatError: not a PNG.
    """
    image = _open(data)
    if image.format != "PNG":
        raise ImageFormatError("not a PNG image")
    return image.size


def png_is_blank(data: bytes) -> bool:
    """True if every pixel of the PNG has the same value (every band's min equals its max).

    Raises:
        ImageFormatError: not a PNG, or its pixel data cannot be decoded.
    """
    image = _open(data)
    if image.format != "PNG":
        raise ImageFormatError("not a PNG image")
    try:
        extrema = image.getextrema()
    except (OSError, ValueError) as exc:  # truncated or corrupt pixel data
        raise ImageFormatError(f"undecodable PNG: {exc}") from exc
    bands = extrema if isinstance(extrema[0], tuple) else (extrema,)
    return all(low == high for low, high in bands)  # type: ignore[misc]


def png_encode(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """Encode an RGB PNG of ``width`` × ``height`` pixels; ``pixel(x, y) -> (r, g, b)`` (0-255).

    Used by the local servers, tests and benchmarks to make images with known content.
    """
    image = Image.new("RGB", (width, height))
    image.putdata([pixel(x, y) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
