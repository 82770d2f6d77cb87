"""Region (geo code) mapping for the Ads Transparency Center.

SerpApi's ``region`` takes Google's numeric geo codes only: 2000 + the ISO 3166-1 numeric code
(2840 = United States, 2826 = United Kingdom). AdSpark also accepts ISO 3166-1 alpha-2 letters
("US", "GB") and maps them. The 239 valid codes are SerpApi's own list, shipped in
``data/regions.json`` (a copy of SerpApi's parameter spec); letters come from ``pycountry``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pycountry

_REGIONS_FILE = Path(__file__).with_name("data") / "regions.json"

# Geo codes without an ISO 3166-1 alpha-2 entry in pycountry. "IC" (Canary Islands) is an
# exceptionally reserved ISO code that Google uses for geo 20277.
_EXTRA_LETTERS = {"IC": "20277", "UK": "2826"}


class UnknownRegionError(ValueError):
    """The region is neither a supported geo code nor ISO letters that map to one."""


@lru_cache(maxsize=1)
def regions() -> dict[str, str]:
    """Return ``{geo_code: name}`` for SerpApi's 239 regions, e.g. ``{"2840": "United States"}``."""
    pairs = json.loads(_REGIONS_FILE.read_text(encoding="utf-8"))
    return {str(code): str(name) for code, name in pairs}


@lru_cache(maxsize=1)
def letters_to_geo() -> dict[str, str]:
    """Return ``{"US": "2840", …}`` for every region that has ISO alpha-2 letters."""
    mapping: dict[str, str] = {}
    for code in regions():
        numeric = int(code) - 2000
        country = pycountry.countries.get(numeric=f"{numeric:03d}") if numeric < 1000 else None
        if country is not None:
            mapping[country.alpha_2] = code
    for letters, code in _EXTRA_LETTERS.items():
        if code in regions():
            mapping.setdefault(letters, code)
    return mapping


@lru_cache(maxsize=1)
def geo_to_letters() -> dict[str, str]:
    """Return ``{"2840": "US", …}`` (the inverse of :func:`letters_to_geo`, first letters win)."""
    inverse: dict[str, str] = {}
    for letters, code in letters_to_geo().items():
        if letters != "UK":
            inverse.setdefault(code, letters)
    return inverse


def normalize_region(value: str | int) -> str:
    """Return the numeric geo code (``"2840"``) for ISO letters or a geo code.

    Accepts ``"US"``, ``"us"``, ``"2840"`` and ``2840``.

    Raises:
        UnknownRegionError: anything that is not one of SerpApi's 239 regions.
    """
    text = str(value).strip()
    if text.isdigit():
        if text in regions():
            return text
        raise UnknownRegionError(
            f"Unknown region geo code {text!r}; use ISO letters such as 'US' or a code such as '2840'."
        )
    code = letters_to_geo().get(text.upper())
    if code is None:
        raise UnknownRegionError(
            f"Unknown region {text!r}; use ISO letters such as 'US' or a geo code such as '2840'."
        )
    return code


def region_name(code: str) -> str:
    """Return the region's English name (``"2840"`` → ``"United States"``), or the code."""
    return regions().get(str(code), str(code))


@lru_cache(maxsize=1)
def _region_list() -> tuple[tuple[str, str, str], ...]:
    letters = geo_to_letters()
    rows = [(code, name, letters.get(code, "")) for code, name in regions().items()]
    return tuple(sorted(rows, key=lambda row: (row[1].casefold(), row[0])))


def region_list() -> list[dict[str, str]]:
    """Every region as ``{"code": "2840", "name": "United States", "letters": "US"}``, sorted by
    name (``letters`` is "" for the few geo codes without ISO alpha-2 letters)."""
    return [{"code": code, "name": name, "letters": letters} for code, name, letters in _region_list()]


def region_name_or_none(code: str | None) -> str | None:
    """:func:`region_name` of a geo code or ISO letters, or None when ``code`` is empty or unknown."""
    if not code:
        return None
    try:
        return regions()[normalize_region(code)]
    except UnknownRegionError:
        return None
