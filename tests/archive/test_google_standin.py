"""The Google stand-in's generated images (used by the e2e run): real, deterministic pixels."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
import requests
from PIL import Image

from tests.google_standin import GoogleStandIn


@pytest.fixture
def generating() -> Iterator[GoogleStandIn]:
    server = GoogleStandIn(generate_images=True).start()
    yield server
    server.stop()


def test_it_answers_any_simgad_id_with_a_deterministic_png(generating: GoogleStandIn) -> None:
    # When two ids are asked for, one of them twice
    first = requests.get(f"{generating.url}/archive/simgad/7561357505873189479", timeout=5)
    again = requests.get(f"{generating.url}/archive/simgad/7561357505873189479", timeout=5)
    other = requests.get(f"{generating.url}/archive/simgad/15462957917811727813", timeout=5)

    # Then each is a 300x250 PNG, the same id gives the same bytes and another id other pixels
    for response in (first, again, other):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(response.content)).size == (300, 250)
    assert first.content == again.content
    assert Image.open(io.BytesIO(first.content)).tobytes() != Image.open(io.BytesIO(other.content)).tobytes()


def test_without_generation_unknown_ids_are_404(google: GoogleStandIn) -> None:
    # Given the archive tests' stand-in (no generation, no image registered)
    response = requests.get(f"{google.url}/archive/simgad/7561357505873189479", timeout=5)

    # Then an unknown id is not found
    assert response.status_code == 404
