"""The Redis store: the seckill stack's stock in a database number booking owns (redis://host:6379/N)."""

from __future__ import annotations

try:
    import redis as _redis  # noqa: F401  (said here, in one line, when the extra is not installed)
except ImportError:  # pragma: no cover - the extra is installed wherever booking is tested
    from booking.errors import CannotRun
    from booking.i18n.lang import _
    from booking.i18n.words import install_hint

    raise CannotRun(_("a Redis store needs redis-py: {hint}").format(hint=install_hint("redis"))) from None

from booking.stores.redis.store import RedisStore

__all__ = ["RedisStore"]
