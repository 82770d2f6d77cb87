#!/usr/bin/env python3
"""Seed path ``python backend/monitor_celery.py …``: the monitor CLI lives at the repository's top
level (``monitor_celery.py``, see its docstring for modes and exit codes). Run as a script, this
file runs that CLI with the same arguments and exit code; imported (``backend/`` comes first on
``sys.path`` when the working directory is ``backend/``), it *is* that module, so there is one
``monitor_celery`` whichever path found it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TOP_LEVEL = Path(__file__).resolve().parent.parent / "monitor_celery.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("monitor_celery", TOP_LEVEL)
    if spec is None or spec.loader is None:  # pragma: no cover - the file is in the repository
        raise ImportError(f"cannot load {TOP_LEVEL}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["monitor_celery"] = module
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(_load().main())
else:
    sys.modules[__name__] = _load()
