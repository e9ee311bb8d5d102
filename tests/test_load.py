"""Concurrent applicants on the default SQLite lose nothing.

A real ``portal run`` server (werkzeug, one thread per connection) on 127.0.0.1 with a fresh SQLite instance;
50 applicants at once, each walking the public apply steps once (``tools/load_apply.py``, scaled down from
its 50 applicants for 60 s). The test counts, it does not time: every application sent must come back
confirmed and be stored as exactly one request, and no response may be a server error. Before immediate
write transactions, a busy timeout and retries, this very flood lost 10 of its 50 applications to
"database is locked" (and the 60 s run 119 of 398).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import PG_URL

TOOL = Path(__file__).resolve().parent.parent / "tools" / "load_apply.py"


def _tool():
    spec = importlib.util.spec_from_file_location("load_apply", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_apply"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.skipif(bool(PG_URL), reason="SQLite locking under load: the SQLite leg runs it")
def test_concurrent_applicants_on_sqlite_lose_nothing(tmp_path):
    load = _tool()
    env = load.server_env(tmp_path / "instance", None)
    load.prepare_instance(env)
    with load.Server(env) as server:
        tally = load.run_load(server.url, applicants=50, applications=1, seconds=None)
        log = server.output()
    stored = load.count_requests(env, tally.ids)

    assert tally.failures == [], tally.failures[:5]
    assert tally.server_errors == 0
    assert "database is locked" not in log
    assert len(tally.ids) == 50 and tally.submitted == 50
    assert stored["requests"] == 50 and stored["beneficiaries"] == 50
    assert sorted(stored["ids"]) == sorted(tally.ids) and set(stored["ids"].values()) == {1}
    assert load.check(tally, stored) == []


def test_the_check_reports_losses():
    """The tool's verdict is not a formality: a confirmed application without its request, a double and a
    server error are each reported."""
    load = _tool()
    tally = load.Tally(submitted=3, server_errors=1, ids=["a", "b", "c"])
    problems = load.check(tally, {"requests": 3, "ids": {"a": 2, "b": 1}, "beneficiaries": 2})
    assert any("server error" in p for p in problems)
    assert any("more than one request" in p for p in problems)
    assert any("without a request" in p for p in problems)
    assert load.check(load.Tally(submitted=2, ids=["a", "b"]), {"requests": 2, "ids": {"a": 1, "b": 1},
                                                                  "beneficiaries": 2}) == []


# ---------------------------------------------------------------- the SQLite layer itself

def _sqlite_only():
    from portal.db import is_postgres

    if is_postgres():
        pytest.skip("SQLite only")


def test_a_write_transaction_takes_the_write_lock_when_it_begins(app, db, tmp_path):
    """``BEGIN IMMEDIATE``: inside ``database.atomic()``, before any write, no other connection can write."""
    import sqlite3

    from portal.db import sqlite_path

    _sqlite_only()
    other = sqlite3.connect(sqlite_path(app.config["DATABASE_URL"]), timeout=0, isolation_level=None)
    try:
        with db.atomic():
            db.execute_sql("SELECT 1")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the transaction ended
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_refused_begin_is_tried_again(app, db, monkeypatch):
    import peewee

    import portal.db

    _sqlite_only()
    monkeypatch.setattr(portal.db.time, "sleep", lambda s: None)
    calls = []
    original = peewee.SqliteDatabase.begin

    def flaky(self, lock_type=None):
        calls.append(lock_type)
        if len(calls) <= 2:
            raise peewee.OperationalError("database is locked")
        return original(self, lock_type)

    monkeypatch.setattr(peewee.SqliteDatabase, "begin", flaky)
    from portal.models import Counter

    with db.atomic():
        Counter.create(name="retried", value=1)
    assert len(calls) == 3
    assert Counter.get(Counter.name == "retried").value == 1

    # ... but not forever, and never for another error
    calls.clear()
    monkeypatch.setattr(peewee.SqliteDatabase, "begin",
                        lambda self, lock_type=None: calls.append(1) or (_ for _ in ()).throw(
                            peewee.OperationalError("database is locked")))
    with pytest.raises(peewee.OperationalError, match="locked"):
        with db.atomic():
            pass
    assert len(calls) == portal.db.SQLITE_LOCK_RETRIES + 1
    calls.clear()
    monkeypatch.setattr(peewee.SqliteDatabase, "begin",
                        lambda self, lock_type=None: calls.append(1) or (_ for _ in ()).throw(
                            peewee.OperationalError("disk I/O error")))
    with pytest.raises(peewee.OperationalError, match="disk"):
        with db.atomic():
            pass
    assert len(calls) == 1


def test_a_statement_inside_a_transaction_is_not_retried_alone(app, db, monkeypatch):
    """Outside a transaction a refused statement is tried again (nothing of it happened); inside one, the
    error ends the transaction, which rolls back as a whole."""
    import peewee

    import portal.db

    _sqlite_only()
    monkeypatch.setattr(portal.db.time, "sleep", lambda s: None)
    calls, refuse = [], {1}
    original = peewee.SqliteDatabase.execute_sql

    def flaky(self, sql, params=None):
        if sql.startswith("INSERT"):
            calls.append(sql)
            if len(calls) in refuse:
                raise peewee.OperationalError("database is locked")
        return original(self, sql, params)

    monkeypatch.setattr(peewee.SqliteDatabase, "execute_sql", flaky)
    from portal.models import Counter

    Counter.create(name="alone", value=1)  # autocommit: refused once, then written
    assert len(calls) == 2 and Counter.select().where(Counter.name == "alone").count() == 1
    calls.clear()
    refuse = {2}
    with pytest.raises(peewee.OperationalError, match="locked"):
        with db.atomic():
            Counter.create(name="first", value=1)
            Counter.create(name="second", value=1)  # refused: not tried again on its own
    assert len(calls) == 2
    assert Counter.select().where(Counter.name.in_(["first", "second"])).count() == 0


def test_a_lock_that_outlasts_the_retries_answers_503_not_500(app, client):
    """The refused transaction rolled back; the answer invites a retry (it claims nothing about earlier writes
    of the same request)."""
    import peewee

    @app.get("/_test/locked")
    def locked():
        raise peewee.OperationalError("database is locked")

    @app.get("/_test/broken")
    def broken():
        raise peewee.OperationalError("no such table: nowhere")

    r = client.get("/_test/locked")
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert "الخدمة مشغولة" in r.get_data(as_text=True)
    r = client.get("/_test/locked?lang=en")
    assert "The service is busy right now" in r.get_data(as_text=True)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/_test/broken").status_code == 500
