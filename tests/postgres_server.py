"""Which PostgreSQL server the tests that need one use, for the PostgreSQL tests and the PostgreSQL backup test
of the SQLite leg: ``PORTAL_TEST_DATABASE_URL``, else ``PORTAL_TEST_POSTGRES_URL``, else the default URL when
something answers on 127.0.0.1:5432. Without one they are skipped with a message; in CI (``CI=true``) that is a
failure, so no PostgreSQL test can pass by silently not running."""
from __future__ import annotations

import os
import socket

import pytest
from conftest import IN_CI

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def unavailable(what: str, message: str):
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI (CI=true): {message}", pytrace=False)
    pytest.skip(f"{what} skipped: {message}. Set PORTAL_TEST_DATABASE_URL or PORTAL_TEST_POSTGRES_URL "
                "(postgresql://user@host:port/database) to run them.")


def server_url(what: str) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL") or os.environ.get("PORTAL_TEST_POSTGRES_URL")
    if not url:
        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        except OSError:
            unavailable(what, "nothing answers on 127.0.0.1:5432 and no URL is set")
        url = DEFAULT_URL
    if not url.startswith(("postgresql://", "postgres://")):
        unavailable(what, f"{url!r} is not a postgresql:// URL")
    return url


def connect(url: str, what: str, **options):
    """A psycopg connection to ``url``, or the test skipped (failed in CI) saying why."""
    try:
        import psycopg

        return psycopg.connect(url, connect_timeout=5, **options)
    except Exception as exc:  # noqa: BLE001 - any connection failure means "unavailable"
        unavailable(what, f"cannot connect to {url}: {exc}".strip())
