"""Sessions that end (version, idle timeout, remember-me cap), failed sign-ins (audit, per-account lockout),
password rules, two-step sign-in (TOTP) for admins."""
from __future__ import annotations

import datetime as dt
import time

import pyotp
import pytest
from conftest import PASSWORD, text_of
from flask_babel import force_locale
from flask_login.utils import encode_cookie

from portal import create_app
from portal.db import database, utcnow
from portal.models import AuditEvent, LoginFailure, User
from portal.passwords import common_passwords, password_problem


def login(client, username="officer", password=PASSWORD, remember=False, **extra):
    data = {"username": username, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, **extra)


def signed_in(client) -> bool:
    response = client.get("/beneficiaries/")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def user(app, username) -> User:
    with app.app_context(), database.connection_context():
        return User.get(User.username == username)


# --- session version ------------------------------------------------------------------------------

def test_old_session_cookie_is_refused_after_logout(app, client, users):
    assert login(client).status_code == 302
    old = client.get_cookie("session").value
    assert signed_in(client)
    assert client.post("/logout").status_code == 302
    client.set_cookie("session", old)  # the cookie someone copied before the sign-out
    assert not signed_in(client)


def test_logout_ends_the_session_on_every_device(app, users):
    office, home = app.test_client(), app.test_client()
    assert login(office).status_code == 302 and login(home, remember=True).status_code == 302
    assert signed_in(office) and signed_in(home)
    remember = home.get_cookie("remember_token").value
    office.post("/logout")
    assert not signed_in(home)
    third = app.test_client()
    third.set_cookie("remember_token", remember)
    assert not signed_in(third)
    assert user(app, "officer").session_version == 2


def test_remember_cookie_works_then_is_refused_after_a_password_change(app, users):
    device = app.test_client()
    assert login(device, remember=True).status_code == 302
    remember = device.get_cookie("remember_token").value
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert signed_in(fresh)  # the cookie alone signs in: it is a real remember-me

    response = device.post("/account/password", data={"current_password": PASSWORD, "new_password": "amber-lantern-42x",
                                                      "confirm_password": "amber-lantern-42x"})
    assert response.status_code == 302
    assert signed_in(device)  # the browser that changed it stays signed in
    stolen = app.test_client()
    stolen.set_cookie("remember_token", remember)
    assert not signed_in(stolen)
    assert not signed_in(fresh)
    assert login(app.test_client(), password=PASSWORD).status_code == 401
    assert login(app.test_client(), password="amber-lantern-42x").status_code == 302


def test_role_change_and_deactivation_end_sessions(app, users):
    admin, officer = app.test_client(), app.test_client()
    login(admin, "admin")
    login(officer, "officer")
    form = {"full_name": "مستخدم officer", "roles": ["officer"], "is_active": "1"}
    admin.post(f"/admin/users/{users['officer']}", data=dict(form, phone="0501111111"))
    assert signed_in(officer)  # a phone number is no reason to sign anyone out
    admin.post(f"/admin/users/{users['officer']}", data=dict(form, roles=["officer", "researcher"]))
    assert not signed_in(officer)
    login(officer, "officer")
    assert signed_in(officer)
    admin.post(f"/admin/users/{users['officer']}", data={"full_name": "x", "roles": ["officer", "researcher"]})
    assert not signed_in(officer)
    assert login(officer, "officer").status_code == 401
    assert signed_in(admin)


def test_plain_id_session_from_before_the_change_is_refused(app, client, users):
    with client.session_transaction() as s:
        s["_user_id"] = str(users["officer"])
        s["_fresh"] = True
    assert not signed_in(client)


# --- idle timeout ---------------------------------------------------------------------------------

def test_idle_session_ends_with_a_message_on_the_login_page(app, client, users):
    login(client)
    with client.session_transaction() as s:
        s["_seen"] -= 29 * 60
    assert signed_in(client)  # 29 minutes: still there, and the clock restarts
    with client.session_transaction() as s:
        s["_seen"] -= 31 * 60
    response = client.get("/beneficiaries/?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = client.get(response.headers["Location"])
    assert "بعد 30 دقيقة دون نشاط" in text_of(page)
    assert not signed_in(client)


def test_idle_timeout_is_a_setting_and_htmx_gets_a_redirect_header(app_config, users):
    app = create_app(dict(app_config, SESSION_IDLE_MINUTES=5))
    client = app.test_client()
    login(client)
    with client.session_transaction() as s:
        s["_seen"] -= 6 * 60
    response = client.get("/beneficiaries/", headers={"HX-Request": "true"})
    assert response.status_code == 302 and response.headers["HX-Redirect"].startswith("/login")


def test_idle_remembered_session_ends_too(app, users):
    client = app.test_client()
    login(client, remember=True)
    with client.session_transaction() as s:
        s["_seen"] -= 31 * 60
    assert not signed_in(client)
    assert not signed_in(client)  # the remember cookie was cleared with the session


# --- remember-me cap ------------------------------------------------------------------------------

def _forged_remember(app, user_id, version, age_days):
    with app.test_request_context():
        return encode_cookie(f"{user_id}.{version}.{int(time.time() - age_days * 86400)}")


def test_remember_cookie_lasts_at_most_14_days(app, users):
    assert app.config["REMEMBER_COOKIE_DURATION"] == dt.timedelta(days=14)
    client = app.test_client()
    response = login(client, remember=True)
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")][0]
    expires = dt.datetime.strptime(cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT")
    assert dt.timedelta(days=13, hours=23) < expires - utcnow() <= dt.timedelta(days=14)

    old = app.test_client()
    old.set_cookie("remember_token", _forged_remember(app, users["officer"], 1, 15))
    assert not signed_in(old)
    recent = app.test_client()
    recent.set_cookie("remember_token", _forged_remember(app, users["officer"], 1, 13))
    assert signed_in(recent)


def test_remember_days_cannot_exceed_14(app_config, users):
    app = create_app(dict(app_config, REMEMBER_DAYS=365))
    assert app.config["REMEMBER_COOKIE_DURATION"] == dt.timedelta(days=14)
    client = app.test_client()
    client.set_cookie("remember_token", _forged_remember(app, users["officer"], 1, 20))
    assert not signed_in(client)


def test_tampered_remember_cookie_is_refused(app, users):
    client = app.test_client()
    value = _forged_remember(app, users["officer"], 1, 1)
    client.set_cookie("remember_token", value.replace(f"{users['officer']}.", f"{users['admin']}.", 1))
    assert not signed_in(client)


# --- failed sign-ins ------------------------------------------------------------------------------

def test_failed_logins_are_audited(app, client, users):
    login(client, password="wrong-password")
    login(client, username="nobody", password="wrong-password")
    with app.app_context(), database.connection_context():
        rows = list(AuditEvent.select().where(AuditEvent.action == "login_failed").order_by(AuditEvent.id))
    assert [(r.details["username"], r.details["reason"]) for r in rows] == [
        ("officer", "password"), ("nobody", "unknown_user")]
    assert rows[0].actor_id == users["officer"] and rows[1].actor_id is None
    assert rows[0].ip == "127.0.0.1"


def test_account_is_locked_after_five_failures_across_workers(app, app_config, users):
    client = app.test_client()
    assert [login(client, password=f"wrong-{i}").status_code for i in range(5)] == [401] * 5
    # Another worker (another app on the same database) sees the same count.
    other = create_app(dict(app_config)).test_client()
    response = login(other)
    assert response.status_code == 429
    assert "محاولات فاشلة كثيرة" in text_of(response)
    assert not signed_in(other)
    # The form keeps the typed username.
    assert 'value="officer"' in response.get_data(as_text=True)
    # Another account is not affected; nor is the address (the per-address limit is separate).
    assert login(app.test_client(), username="researcher").status_code == 302
    # Once the window has passed, the right password works and clears the count.
    with app.app_context(), database.connection_context():
        LoginFailure.update(at=utcnow() - dt.timedelta(minutes=16)).execute()
    assert login(client).status_code == 302
    with app.app_context(), database.connection_context():
        assert LoginFailure.select().where(LoginFailure.username == "officer").count() == 0


def test_lockout_does_not_reveal_whether_an_account_exists(app, users):
    client = app.test_client()
    for name in ("officer", "no-such-user"):
        for _ in range(5):
            login(client, username=name, password="wrong-password", headers={"Cookie": "lang=en"})
    known = login(client, username="officer", password="wrong-password")
    unknown = login(client, username="no-such-user", password="wrong-password")
    assert known.status_code == unknown.status_code == 429
    assert text_of(known) == text_of(unknown).replace("no-such-user", "officer")
    english = app.test_client()
    english.set_cookie("lang", "en")
    assert "Too many failed attempts" in text_of(login(english, username="no-such-user"))


def test_lockout_limits_are_settings(app_config, users):
    app = create_app(dict(app_config, LOGIN_MAX_FAILURES=2, LOGIN_LOCKOUT_MINUTES=60))
    client = app.test_client()
    assert [login(client, password="bad-bad-bad").status_code for _ in range(3)] == [401, 401, 429]
    assert "60" in text_of(login(client))


def test_cli_password_reset_lifts_the_lockout_and_ends_sessions(app, runner, users):
    client = app.test_client()
    login(client, "researcher")
    for _ in range(5):
        login(app.test_client(), "researcher", "wrong-password")
    result = runner.invoke(args=["user", "password", "researcher", "--password", "Qwerty12345"])
    assert result.exit_code == 2 and "common" in result.output
    result = runner.invoke(args=["user", "password", "researcher", "--password", "violet-harbour-77"])
    assert result.exit_code == 0, result.output
    assert not signed_in(client)
    assert login(client, "researcher", "violet-harbour-77").status_code == 302
    assert runner.invoke(args=["user", "password", "nobody", "--generate"]).exit_code == 2


# --- password rules -------------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["password1234", "Password2024!", "qwertyuiop", "1234567890",
                                      "mohammed12345", "P@ssw0rd2025", "aaaaaaaaaaaa", "abababababab",
                                      "welcome@2026"])
def test_common_passwords_are_refused(app, password):
    with app.test_request_context(), force_locale("en"):
        assert str(password_problem(password)) == "This password is too common and easy to guess. Choose another."


def test_password_rules(app):
    assert len(common_passwords()) > 3000
    with app.test_request_context(), force_locale("en"):
        assert password_problem(PASSWORD) is None  # the tests' password stays valid
        assert password_problem("amber-lantern-42x") is None
        assert "10" in str(password_problem("Sh0rt!x"))
        assert "username" in str(password_problem("sara.h-is-great", "sara.h"))


def test_min_length_is_a_setting(app_config):
    app = create_app(dict(app_config, PASSWORD_MIN_LENGTH=24))
    with app.app_context():
        assert "24" in str(password_problem(PASSWORD))


def test_admin_screen_refuses_a_common_password_with_a_message(app, client, users):
    login(client, "admin")
    response = client.post("/admin/users/new", data={"username": "hind", "full_name": "هند", "roles": ["officer"],
                                                     "password": "Password2024!"})
    assert response.status_code == 422
    assert "كلمة المرور شائعة" in text_of(response)
    assert 'value="hind"' in response.get_data(as_text=True)
    response = client.post(f"/admin/users/{users['officer']}", data={"full_name": "x", "roles": ["officer"],
                                                                    "is_active": "1", "password": "12345678901"})
    assert response.status_code == 422
    assert login(app.test_client(), "officer").status_code == 302


def test_cli_user_create_refuses_a_common_password(runner):
    result = runner.invoke(args=["user", "create", "hind", "--role", "officer", "--password", "iloveyou2024"])
    assert result.exit_code == 2 and "password: This password is too common" in result.output


def test_change_password_screen(app, client, users):
    login(client)
    assert client.get("/account/password").status_code == 200
    cases = [
        ({"current_password": "wrong-password", "new_password": "amber-lantern-42x",
          "confirm_password": "amber-lantern-42x"}, "كلمة المرور الحالية غير صحيحة"),
        ({"current_password": PASSWORD, "new_password": "qwerty123456", "confirm_password": "qwerty123456"},
         "كلمة المرور شائعة"),
        ({"current_password": PASSWORD, "new_password": "amber-lantern-42x", "confirm_password": "amber-lantern-43x"},
         "كلمتا المرور الجديدتان مختلفتان"),
        ({"current_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD}, "مختلفة عن الحالية"),
    ]
    for form, message in cases:
        response = client.post("/account/password", data=form)
        assert response.status_code == 422 and message in text_of(response), form
    assert login(app.test_client()).status_code == 302  # nothing changed


# --- two-step sign-in -----------------------------------------------------------------------------

def _enrol(client):
    page = client.get("/account/two-step")
    assert page.status_code == 200 and "data:image/svg+xml" in page.get_data(as_text=True)
    with client.session_transaction() as s:
        secret = s["_totp_enrol"]
    return secret


def test_admin_enrols_and_is_asked_for_a_code(app, client, users):
    login(client, "admin")
    secret = _enrol(client)
    assert client.get("/account/two-step").get_data(as_text=True).count(secret) == 1  # the same key until confirmed
    response = client.post("/account/two-step", data={"action": "enable", "code": "000000"})
    assert response.status_code == 422 and user(app, "admin").totp_secret == ""
    response = client.post("/account/two-step", data={"action": "enable", "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and user(app, "admin").totp_secret == secret
    assert signed_in(client)

    other = app.test_client()
    response = login(other, "admin")
    assert response.status_code == 302 and response.headers["Location"] == "/login/two-step"
    assert not signed_in(other)  # a password alone is not enough
    response = other.post("/login/two-step", data={"code": "123456"})
    assert response.status_code == 401 and "الرمز غير صحيح" in text_of(response)
    assert not signed_in(other)
    # The code used to enrol cannot be used again (replay); a later one works.
    with app.app_context(), database.connection_context():
        User.update(totp_last_step=0).where(User.username == "admin").execute()
    later = pyotp.TOTP(secret).at(time.time() + 30)
    response = other.post("/login/two-step", data={"code": later})
    assert response.status_code == 302 and signed_in(other)
    third = app.test_client()
    login(third, "admin")
    assert third.post("/login/two-step", data={"code": later}).status_code == 401
    with app.app_context(), database.connection_context():
        reasons = [e.details["reason"] for e in AuditEvent.select().where(AuditEvent.action == "login_failed")]
    assert reasons.count("two_step_code") == 2


def test_two_step_pending_sign_in_expires(app, client, users):
    with app.app_context(), database.connection_context():
        User.update(totp_secret=pyotp.random_base32()).where(User.username == "admin").execute()
    login(client, "admin")
    with client.session_transaction() as s:
        s["_two_step"]["at"] -= 301
        s.modified = True
    response = client.post("/login/two-step", data={"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_two_step_wrong_codes_count_towards_the_lockout(app, client, users):
    with app.app_context(), database.connection_context():
        User.update(totp_secret=pyotp.random_base32()).where(User.username == "admin").execute()
    login(client, "admin")
    for _ in range(5):
        client.post("/login/two-step", data={"code": "000000"})
    assert client.post("/login/two-step", data={"code": "000000"}).status_code == 429


def test_another_admin_or_the_cli_turns_two_step_off(app, runner, users):
    with app.app_context(), database.connection_context():
        second = User.create(username="admin2", full_name="مدير ثان", roles="admin",
                             password_hash=User.get_by_id(users["admin"]).password_hash, totp_secret=pyotp.random_base32())
    client = app.test_client()
    login(client, "admin")
    assert "reset_two_step" in client.get(f"/admin/users/{second.id}").get_data(as_text=True)
    assert "reset_two_step" not in client.get(f"/admin/users/{users['officer']}").get_data(as_text=True)
    client.post(f"/admin/users/{second.id}", data={"full_name": "مدير ثان", "roles": ["admin"], "is_active": "1",
                                                   "reset_two_step": "1"})
    assert user(app, "admin2").totp_secret == ""
    assert login(app.test_client(), "admin2").headers["Location"] == "/"

    with app.app_context(), database.connection_context():
        User.update(totp_secret=pyotp.random_base32()).where(User.username == "admin2").execute()
    result = runner.invoke(args=["user", "reset-two-step", "admin2"])
    assert result.exit_code == 0 and user(app, "admin2").totp_secret == ""
    assert "has no two-step" in runner.invoke(args=["user", "reset-two-step", "admin2"]).output


def test_admin_turns_two_step_off_with_a_code(app, client, users):
    secret = pyotp.random_base32()
    with app.app_context(), database.connection_context():
        User.update(totp_secret=secret).where(User.username == "admin").execute()
    login(client, "admin")
    client.post("/login/two-step", data={"code": pyotp.TOTP(secret).now()})
    assert client.post("/account/two-step", data={"action": "disable", "code": "000000"}).status_code == 422
    with app.app_context(), database.connection_context():
        User.update(totp_last_step=0).where(User.username == "admin").execute()
    response = client.post("/account/two-step", data={"action": "disable", "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and user(app, "admin").totp_secret == ""
    assert signed_in(client)


def test_two_step_setup_is_for_admins_only(app, client, users):
    login(client, "officer")
    assert client.get("/account/two-step").status_code == 403
    assert client.post("/account/two-step", data={"action": "enable", "code": "123456"}).status_code == 403


def test_old_failures_are_pruned(app, users):
    client = app.test_client()
    for name in ("a1", "a2", "a3"):
        login(client, username=name, password="wrong-password")
    with app.app_context(), database.connection_context():
        LoginFailure.update(at=utcnow() - dt.timedelta(minutes=20)).execute()
    login(client, username="a4", password="wrong-password")
    with app.app_context(), database.connection_context():
        assert [f.username for f in LoginFailure.select()] == ["a4"]
