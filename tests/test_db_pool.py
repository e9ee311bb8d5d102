"""Kept connections (``PORTAL_DATABASE_POOL``, on by default): a request takes a connection back instead of
opening one; the rest of the suite runs without pools, as each test has a database of its own."""
from __future__ import annotations

import threading

import pytest

from portal.db import PooledSqliteDatabase, SqliteDatabase, database, make_database
from tests.conftest import PG_URL


def _url(app_config):
    return PG_URL or app_config["DATABASE_URL"]


def test_without_pool_each_connect_opens_a_new_connection(app_config):
    db = make_database(_url(app_config))
    db.connect()
    first = db.connection()
    db.close()
    db.connect()
    assert db.connection() is not first
    db.close()


def test_pool_gives_the_same_connection_back_with_its_settings(app_config):
    db = make_database(_url(app_config), pool=True)
    try:
        db.connect()
        first = db.connection()
        db.close()
        db.connect()
        assert db.connection() is first
        if not PG_URL:
            assert isinstance(db, PooledSqliteDatabase) and isinstance(db, SqliteDatabase)
            # the pragmas of the first opening are still in force, and writes still take the lock up front
            assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
            assert db._lock_type == "IMMEDIATE"
        assert db.execute_sql("SELECT 1").fetchone()[0] == 1
        db.close()
    finally:
        db.close_all()


def test_pool_hands_each_thread_its_own_connection(app_config):
    db = make_database(_url(app_config), pool=True, pool_size=4)
    seen, errors = [], []
    barrier = threading.Barrier(3)

    def work():
        try:
            db.connect()
            seen.append(id(db.connection()))
            barrier.wait(timeout=10)  # all three hold a connection at once
            db.execute_sql("SELECT 1")
            db.close()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    db.close_all()
    assert not errors
    assert len(set(seen)) == 3


@pytest.fixture
def pooled_app(app_config):
    from portal import create_app

    app = create_app(dict(app_config, DATABASE_POOL=True))
    yield app
    database.obj.close_all()


def test_requests_of_a_pooled_app_reuse_one_connection(pooled_app):
    db = database.obj
    assert hasattr(db, "close_all")
    used = []
    pooled_app.before_request(lambda: used.append(id(database.connection())))
    client = pooled_app.test_client()
    for _ in range(3):
        assert client.get("/login").status_code == 200
    assert len(used) == 3 and len(set(used)) == 1
    assert db.is_closed()  # given back at the end of each request
