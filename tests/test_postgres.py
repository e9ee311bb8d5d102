"""PostgreSQL round trip: migrations from an empty schema (twice: the second run applies nothing), then
registering and searching beneficiaries and paging a timeline through the real services and screens.

Which server: ``PORTAL_TEST_DATABASE_URL`` (the whole suite's PostgreSQL database, when set), else
``PORTAL_TEST_POSTGRES_URL``, else ``postgresql://postgres@127.0.0.1:5432/test`` if something answers on
127.0.0.1:5432. The tests work in a schema of their own (created here, dropped afterwards), so they never
touch the tables of the suite or of anyone else using that database.

Without PostgreSQL they are skipped with a message; in CI (``CI=true``) that is a failure, so the
PostgreSQL leg of CI can never pass by silently not running.
"""
from __future__ import annotations

import datetime as dt
import os
import uuid
from urllib.parse import quote

import pytest
from conftest import PASSWORD, luhn_id, text_of
from postgres_server import connect, server_url

from portal import create_app
from portal.db import database, is_postgres, migrate, migration_sources, utcnow

pytestmark = pytest.mark.postgres

WHAT = "PostgreSQL tests"


@pytest.fixture(scope="module")
def pg_url():
    """A URL whose connections work in a fresh schema of their own; the schema is dropped afterwards."""
    url = server_url(WHAT)
    admin = connect(url, WHAT, autocommit=True)
    schema = f"portal_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-c search_path={schema}')}"
    finally:
        if not database.is_closed():
            database.close()
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def pg_app(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-0123456789", "DATABASE_URL": pg_url,
        "UPLOAD_DIR": str(tmp_path / "uploads"), "HUEY_IMMEDIATE": True, "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False, "PLUGINS": "all",
    })
    with app.app_context(), database.connection_context():
        migrate(app.extensions["portal_pm"])
        tables = [t for t in database.obj.get_tables() if not t.startswith("schema_migration")]
        database.obj.execute_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    yield app
    if not database.is_closed():
        database.close()


def test_migrations_on_postgresql_from_scratch_and_again(pg_url, tmp_path, monkeypatch):
    from portal.models import (
        ApiToken, Attachment, AuditEvent, Beneficiary, Branch, Case, Counter, Document, HouseholdMember,
        TimelineEntry, User,
    )

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": pg_url, "PLUGINS": "all"})
    with app.app_context(), database.connection_context():
        assert is_postgres()
        schema = database.obj.execute_sql("SELECT current_schema()").fetchone()[0]
        assert schema.startswith("portal_test_")
        for name in database.obj.get_tables():  # an earlier test of this module may have migrated already
            database.obj.execute_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
        assert database.obj.get_tables() == []

        pm = app.extensions["portal_pm"]
        applied = migrate(pm)
        expected = [
            f"{namespace}:{path.stem}"
            for namespace, directory in migration_sources(pm)
            for path in sorted(directory.glob("[0-9]*.py"))
        ]
        assert sorted(applied) == sorted(expected)
        assert "core:0001_initial" in applied
        assert migrate(pm) == []

        tables = set(database.obj.get_tables())
        for model in (Branch, User, Counter, Beneficiary, HouseholdMember, Case, Document, TimelineEntry,
                      Attachment, AuditEvent, ApiToken):
            assert model._meta.table_name in tables
            columns = {c.name for c in database.obj.get_columns(model._meta.table_name)}
            assert set(model._meta.columns) <= columns, model.__name__


def test_register_search_and_timeline_round_trip_on_postgresql(pg_app):
    from portal import beneficiaries_service as service
    from portal.auth import hash_password
    from portal.models import Beneficiary, User
    from portal.sequences import next_value
    from portal.timeline import entries_page, log_entry

    people = [
        ("أحمد", "محمد", "علي", "الغامدي", luhn_id("100000001"), "0501234567"),
        ("إحمد", "سالم", "حسن", "الزهراني", luhn_id("100000002"), "0551112223"),
        ("سارة", "عبدالله", "سعد", "الحربي", luhn_id("200000003"), "0569998887"),
    ]
    with pg_app.app_context(), database.connection_context():
        officer = User.create(username="officer", full_name="موظف", roles="officer",
                              password_hash=hash_password(PASSWORD))
        ids = []
        for first, father, grand, family, national_id, mobile in people:
            res = service.validate({"first_name": first, "father_name": father, "grandfather_name": grand,
                                    "family_name": family, "national_id": national_id, "gender": "m",
                                    "mobile": mobile})
            assert res.ok, res.errors
            ids.append(service.create(res.values, actor=officer).id)
        ahmad = Beneficiary.get_by_id(ids[0])
        assert ahmad.mobile == "+966501234567" and ahmad.name_search.startswith("احمد")

        def found(q):
            return sorted(b.id for b in service.search_query(q, officer))

        assert found("احمد") == sorted(ids[:2])
        assert found("أحمد الغامدي") == [ids[0]]
        assert found("+966 50 123 4567") == [ids[0]]
        assert found("٠٥٥١١١٢٢٢٣") == [ids[1]]
        assert found(people[2][4]) == [ids[2]]
        assert found(ahmad.file_number) == [ids[0]]
        assert found("%") == [] and found("_") == [] and found("\\") == []

        # The same file saved twice from one version: the second save is refused, nothing is lost.
        version = ahmad.version
        res = service.validate({**{f: getattr(ahmad, f) for f in ("first_name", "father_name",
                                "grandfather_name", "family_name", "national_id", "gender")},
                                "mobile": "0501234567", "city": "جدة"}, existing=ahmad)
        assert res.ok, res.errors
        service.update(ahmad, res.values, version, actor=officer)
        with pytest.raises(service.Conflict):
            service.update(Beneficiary.get_by_id(ids[0]), res.values, version, actor=officer)
        assert Beneficiary.get_by_id(ids[0]).version == version + 1

        # Keyset pages over a timeline, newest first, across channels.
        start = utcnow() - dt.timedelta(days=30)
        channels = ["phone", "social", "letters", "website", "interview"]
        for n in range(25):
            log_entry(channel=channels[n % 5], summary=f"تواصل رقم {n}", beneficiary=ahmad, actor=officer,
                      occurred_at=start + dt.timedelta(hours=n))
        first_page, cursor = entries_page(beneficiary=ahmad, limit=20)
        second_page, end = entries_page(beneficiary=ahmad, before=cursor, limit=20)
        summaries = [e.summary for e in first_page + second_page]
        assert summaries == [f"تواصل رقم {n}" for n in reversed(range(25))]
        assert end is None
        phone_only, _ = entries_page(beneficiary=ahmad, channel="phone", limit=20)
        assert [e.summary for e in phone_only] == [f"تواصل رقم {n}" for n in (20, 15, 10, 5, 0)]

        assert [next_value("pg-check") for _ in range(3)] == [1, 2, 3]

    # And through the screens, on the same database.
    client = pg_app.test_client()
    assert client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code == 302
    page = text_of(client.get("/beneficiaries/?q=احمد"))
    assert "أحمد محمد علي الغامدي" in page and "إحمد سالم حسن الزهراني" in page and "سارة" not in page
    profile = client.get(f"/beneficiaries/{ids[0]}")
    assert profile.status_code == 200 and "تواصل رقم 24" in text_of(profile)
