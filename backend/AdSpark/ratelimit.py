"""A cluster-wide request limit held in Redis (a sliding one-hour window).

Celery's ``rate_limit`` counts per worker, so four data_fetch processes would each spend the
whole SerpApi allowance. Every SerpApi request in any process first takes a slot here. The
window is a sorted set of request timestamps; a Lua script trims, counts and adds atomically,
so concurrent workers cannot overshoot.
"""

from __future__ import annotations

import time
import uuid
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

# KEYS[1] = sorted set; ARGV = now (s), window (s), limit, member.
# Returns 0 when a slot was taken, else seconds until the oldest request leaves the window.
_ACQUIRE = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('EXPIRE', key, math.ceil(window) + 1)
  return '0'
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return tostring(math.max(0.01, tonumber(oldest[2]) + window - now))
"""


class RateLimitExceeded(Exception):
    """No slot is free; ``retry_after`` is the number of seconds until one frees up."""

    def __init__(self, retry_after: float, limit: int):
        super().__init__(
            f"SerpApi request limit of {limit} per hour reached; next slot in {retry_after:.0f} s."
        )
        self.retry_after = retry_after
        self.limit = limit


@lru_cache(maxsize=4)
def redis_client(url: str) -> redis.Redis:
    """Return a shared Redis client for ``url`` (one connection pool per process)."""
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


class SlidingWindowLimiter:
    """At most ``limit`` acquisitions per ``window`` seconds across every process.

    Args:
        name: the Redis key suffix (``adspark:ratelimit:<name>``).
        limit: requests allowed per window.
        window: window length in seconds (3600 for SerpApi's hourly limit).
        url: Redis URL; defaults to ``settings.REDIS_URL``.
    """

    def __init__(self, name: str, *, limit: int, window: float = 3600.0, url: str | None = None):
        self.key = f"adspark:ratelimit:{name}"
        self.limit = limit
        self.window = window
        self._redis = redis_client(url or settings.REDIS_URL)
        self._script = self._redis.register_script(_ACQUIRE)

    def try_acquire(self) -> float:
        """Take a slot; return 0.0 on success, else the seconds to wait for the next one."""
        now = time.time()
        result = self._script(
            keys=[self.key], args=[now, self.window, self.limit, f"{now}:{uuid.uuid4().hex}"]
        )
        return float(result)

    def acquire(self, *, max_wait: float = 5.0) -> None:
        """Take a slot, sleeping up to ``max_wait`` seconds for one.

        Raises:
            RateLimitExceeded: no slot frees up within ``max_wait`` (the caller should retry
                later, e.g. a Celery retry with ``countdown=error.retry_after``).
            redis.RedisError: Redis is unreachable.
        """
        deadline = time.monotonic() + max_wait
        while True:
            wait = self.try_acquire()
            if wait == 0.0:
                return
            if time.monotonic() + wait > deadline:
                raise RateLimitExceeded(wait, self.limit)
            time.sleep(wait)

    def used(self) -> int:
        """Return how many requests the current window holds."""
        self._redis.zremrangebyscore(self.key, "-inf", time.time() - self.window)
        return int(self._redis.zcard(self.key))

    def reset(self) -> None:
        """Forget every request in the window (tests and operators)."""
        self._redis.delete(self.key)


class SlidingWindowThrottle(ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle`` (same scopes, rates and 429 + ``Retry-After``), counted by
    :class:`SlidingWindowLimiter` in one Redis round trip.

    DRF's own throttle reads the request history from the cache and writes it back: two round
    trips per request, and two concurrent requests can both pass on the same history. The Lua
    script trims, counts and adds atomically (bench/api_enqueue.py). Keys:
    ``adspark:ratelimit:throttle:<scope>:<user id or client IP>``.
    """

    def allow_request(self, request: Any, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.num_requests is None or self.duration is None:
            return True
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        limiter = SlidingWindowLimiter(
            f"throttle:{self.scope}:{ident}", limit=self.num_requests, window=self.duration
        )
        self._wait = limiter.try_acquire()
        return self._wait == 0.0

    def wait(self) -> float | None:
        return getattr(self, "_wait", None) or None
