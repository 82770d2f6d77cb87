"""docs/architecture.md holds the design the code relies on, and matches the code (issue 15 #14)."""

from __future__ import annotations

import re
import subprocess

from backend.celery import QUEUES, TASKS
from tests.conftest import REPO_DIR

DOC = REPO_DIR / "docs" / "architecture.md"


def _table(heading: str) -> list[list[str]]:
    """Rows (cells stripped of backticks) of the first table under ``## heading``."""
    section = DOC.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip().strip("`") for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_it_is_cited_instead_of_a_design_file_the_repository_does_not_have():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_DIR, capture_output=True, text=True, check=True
    ).stdout.split()
    citing = [
        path
        for path in tracked
        if path.endswith((".md", ".py", ".sh", ".ps1", ".yml", ".yaml", ".toml", "Makefile", ".dev"))
        and path != "tests/ops/test_architecture_doc.py"
        and "DESIGN.md" in (REPO_DIR / path).read_text(errors="replace")
    ]
    assert citing == []
    assert "docs/architecture.md" in (REPO_DIR / "backend" / "backend" / "celery.py").read_text()


def test_its_queue_table_matches_the_celery_app_and_the_scripts():
    rows = _table("Queues and workers")
    assert [row[0] for row in rows] == list(QUEUES)
    scripts = dict(
        entry.split(":")
        for entry in re.search(
            r"WORKER_TABLE=\(([^)]*)\)", (REPO_DIR / "celery_scripts" / "_common.sh").read_text()
        )
        .group(1)
        .split()
    )
    assert {row[0]: row[2].split()[0] for row in rows} == scripts


def test_its_seed_tasks_are_routed_as_it_says():
    for name, queue, _call in _table("Seed task names"):
        assert TASKS[name]["queue"] == queue, name


def test_its_layout_names_paths_that_exist():
    for path, _what in _table("Layout"):
        for part in path.split(","):
            part = part.strip().strip("`")
            assert (REPO_DIR / part).exists(), part
