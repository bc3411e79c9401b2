"""A fixed-window counter in the shared cache, for limits that are not API throttles.

The cache is Redis or the database (see settings `CACHES`), so every process counts into
the same window.
"""

import hashlib

from django.core.cache import cache


def within_limit(scope: str, key: str, *, limit: int, period_seconds: int) -> bool:
    """Count one more event for `key` in `scope`; False once more than `limit` happened in the window."""
    # Keys are hashed: they may be email addresses, which have no business in a cache key.
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()
    cache_key = f"ratelimit:{scope}:{digest}"
    if cache.add(cache_key, 1, timeout=period_seconds):
        return limit >= 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the window ended between add() and incr(): this event opens a new one
        cache.add(cache_key, 1, timeout=period_seconds)
        count = 1
    return count <= limit
