"""Sign-in, sign-out, password hashing (argon2id) and role checks."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from . import login_manager
from .audit import audit
from .db import utcnow
from .limiter import limiter
from .models import PERMISSIONS, User
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


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = User.get_or_none(User.username == form.username.data.strip().lower())
        if user is None:
            try:
                hasher.verify(_DUMMY_HASH, form.password.data)
            except VerificationError:
                pass
            error = _("Wrong username or password.")
        elif not check_password(user, form.password.data) or not user.is_active:
            error = _("Wrong username or password.")
        else:
            login_user(user, remember=form.remember.data)
            User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
            audit("login", "user", user.id, actor=user)
            return redirect(_safe_next(request.args.get("next")))
    return render("auth/login.html", form=form, error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def init_app(app):
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id):
        try:
            user = User.get_or_none(User.id == int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user and user.is_active else None
