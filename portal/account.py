"""The signed-in user's own account: changing the password and enrolling the two-step code (TOTP).
The screens live on ``auth.bp`` beside sign-in; they sit above ``users_service`` (which hashes with
``auth``), so ``auth`` never imports the users' service."""
from __future__ import annotations

import pyotp
import segno
from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .auth import bp, check_password, refresh_session, roles_required, totp_step
from .passwords import password_problem
from .templating import render
from .users_service import update_user


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    errors = {}
    user = current_user._get_current_object()
    if request.method == "POST":
        current = request.form.get("current_password", "")
        new = request.form.get("new_password", "")
        if not current or not check_password(user, current):
            errors["current_password"] = _("The current password is not right.")
        problem = password_problem(new, user.username)
        if problem:
            errors["new_password"] = problem
        elif new != request.form.get("confirm_password", ""):
            errors["confirm_password"] = _("The two new passwords differ.")
        elif current and new == current:
            errors["new_password"] = _("Choose a password different from the current one.")
        if not errors:
            update_user(user, {"password": new}, actor=user)
            refresh_session(user.id)
            flash(_("Your password was changed. Every other device was signed out."), "success")
            return redirect(url_for("auth.change_password"))
    return render("auth/password.html", errors=errors, min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                  two_step=user.has_role("admin")), (422 if errors else 200)


ENROL_KEY = "_totp_enrol"


def _qr_data_uri(uri: str) -> str:
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


@bp.route("/account/two-step", methods=["GET", "POST"])
@roles_required("admin")
def two_step():
    user = current_user._get_current_object()
    error = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "enable" and not user.totp_secret:
            secret = session.get(ENROL_KEY)
            step = totp_step(secret, request.form.get("code", "")) if secret else None
            if step is None:
                error = _("The code is not right or has expired. Enter the code your app shows now.")
            else:
                update_user(user, {"totp_secret": secret, "totp_last_step": step}, actor=user)
                session.pop(ENROL_KEY, None)
                refresh_session(user.id)
                flash(_("Two-step sign-in is on. You will be asked for a code at every sign-in."), "success")
                return redirect(url_for("auth.two_step"))
        elif action == "disable" and user.totp_secret:
            if totp_step(user.totp_secret, request.form.get("code", ""), after=user.totp_last_step) is None:
                error = _("The code is not right or has expired. Enter the code your app shows now.")
            else:
                update_user(user, {"totp_secret": "", "totp_last_step": 0}, actor=user)
                refresh_session(user.id)
                flash(_("Two-step sign-in is off."), "success")
                return redirect(url_for("auth.two_step"))
        else:
            abort(400)
    qr = secret = None
    if not user.totp_secret:
        secret = session.get(ENROL_KEY) or pyotp.random_base32()
        session[ENROL_KEY] = secret
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=_("Sila"))
        qr = _qr_data_uri(uri)
    return render("auth/two_step_setup.html", enabled=bool(user.totp_secret), qr=qr, secret=secret,
                  error=error), (422 if error else 200)
