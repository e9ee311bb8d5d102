"""Sign-in, sign-out, password hashing (argon2id) and role checks."""
from __future__ import annotations

import datetime as dt
import functools
import time
from urllib.parse import urlsplit

import pyotp

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from . import login_manager
from .audit import audit
from .db import database, utcnow
from .limiter import limiter
from .models import PERMISSIONS, LoginFailure, User
from .templating import render
from .validators import max_length

bp = Blueprint("auth", __name__)
hasher = PasswordHasher()  # argon2id with the library's current defaults


def hash_password(password: str) -> str:
    return hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        User.update(password_hash=hash_password(password)).where(User.id == user.id).execute()
    return True


# A real hash to verify against when the username is unknown, so timing does not tell which exist.
_DUMMY_HASH = hasher.hash("not-a-password")


def roles_required(*roles: str):
    """Allow the view to users holding any of ``roles`` (admins are not implied)."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def permission_required(permission: str):
    """Allow the view to users given ``permission`` (``portal.models.PERMISSIONS``)."""
    return roles_required(*PERMISSIONS[permission])


STAFF_ROLES = ("admin", "officer", "researcher", "committee", "delegate", "manager")
CONTACT_ROLES = ("officer", "delegate", "researcher", "admin")
EDIT_ROLES = ("officer", "delegate", "admin")


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), max_length(60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), max_length(200)])
    remember = BooleanField(_l("Keep me signed in on this device"))


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("dashboard.index")


# --- sessions -------------------------------------------------------------------------------------

PENDING_KEY = "_two_step"  # a password accepted, the TOTP code still to come
SEEN_KEY = "_seen"  # last activity (epoch seconds), for the idle timeout
MAX_REMEMBER_DAYS = 14
TWO_STEP_SECONDS = 300


def remember_days() -> int:
    return max(0, min(int(current_app.config["REMEMBER_DAYS"]), MAX_REMEMBER_DAYS))


def parse_session_id(value) -> tuple[int, int, int] | None:
    """``"id.version.signed_in_at"`` -> the three numbers; anything else (an old plain id) -> None."""
    parts = str(value or "").split(".")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 12 for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def load_session_user(value) -> User | None:
    parsed = parse_session_id(value)
    if parsed is None:
        return None
    user_id, version, signed_in_at = parsed
    # A sign-in lasts at most the remember-me period, remembered or not.
    if time.time() - signed_in_at > max(remember_days(), 1) * 86400:
        return None
    user = User.get_or_none(User.id == user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    user._session_id = str(value)
    return user


def start_session(user: User, remember: bool) -> None:
    """Sign ``user`` in on this browser (after the password and, when enrolled, the TOTP code)."""
    remember = bool(remember) and remember_days() > 0
    user._session_id = None  # a new "id.version.time" for the session and the cookie
    login_user(user, remember=remember, duration=dt.timedelta(days=remember_days() or 1))
    # A remembered session's cookie outlives the browser, so its idle clock does too.
    session.permanent = remember
    session[SEEN_KEY] = int(time.time())
    session.pop(PENDING_KEY, None)


def refresh_session(user_id: int) -> None:
    """After a change that ended the user's sessions, keep this browser signed in with the new version."""
    remembered = bool(session.permanent)
    start_session(User.get_by_id(user_id), remember=remembered)


def end_session_everywhere(user: User) -> None:
    User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()


# --- failed sign-ins ------------------------------------------------------------------------------

def _failure_window() -> dt.timedelta:
    return dt.timedelta(minutes=int(current_app.config["LOGIN_LOCKOUT_MINUTES"]))


def account_locked(username: str) -> bool:
    limit = int(current_app.config["LOGIN_MAX_FAILURES"])
    if limit <= 0:
        return False
    since = utcnow() - _failure_window()
    recent = (LoginFailure.select().where((LoginFailure.username == username) & (LoginFailure.at > since))
              .limit(limit).count())
    return recent >= limit


def record_failure(username: str, user: User | None, reason: str) -> None:
    """Store the failure (every worker sees it) and audit it; the username is recorded as typed."""
    with database.atomic():
        # Failures older than the window count for nothing: the table holds only the current window
        # (also when someone sprays many different usernames).
        LoginFailure.delete().where(LoginFailure.at <= utcnow() - _failure_window()).execute()
        LoginFailure.create(username=username, ip=(g.get("audit_ip") or "")[:64])
        audit("login_failed", "user", user.id if user else "", {"username": username, "reason": reason},
              actor=user)


def clear_failures(username: str) -> None:
    LoginFailure.delete().where(LoginFailure.username == username).execute()


def _locked_message() -> str:
    return _("Too many failed attempts to sign in with this username. Try again in %(n)s minutes.",
             n=int(current_app.config["LOGIN_LOCKOUT_MINUTES"]))


# --- routes ---------------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        user = User.get_or_none(User.username == username)
        if account_locked(username):
            # The same answer whether the account exists or not: failures are counted per typed name.
            audit("login_failed", "user", user.id if user else "", {"username": username, "reason": "locked"},
                  actor=user)
            error, status = _locked_message(), 429
        elif user is None:
            try:
                hasher.verify(_DUMMY_HASH, form.password.data)
            except VerificationError:
                pass
            record_failure(username, None, "unknown_user")
            error, status = _("Wrong username or password."), 401
        elif not check_password(user, form.password.data) or not user.is_active:
            record_failure(username, user, "password" if user.is_active else "inactive")
            error, status = _("Wrong username or password."), 401
        elif user.totp_secret:
            session[PENDING_KEY] = {"user": user.id, "version": user.session_version, "at": int(time.time()),
                                    "remember": bool(form.remember.data),
                                    "next": _safe_next(request.args.get("next"))}
            return redirect(url_for("auth.login_two_step"))
        else:
            return _signed_in(user, form.remember.data, _safe_next(request.args.get("next")))
    return render("auth/login.html", form=form, error=error), status


def _signed_in(user: User, remember: bool, target: str):
    clear_failures(user.username)
    start_session(user, remember)
    User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
    audit("login", "user", user.id, actor=user)
    return redirect(target)


def totp_step(secret: str, code: str, after: int = 0) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side for clock drift), if later than ``after``."""
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in (now - 1, now, now + 1):
        if step > after and secrets_equal(totp.at(step * totp.interval), code):
            return step
    return None


def secrets_equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


@bp.route("/login/two-step", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login_two_step():
    pending = session.get(PENDING_KEY)
    user = User.get_or_none(User.id == pending["user"]) if isinstance(pending, dict) else None
    if (user is None or not user.is_active or not user.totp_secret
            or user.session_version != pending.get("version")
            or time.time() - pending.get("at", 0) > TWO_STEP_SECONDS):
        session.pop(PENDING_KEY, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    error, status = None, 200
    if request.method == "POST":
        if account_locked(user.username):
            audit("login_failed", "user", user.id, {"username": user.username, "reason": "locked"}, actor=user)
            error, status = _locked_message(), 429
        else:
            step = totp_step(user.totp_secret, request.form.get("code", ""), after=user.totp_last_step)
            # The conditional update makes a code usable once, even by two requests at the same moment.
            if step is not None and User.update(totp_last_step=step).where(
                    (User.id == user.id) & (User.totp_last_step < step)).execute():
                return _signed_in(user, pending.get("remember"), pending.get("next") or url_for("dashboard.index"))
            record_failure(user.username, user, "two_step_code")
            error, status = _("The code is not right or has expired. Enter the code your app shows now."), 401
    return render("auth/two_step.html", error=error), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = current_user._get_current_object()
    end_session_everywhere(user)
    audit("logout", "user", user.id, actor=user)
    logout_user()
    session.pop(SEEN_KEY, None)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def _is_asset_request() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static") or request.blueprint == "assets"


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    days = max(0, min(int(app.config["REMEMBER_DAYS"]), MAX_REMEMBER_DAYS))
    app.config["REMEMBER_COOKIE_DURATION"] = dt.timedelta(days=days or 1)
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(days=days or 1)

    @login_manager.user_loader
    def load_user(user_id):
        return load_session_user(user_id)

    @app.before_request
    def _idle_timeout():
        if request.blueprint == "api" or _is_asset_request() or "_user_id" not in session:
            return None
        if not current_user.is_authenticated:
            return None
        now = int(time.time())
        idle = int(app.config["SESSION_IDLE_MINUTES"]) * 60
        seen = session.get(SEEN_KEY)
        if idle > 0 and isinstance(seen, int) and now - seen > idle:
            logout_user()
            session.pop(SEEN_KEY, None)
            flash(_("You were signed out after %(n)s minutes without activity. Please sign in again.",
                    n=int(app.config["SESSION_IDLE_MINUTES"])), "warning")
            target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
            response = redirect(target)
            if request.headers.get("HX-Request"):
                response.headers["HX-Redirect"] = target
            return response
        if not isinstance(seen, int) or now - seen >= 10:
            session[SEEN_KEY] = now
        return None
