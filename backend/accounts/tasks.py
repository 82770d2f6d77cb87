"""Accounts tasks (routes and time limits: ``TASKS`` in backend/celery.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="accounts.tasks.purge_expired_tokens_task")
def purge_expired_tokens_task() -> int:
    """Delete every expired API token (queue ``maintenance``; beat: hourly, "Purge expired API
    tokens"). Returns the number of tokens deleted; see accounts.services.tokens_expired_purge.
    """
    from .services import tokens_expired_purge

    return tokens_expired_purge()
