"""The frontend's API types are generated from the backend's OpenAPI schema; they must not drift.

``frontend/openapi.yaml`` is checked in and the frontend's ``src/api/schema.d.ts`` is generated
from it (``npm run check:api`` checks that step). This test checks the first one: a backend
change that alters the API without regenerating the schema fails here. Fix: ``make schema``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
SCHEMA = REPO_DIR / "frontend" / "openapi.yaml"
# As `make schema` runs it: for PostgreSQL (integer field ranges in the schema depend on the
# database vendor), without connecting to any database.
SCHEMA_ENV = {"DJANGO_DEBUG": "true", "DATABASE_URL": "postgres://schema@127.0.0.1:5432/not-connected"}


def test_the_checked_in_openapi_schema_matches_the_backend(tmp_path: Path) -> None:
    fresh = tmp_path / "openapi.yaml"

    subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--file", str(fresh)],
        cwd=REPO_DIR / "backend",
        env={**os.environ, **SCHEMA_ENV},
        check=True,
        capture_output=True,
        timeout=120,
    )

    assert SCHEMA.exists(), "frontend/openapi.yaml is missing: run `make schema`."
    assert fresh.read_text() == SCHEMA.read_text(), (
        "frontend/openapi.yaml differs from the backend's schema: run `make schema` "
        "and commit frontend/openapi.yaml and frontend/src/api/schema.d.ts."
    )
