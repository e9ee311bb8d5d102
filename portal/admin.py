"""Administration: staff accounts and roles, enabled plugins."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from markupsafe import Markup
from peewee import JOIN

from . import users_service
from .auth import roles_required
from .hygiene import get_or_404
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
    user = get_or_404(User, User.id == user_id)
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


# What a hook adds, in the words of the admin's plugins page (hook names only under "technical details").
HOOK_WORDS = {
    "channel_info": _l("a contact channel"),
    "render_timeline_entry": _l("draws its entries on the timeline"),
    "validate_entry_data": _l("checks entries sent through the API"),
    "timeline_entry_created": _l("acts on new timeline entries"),
    "case_status_changed": _l("acts when a request changes state"),
    "send_message": _l("sends messages to beneficiaries"),
    "dashboard_widgets": _l("panels on the dashboard"),
    "page_notices": _l("notices on every staff page"),
    "beneficiary_actions": _l("buttons or panels on the beneficiary's file"),
    "case_actions": _l("buttons or panels on the request page"),
    "register_commands": _l("command-line commands"),
    "openapi_paths": _l("API routes"),
    "timeline_entry_updated": _l("acts on changed timeline entries"),
    "timeline_entries_created": _l("acts on entries written in bulk"),
    "case_document": _l("documents (PDF) about requests"),
    "beneficiary_data": _l("its data in the data-protection export"),
    "anonymise_beneficiary": _l("its data in the erasure"),
    "register_migrations": _l("tables of its own"),
    "service_finished": _l("acts when a service to a beneficiary has finished"),
    "document_extras": _l("values printed on documents"),
}
CORE_NAMES = {"portal.default_hooks": _l("Core"), "portal.workflow.hooks": _l("Request workflow"),
              "portal.complaints.hooks": _l("Complaints register"),
              "portal.satisfaction.hooks": _l("Satisfaction surveys")}


LATIN_RUN = re.compile(r"[A-Za-z/][\w#./<>:_-]*(?:\s+[A-Za-z0-9][\w#./<>:_-]*)*")


def _isolate_latin(text: str) -> Markup:
    """Technical names inside an Arabic description (SMTP, PKCS#12, PORTAL_MAX_UPLOAD_MB) as code, each
    isolated left to right."""
    out, last = Markup(""), 0
    for match in LATIN_RUN.finditer(text):
        out += text[last:match.start()] + Markup('<code dir="ltr">') + match[0] + Markup("</code>")
        last = match.end()
    return out + text[last:]


def _call(pm, hook_name, plugin, **kwargs):
    """One plugin's own answer to a hook (None when it does not implement it)."""
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        if impl.plugin is plugin:
            return impl.function(*[kwargs[name] for name in impl.argnames])
    return None


def _plugin_row(pm, name, plugin, lang):
    from .settings import shown_value

    hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
    info = _call(pm, "channel_info", plugin) or {}
    links = _call(pm, "menu_links", plugin, user=current_user, request=request) or []
    blueprints = current_app.extensions.get("portal_plugin_blueprints", {}).get(name, [])
    screens = [r for r in current_app.url_map.iter_rules()
               if r.endpoint.split(".")[0] in blueprints and "GET" in (r.methods or ())]
    settings = []
    for decl in current_app.extensions.get("portal_settings", []):
        if decl["plugin"] == name:
            value = current_app.config.get(decl["name"])
            literal = not decl["secret"] and value not in (None, "") and not isinstance(value, bool)
            description = _isolate_latin(str(decl["description"])) if lang == "ar" else str(decl["description"])
            settings.append({**decl, "value": shown_value(decl, value), "literal": literal,
                             "description": description})
    fallback = CORE_NAMES.get(name) or (type(plugin).__name__ if str(name).isdigit() else name)
    label = info.get("label_ar" if lang == "ar" else "label_en") or str(fallback)
    return {"name": name, "label": label, "icon": info.get("icon", ""), "links": links, "screens": len(screens),
            "module": getattr(plugin, "__name__", type(plugin).__name__), "hooks": hooks,
            "adds": [str(HOOK_WORDS[h]) for h in HOOK_WORDS if h in hooks], "settings": settings,
            "core": name in CORE_NAMES}


@bp.get("/plugins")
@roles_required("admin")
def plugins():
    from flask_babel import get_locale

    from .plugins import available_plugins

    pm = get_pm()
    lang = str(get_locale() or "ar")
    rows = [_plugin_row(pm, name, plugin, lang) for name, plugin in pm.list_name_plugin()]
    rows.sort(key=lambda r: (r["core"], r["label"]))
    enabled = {r["name"] for r in rows}
    disabled = sorted(n for n in available_plugins() if n not in enabled)
    units = {"seconds": _("seconds"), "minutes": _("minutes"), "hours": _("hours"), "days": _("days"), "MB": _("MB")}
    return render("admin/plugins.html", plugins=rows, disabled=disabled, units=units)


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
