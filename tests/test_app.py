"""App factory, settings, sign-in, security headers, CLI commands, jobs, uploads, migrations."""
import io
import os
import re

import pytest
from werkzeug.datastructures import FileStorage

from portal import create_app
from portal.db import database, migrate
from portal.models import AuditEvent, User


def test_refuses_to_start_without_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="PORTAL_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    with pytest.raises(RuntimeError, match="PORTAL_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "change-me"})


def test_settings_from_instance_file_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-file-0123456789'\nTIMELINE_PAGE_SIZE = 7\n")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SECRET_KEY"] == "from-file-0123456789" and app.config["TIMELINE_PAGE_SIZE"] == 7
    monkeypatch.setenv("PORTAL_TIMELINE_PAGE_SIZE", "9")
    monkeypatch.setenv("PORTAL_HTTPS", "true")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["TIMELINE_PAGE_SIZE"] == 9
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_sqlite_pragmas(app):
    with app.app_context(), database.connection_context():
        if not database.obj.__class__.__name__.startswith("Sqlite"):
            pytest.skip("SQLite only")
        assert database.obj.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.obj.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert database.obj.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 15000


def test_migrations_are_idempotent(app, runner):
    result = runner.invoke(args=["migrate"])
    assert result.exit_code == 0 and "0 migration(s) applied" in result.output
    with app.app_context(), database.connection_context():
        assert migrate(app.extensions["portal_pm"]) == []


def test_login_logout_and_wrong_password(client, users, app):
    response = client.post("/login", data={"username": "officer", "password": "wrong-password"})
    assert response.status_code == 401
    assert client.get("/beneficiaries/").status_code == 302
    response = client.post("/login?next=/beneficiaries/", data={"username": "Officer ", "password": "correct-horse-battery"})
    assert response.status_code == 302 and response.headers["Location"] == "/beneficiaries/"
    assert client.get("/beneficiaries/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/beneficiaries/").status_code == 302
    with app.app_context(), database.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "login").count() == 1
        assert User.get(User.username == "officer").password_hash.startswith("$argon2id$")


def test_login_rejects_outside_next_and_inactive_users(client, users, app):
    response = client.post("/login?next=//evil.example/x", data={"username": "officer",
                                                                 "password": "correct-horse-battery"})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    with app.app_context(), database.connection_context():
        User.update(is_active=False).where(User.username == "manager").execute()
    response = client.post("/login", data={"username": "manager", "password": "correct-horse-battery"})
    assert response.status_code == 401


def test_session_cookie_flags(client, users):
    response = client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_is_rate_limited(app_config, users, tmp_path):
    app = create_app(dict(app_config, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute"))
    client = app.test_client()
    codes = [client.post("/login", data={"username": "officer", "password": "nope"}).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_csrf_is_enforced_on_forms(app_config, users, make_beneficiary):
    app = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"username": "officer", "password": "correct-horse-battery"}).status_code == 400
    assert client.post("/login", data={"username": "officer", "password": "correct-horse-battery",
                                       "csrf_token": token}).status_code == 302
    ben = make_beneficiary()
    response = client.post(f"/beneficiaries/{ben}/contacts", data={"channel": "interview", "summary": "x"})
    assert response.status_code == 400
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    header_token = re.search(r'hx-headers=\'{"X-CSRFToken": "([^"]+)"}\'', page).group(1)
    response = client.post(f"/beneficiaries/{ben}/contacts", data={"channel": "interview", "summary": "x",
                                                                   "direction": "in"},
                           headers={"X-CSRFToken": header_token, "HX-Request": "true"})
    assert response.status_code == 200


def test_security_headers_and_vary(client):
    response = client.get("/login")
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_html_shell_is_arabic_rtl_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert '/static/vendor/htmx.min.js' in html
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english


def test_language_switch_sets_cookie_and_returns(client):
    response = client.post("/language", data={"lang": "en", "next": "/login?x=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/login?x=1"
    assert "lang=en" in response.headers["Set-Cookie"]
    assert '<html lang="en" dir="ltr">' in client.get("/login").get_data(as_text=True)
    response = client.post("/language", data={"lang": "xx", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_fonts_and_htmx_are_served(client):
    font = client.get("/fonts/plex-arabic-400.ttf")
    assert font.status_code == 200 and font.data[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO")
    assert client.get("/fonts/nope.ttf").status_code == 404
    htmx = client.get("/static/vendor/htmx.min.js")
    assert htmx.status_code == 200 and b"htmx" in htmx.data


def test_cli_user_and_token_create(runner, app):
    result = runner.invoke(args=["user", "create", "سارة", "--role", "officer", "--generate"])
    assert result.exit_code == 2 and "username" in result.output
    result = runner.invoke(args=["user", "create", "sara.h", "--role", "officer", "--password", "short"])
    assert result.exit_code == 2 and "password" in result.output
    result = runner.invoke(args=["user", "create", "Sara.H", "--role", "officer", "--role", "manager",
                                 "--name", "سارة", "--generate"])
    assert result.exit_code == 0 and "Created user sara.h (officer,manager)" in result.output
    password = re.search(r"Password: (\S+)", result.output).group(1)
    result = runner.invoke(args=["user", "create", "sara.h", "--role", "officer", "--password", "long-enough-pw-9"])
    assert result.exit_code == 2 and "taken" in result.output
    result = runner.invoke(args=["user", "create", "del", "--role", "delegate", "--password", "long-enough-pw-9"])
    assert result.exit_code == 2 and "branch" in result.output
    result = runner.invoke(args=["token", "create", "--user", "sara.h", "--name", "PBX"])
    assert result.exit_code == 0 and result.output.startswith("sila_")
    token = result.output.strip()
    client = app.test_client()
    assert client.get("/api/v1/beneficiaries", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.post("/login", data={"username": "sara.h", "password": password}).status_code == 302
    assert runner.invoke(args=["token", "create", "--user", "nobody"]).exit_code == 2


def test_demo_builds_realistic_data(runner, app):
    from pathlib import Path

    # the logins of an earlier database in the same instance folder are not printed any more
    Path(app.instance_path, "demo-logins.txt").write_text("  officer     officer / stale-password\n")
    result = runner.invoke(args=["demo", "--beneficiaries", "40", "--entries", "400"])
    assert result.exit_code == 0, result.output
    assert "officer /" in result.output and "Created 40 beneficiaries, 400 timeline entries" in result.output
    assert "stale-password" not in result.output
    # the plugins' demonstration data (demo_data): the reception's slots, volunteers, a delegate's route
    assert "interview: " in result.output and "volunteering: volunteers" in result.output
    assert "delegates: plans" in result.output
    from portal.models import Beneficiary, TimelineEntry
    from portal.validators import clean_national_id

    with app.app_context(), database.connection_context():
        bens = list(Beneficiary.select())
        assert len(bens) == 40
        assert all(clean_national_id(b.national_id) == b.national_id for b in bens)
        first = bens[0]
        channels = {e.channel for e in TimelineEntry.select().where(TimelineEntry.beneficiary == first)}
        assert len(channels) >= 4
        assert User.select().count() == 8  # one per role, three committee members
        from portal.satisfaction import metrics
        from portal.satisfaction.models import Survey

        assert Survey.select().count() > 0 and metrics.total().responses > 0  # some rated services
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "already present" in again.output


def test_jobs_use_sqlite_by_default_and_redis_when_configured(tmp_path):
    from huey.storage import RedisStorage, SqliteStorage

    from portal import jobs

    jobs.configure({"HUEY_IMMEDIATE": False}, str(tmp_path))
    assert isinstance(jobs.huey.storage, SqliteStorage)
    assert jobs.huey.storage.filename == str(tmp_path / "jobs.sqlite3")
    jobs.configure({"REDIS_URL": "redis://127.0.0.1:6379/0"}, str(tmp_path))
    assert isinstance(jobs.huey.storage, RedisStorage)
    jobs.configure({"HUEY_IMMEDIATE": True}, str(tmp_path))


def test_task_runs_in_app_context(app):
    from flask import current_app

    from portal import jobs

    @jobs.task()
    def which_app():
        return current_app.name

    assert which_app()() == app.name


from pdf_samples import MINIMAL_PDF as PDF  # noqa: E402  (a valid one-page PDF)


def _png(width=2, height=2):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("scan.pdf", b"MZ\x90\x00" + b"\x00" * 100, "not accepted"),
    ("scan.pdf", b"<html><script>alert(1)</script></html>", "not accepted"),
    ("pic.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "not accepted"),
    ("scan.png", PDF, "does not match"),
    ("scan.pdf", b"%PDF-1.4\n1 0 obj<</Encrypt 2 0 R>>endobj\n%%EOF\n", "password"),
    ("scan.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "damaged"),
    ("empty.pdf", b"", "empty"),
    ("big.png", None, "too large"),
])
def test_hostile_uploads_are_refused_and_nothing_is_stored(app, tmp_path, name, data, message):
    from portal.uploads import UploadError, store_upload

    if data is None:
        data = _png(9000, 9000)
    with app.test_request_context("/?lang=en"):
        with pytest.raises(UploadError, match=message):
            store_upload(FileStorage(io.BytesIO(data), filename=name))
    upload_dir = app.config["UPLOAD_DIR"]
    stored = [f for _r, _d, files in os.walk(upload_dir) for f in files] if os.path.exists(upload_dir) else []
    assert stored == []


def test_oversized_upload_stops_while_streaming(app):
    from portal.uploads import UploadError, store_upload

    class Endless(io.RawIOBase):
        def __init__(self):
            self.sent = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = (b"%PDF-1.4\n" if self.sent == 0 else b"") + b"0" * (len(buffer) - (9 if self.sent == 0 else 0))
            buffer[:len(chunk)] = chunk
            self.sent += len(chunk)
            return len(chunk)

    stream = Endless()
    app.config["MAX_UPLOAD_MB"] = 1
    with app.test_request_context("/?lang=en"):
        with pytest.raises(UploadError, match="larger than 1 MB"):
            store_upload(FileStorage(io.BufferedReader(stream), filename="a.pdf"))
    assert stream.sent <= 1024 * 1024 + 128 * 1024


def test_good_upload_is_content_addressed(app):
    from portal.uploads import path_for, store_upload

    png = _png()
    with app.test_request_context("/"):
        first = store_upload(FileStorage(io.BytesIO(png), filename="صورة الهوية.png"))
        second = store_upload(FileStorage(io.BytesIO(png), filename="copy.PNG"))
        assert first.sha256 == second.sha256 and first.content_type == "image/png"
        assert path_for(first.sha256).read_bytes() == png
        assert "static" not in str(path_for(first.sha256))
