#!/usr/bin/env bash
# Seed path: the Celery scripts live in celery_scripts/ at the repository's top level; this runs
# the one with the same name, with the same arguments and exit code (see its --help).
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/celery_scripts/$(basename "${BASH_SOURCE[0]}")" "$@"
