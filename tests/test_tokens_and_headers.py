"""API tokens (expiry, name, last use, revocation, CLI) and HTTP hardening (HSTS, no-store, trusted proxies,
the many-workers warning)."""
from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from conftest import PASSWORD

from portal import create_app
from portal.api import create_token
from portal.db import database, utcnow
from portal.limiter import detected_workers, warn_about_workers
from portal.models import ApiToken, AuditEvent, User


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture
def officer_token(app, users):
    with app.app_context(), database.connection_context():
        return create_token(User.get_by_id(users["officer"]), "PBX")


def _row(app, tok):
    with app.app_context(), database.connection_context():
        return ApiToken.get(ApiToken.prefix == tok[:12])


# --- tokens ---------------------------------------------------------------------------------------

def test_token_has_a_name_and_expires_in_90_days_by_default(app, officer_token):
    row = _row(app, officer_token)
    assert row.name == "PBX"
    assert dt.timedelta(days=89, hours=23) < row.expires_at - utcnow() <= dt.timedelta(days=90)


def test_expired_token_is_401_json(app, client, officer_token):
    assert client.get("/api/v1/beneficiaries", headers=bearer(officer_token)).status_code == 200
    with app.app_context(), database.connection_context():
        ApiToken.update(expires_at=utcnow() - dt.timedelta(seconds=1)).execute()
    response = client.get("/api/v1/beneficiaries", headers=bearer(officer_token))
    assert response.status_code == 401 and response.is_json
    assert response.get_json()["error"] == "انتهت صلاحية الرمز. اطلب رمزًا جديدًا من مدير النظام."
    response = client.get("/api/v1/beneficiaries?lang=en", headers=bearer(officer_token))
    assert "expired" in response.get_json()["error"]


def test_revoked_token_is_401_json(app, client, officer_token):
    from portal.api import revoke_token

    row = _row(app, officer_token)
    with app.app_context(), database.connection_context():
        assert revoke_token(row) is True
        assert revoke_token(row) is False
        assert AuditEvent.select().where(AuditEvent.action == "revoke").count() == 1
    response = client.get("/api/v1/beneficiaries", headers=bearer(officer_token))
    assert response.status_code == 401 and response.get_json()["error"] == "أُلغي هذا الرمز."


def test_unknown_and_malformed_tokens(client, officer_token):
    for header in ({"Authorization": "Bearer sila_not-a-token"}, {"Authorization": "Basic abc"}, {}):
        response = client.get("/api/v1/beneficiaries", headers=header)
        assert response.status_code == 401 and "error" in response.get_json()


def test_token_days_are_bounded(app, users):
    with app.app_context(), database.connection_context():
        officer = User.get_by_id(users["officer"])
        for days in (0, -1, 367):
            with pytest.raises(ValueError):
                create_token(officer, "x", days)
        assert ApiToken.select().count() == 0
        tok = create_token(officer, "x", 7)
        assert ApiToken.get(ApiToken.prefix == tok[:12]).expires_at < utcnow() + dt.timedelta(days=7, seconds=5)


def test_token_days_default_is_a_setting(app_config, users):
    app = create_app(dict(app_config, API_TOKEN_DAYS=30))
    with app.app_context(), database.connection_context():
        tok = create_token(User.get_by_id(users["officer"]), "x")
        assert ApiToken.get(ApiToken.prefix == tok[:12]).expires_at < utcnow() + dt.timedelta(days=30, seconds=5)


def test_last_used_is_written_at_most_once_a_minute(app, client, officer_token):
    assert _row(app, officer_token).last_used_at is None
    client.get("/api/v1/beneficiaries", headers=bearer(officer_token))
    first = _row(app, officer_token).last_used_at
    assert first is not None
    client.get("/api/v1/beneficiaries", headers=bearer(officer_token))
    assert _row(app, officer_token).last_used_at == first  # no write for a second request within the minute
    with app.app_context(), database.connection_context():
        ApiToken.update(last_used_at=first - dt.timedelta(seconds=61)).execute()
    client.get("/api/v1/beneficiaries", headers=bearer(officer_token))
    assert _row(app, officer_token).last_used_at > first - dt.timedelta(seconds=1)


def test_cli_create_list_revoke(app, runner, client, users):
    result = runner.invoke(args=["token", "create", "--user", "officer", "--name", "PBX", "--days", "30"])
    assert result.exit_code == 0, result.output
    tok = result.output.strip()
    assert client.get("/api/v1/beneficiaries", headers=bearer(tok)).status_code == 200
    second = runner.invoke(args=["token", "create", "--user", "researcher", "--name", "reports"]).output.strip()

    listed = runner.invoke(args=["token", "list"]).output
    assert "PBX" in listed and "reports" in listed and tok[:12] in listed and "active" in listed
    assert tok not in listed  # the secret is never shown again
    assert "reports" not in runner.invoke(args=["token", "list", "--user", "officer"]).output

    row_id = _row(app, tok).id
    result = runner.invoke(args=["token", "revoke", str(row_id)])
    assert result.exit_code == 0 and "Revoked" in result.output
    assert client.get("/api/v1/beneficiaries", headers=bearer(tok)).status_code == 401
    assert "already revoked" in runner.invoke(args=["token", "revoke", str(row_id)]).output
    assert "PBX" not in runner.invoke(args=["token", "list"]).output
    assert "revoked" in runner.invoke(args=["token", "list", "--all"]).output

    assert runner.invoke(args=["token", "revoke", second[:12]]).exit_code == 0  # by prefix
    assert client.get("/api/v1/beneficiaries", headers=bearer(second)).status_code == 401


@pytest.mark.parametrize("args", [
    ["token", "create", "--user", "officer"],  # a name is required
    ["token", "create", "--user", "officer", "--name", "  "],
    ["token", "create", "--user", "officer", "--name", "x", "--days", "0"],
    ["token", "create", "--user", "officer", "--name", "x", "--days", "400"],
    ["token", "create", "--user", "nobody", "--name", "x"],
    ["token", "revoke", "999"],
    ["token", "revoke", "sila_nothing"],
])
def test_cli_token_bad_input(app, runner, users, args):
    assert runner.invoke(args=args).exit_code == 2
    with app.app_context(), database.connection_context():
        assert ApiToken.select().count() == 0


# --- headers --------------------------------------------------------------------------------------

def test_no_store_on_staff_pages_and_api_not_on_static_assets(app, client, users, officer_token):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    client.post("/login", data={"username": "officer", "password": PASSWORD})
    assert client.get("/beneficiaries/").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/beneficiaries", headers=bearer(officer_token)).headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/nothing").headers["Cache-Control"] == "no-store"
    for url in ("/static/css/app.css", "/fonts/amiri-400.ttf"):
        response = client.get(url)
        assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")


def test_hsts_only_when_https_is_on(app_config, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = create_app(dict(app_config, HTTPS=True)).test_client()
    response = secure.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" in secure.get("/static/css/app.css").headers


# --- proxies and rate limits ----------------------------------------------------------------------

def _failed_login_codes(client, addresses):
    return [client.post("/login", data={"username": "nobody", "password": "x" * 12},
                        headers={"X-Forwarded-For": ip}).status_code for ip in addresses]


def test_forwarded_address_is_ignored_without_trusted_proxies(app_config, users):
    app = create_app(dict(app_config, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute",
                          LOGIN_MAX_FAILURES=0))
    codes = _failed_login_codes(app.test_client(), ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    assert codes == [401, 401, 429]  # a client cannot escape the limit by inventing addresses


def test_trusted_proxy_gives_each_visitor_their_own_limit_and_audit_address(app_config, users):
    app = create_app(dict(app_config, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute",
                          LOGIN_MAX_FAILURES=0, TRUSTED_PROXIES=1))
    client = app.test_client()
    assert _failed_login_codes(client, ["203.0.113.1", "203.0.113.1", "203.0.113.1"]) == [401, 401, 429]
    assert _failed_login_codes(client, ["203.0.113.2"]) == [401]
    # With one trusted proxy only the last hop counts: a visitor's own X-Forwarded-For entry is ignored.
    assert _failed_login_codes(client, ["198.51.100.7, 203.0.113.1"]) == [429]
    with app.app_context(), database.connection_context():
        ips = {e.ip for e in AuditEvent.select().where(AuditEvent.action == "login_failed")}
    assert ips == {"203.0.113.1", "203.0.113.2"}


# --- workers without Redis ------------------------------------------------------------------------

@pytest.mark.parametrize("config, environ, argv, expected", [
    ({"WORKERS": 4}, {}, ["x"], (4, "PORTAL_WORKERS")),
    ({}, {"WEB_CONCURRENCY": "3"}, ["x"], (3, "WEB_CONCURRENCY")),
    ({}, {"GUNICORN_CMD_ARGS": "-b :8000 --workers=5"}, ["x"], (5, "GUNICORN_CMD_ARGS")),
    ({}, {}, ["/usr/bin/gunicorn", "-w", "4", "portal:create_app()"], (4, "gunicorn command line")),
    ({}, {}, ["/usr/bin/gunicorn", "-w4", "portal:create_app()"], (4, "gunicorn command line")),
    ({}, {}, ["/usr/bin/gunicorn", "portal:create_app()"], (None, "")),
    ({}, {"GUNICORN_CMD_ARGS": "'unclosed"}, ["portal"], (None, "")),
    ({}, {}, ["portal", "run", "-w", "4"], (None, "")),  # not gunicorn: the flag means nothing here
])
def test_worker_count_detection(config, environ, argv, expected):
    assert detected_workers(config, environ, argv) == expected


def test_warning_when_several_workers_keep_limits_in_memory(app, app_config, caplog):
    caplog.set_level(logging.WARNING, logger="portal")
    assert warn_about_workers(app, {"WEB_CONCURRENCY": "4"}, ["x"]) is True
    assert re.search(r"4 workers \(from WEB_CONCURRENCY\).*PORTAL_REDIS_URL", caplog.text)
    caplog.clear()
    assert warn_about_workers(app, {"WEB_CONCURRENCY": "1"}, ["x"]) is False
    assert warn_about_workers(app, {}, ["x"]) is False
    shared = create_app(dict(app_config, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0"))
    assert warn_about_workers(shared, {"WEB_CONCURRENCY": "4"}, ["x"]) is False
    assert caplog.text == ""


def test_warning_is_logged_at_start(app_config, caplog, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    caplog.set_level(logging.WARNING, logger="portal")
    create_app(dict(app_config))
    assert "3 workers (from WEB_CONCURRENCY)" in caplog.text
