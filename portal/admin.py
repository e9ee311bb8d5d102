"""Administration: staff accounts and roles, enabled plugins."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from peewee import JOIN

from . import users_service
from .auth import roles_required
from .models import ROLES, Branch, User
from .plugins import get_pm
from .templating import render

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _form_data():
    data = request.form.to_dict()
    data["roles"] = request.form.getlist("roles")
    return data


@bp.get("/users")
@roles_required("admin")
def users():
    rows = list(User.select(User, Branch).join(Branch, join_type=JOIN.LEFT_OUTER, attr="branch")
                .switch(User).order_by(User.username))
    return render("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    form, errors = {"roles": []}, {}
    if request.method == "POST":
        form = _form_data()
        values, errors = users_service.validate_user(form)
        if not errors:
            user = users_service.create_user(values, actor=current_user._get_current_object())
            flash(_("The account %(u)s was created.", u=user.username), "success")
            return redirect(url_for("admin.users"))
    return render("admin/user_form.html", form=form, errors=errors, user=None, roles=ROLES,
                  branches=list(Branch.select())), (422 if errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id):
    user = User.get_or_none(User.id == user_id)
    if user is None:
        abort(404)
    errors = {}
    if request.method == "POST":
        form = _form_data()
        values, errors = users_service.validate_user(form, existing=user)
        values["is_active"] = bool(form.get("is_active"))
        if form.get("reset_two_step") and user.totp_secret:
            values["totp_secret"], values["totp_last_step"] = "", 0
        if user.id == current_user.id and (not values["is_active"] or "admin" not in values["roles"].split(",")):
            errors["roles"] = _("You cannot remove your own administrator access.")
        if not errors:
            ended = users_service.ends_sessions(user, values)
            users_service.update_user(user, values, actor=current_user._get_current_object())
            if ended and user.id == current_user.id:
                from .auth import refresh_session

                refresh_session(user.id)
            flash(_("The account was updated."), "success")
            return redirect(url_for("admin.users"))
    else:
        form = {"full_name": user.full_name, "email": user.email, "phone": user.phone,
                "roles": list(user.role_set), "branch": str(user.branch_id or ""), "is_active": user.is_active}
    return render("admin/user_form.html", form=form, errors=errors, user=user, roles=ROLES,
                  branches=list(Branch.select())), (422 if errors else 200)


@bp.get("/plugins")
@roles_required("admin")
def plugins():
    pm = get_pm()
    rows = []
    for name, module in sorted(pm.list_name_plugin(), key=lambda p: str(p[0])):
        hooks = sorted(h.name for h in pm.get_hookcallers(module) or [])
        rows.append({"name": name, "module": getattr(module, "__name__", str(module)), "hooks": hooks})
    return render("admin/plugins.html", plugins=rows)


@bp.get("/health")
@roles_required("admin")
def health():
    """The background work: the worker's last heartbeat, the queue length, the last daily run."""
    from .health import health as read_health

    return render("admin/health.html", health=read_health())


@bp.post("/health/probe")
@roles_required("admin")
def health_probe():
    """Queue a test task; the health page shows when the worker has done it."""
    from .db import utcnow
    from .health import probe

    probe(utcnow().isoformat(timespec="seconds"))
    flash(_("A test task was queued. Reload this page: when the worker has done it, its time shows below."), "info")
    return redirect(url_for("admin.health"))
