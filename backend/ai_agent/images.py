"""PNG facts without Pillow: size, and whether a render came out blank.

Screenshots and provider images are checked before they are stored: a preview script that drew
nothing gives a single-colour PNG, which is a failure, not a variant.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
# Bytes per pixel for 8-bit PNG colour types (grey, RGB, palette, grey+alpha, RGBA).
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class ImageFormatError(ValueError):
    """The bytes are not an image format this module understands."""


def sniff_image_type(data: bytes) -> str:
    """Return ``"png"``, ``"jpeg"``, ``"gif"``, ``"webp"`` or ``""`` from the first bytes."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(JPEG_SIGNATURE):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return ""


def png_size(data: bytes) -> tuple[int, int]:
    """Return ``(width, height)`` in pixels from a PNG's IHDR chunk.

    Raises:
        ImageFormatError: not a PNG.
    """
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ImageFormatError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks = []
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks.append((kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
        if kind == b"IEND":
            break
    return chunks


def png_rows(data: bytes) -> list[bytes]:
    """Decode an 8-bit, non-interlaced PNG into its unfiltered scanlines (bytes per row).

    Raises:
        ImageFormatError: not a PNG, or a bit depth / interlacing this decoder does not handle.
    """
    width, height = png_size(data)
    chunks = _chunks(data)
    ihdr = chunks[0][1]
    bit_depth, colour_type, _, _, interlace = ihdr[8], ihdr[9], ihdr[10], ihdr[11], ihdr[12]
    if bit_depth != 8 or interlace or colour_type not in _CHANNELS:
        raise ImageFormatError("only 8-bit non-interlaced PNGs are decoded")
    bpp = _CHANNELS[colour_type]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        filter_type = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up = previous[x]
            if filter_type == 1:
                line[x] = (line[x] + left) & 0xFF
            elif filter_type == 2:
                line[x] = (line[x] + up) & 0xFF
            elif filter_type == 3:
                line[x] = (line[x] + ((left + up) >> 1)) & 0xFF
            elif filter_type == 4:
                upper_left = previous[x - bpp] if x >= bpp else 0
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                line[x] = (line[x] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return rows


def png_distinct_colours(data: bytes, *, limit: int = 16) -> int:
    """Count distinct pixel values in a PNG, stopping at ``limit`` (1 means blank).

    Raises:
        ImageFormatError: see :func:`png_rows`.
    """
    ihdr = _chunks(data)[0][1]
    bpp = _CHANNELS.get(ihdr[9], 1)
    seen: set[bytes] = set()
    for row in png_rows(data):
        for x in range(0, len(row), bpp * 7):  # every 7th pixel is plenty to tell blank apart
            seen.add(row[x : x + bpp])
            if len(seen) >= limit:
                return len(seen)
    return len(seen)


def png_is_blank(data: bytes) -> bool:
    """True if every sampled pixel of the PNG has the same value."""
    return png_distinct_colours(data, limit=2) < 2


def png_encode(width: int, height: int, pixel: object) -> bytes:
    """Encode an RGB PNG; ``pixel(x, y) -> (r, g, b)`` (used by local servers and tests)."""
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            row.extend(pixel(x, y))  # type: ignore[operator]
        rows.append(bytes(row))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + chunk(b"IEND", b"")
    )
