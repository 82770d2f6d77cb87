"""Media storage settings: the filesystem by default, an S3-compatible bucket with MEDIA_STORAGE=s3.

Each case starts a fresh Python with the environment to test (settings are read at import);
no request is sent anywhere (S3 URLs are computed, signed ones too, locally).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import BACKEND_DIR

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.files.storage import storages
storage = storages["default"]
print(json.dumps({
    "backend": type(storage).__module__ + "." + type(storage).__name__,
    "url": storage.url("archive/05/CR1.png"),
    "serve": settings.MEDIA_SERVE,
}))
"""


def _probe(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MEDIA_"))}
    clean.update(DJANGO_SETTINGS_MODULE="backend.settings", DJANGO_DEBUG="true", **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=BACKEND_DIR, env=clean, capture_output=True, text=True, timeout=60
    )


def test_files_are_under_media_root_and_served_by_django_in_debug() -> None:
    result = _probe()
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe == {
        "backend": "django.core.files.storage.filesystem.FileSystemStorage",
        "url": "/media/archive/05/CR1.png",
        "serve": True,
    }


def test_s3_storage_gives_bucket_urls_and_django_serves_nothing() -> None:
    result = _probe(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="adspark-media",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_S3_REGION_NAME="us-east-1",
        AWS_ACCESS_KEY_ID="test-key-id",
        AWS_SECRET_ACCESS_KEY="test-secret",
        AWS_QUERYSTRING_AUTH="false",
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["backend"] == "storages.backends.s3.S3Storage"
    assert probe["url"] == "http://127.0.0.1:9/adspark-media/archive/05/CR1.png"
    assert probe["serve"] is False
    # signed URLs by default
    signed = json.loads(
        _probe(
            MEDIA_STORAGE="s3",
            AWS_STORAGE_BUCKET_NAME="adspark-media",
            AWS_S3_ENDPOINT_URL="http://127.0.0.1:9",
            AWS_S3_REGION_NAME="us-east-1",
            AWS_ACCESS_KEY_ID="test-key-id",
            AWS_SECRET_ACCESS_KEY="test-secret",
        ).stdout
    )
    assert "X-Amz-Signature=" in signed["url"] or "Signature=" in signed["url"]


def test_s3_storage_without_a_bucket_is_refused_at_start() -> None:
    result = _probe(MEDIA_STORAGE="s3")
    assert result.returncode != 0
    assert "MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME" in result.stderr
