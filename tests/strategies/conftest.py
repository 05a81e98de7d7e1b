"""Fixtures shared by this folder's tests."""

from tests.redisdb import redis_url as redis_url
