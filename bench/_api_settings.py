"""Settings for bench/api_enqueue.py's gunicorn: the project's, with the bench URL map."""

from backend.settings import *  # noqa: F403

ROOT_URLCONF = "_api_urls"
