"""Creating and changing staff accounts (shared by the admin screens and the CLI)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from .audit import audit
from .db import database
from .db import utcnow
from .models import ROLES, Branch, User
from .passwords import password_problem
from .text import clean_text
from .validators import ValidationError, clean_mobile

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")


def validate_user(data: dict, existing: User | None = None) -> tuple[dict, dict]:
    values, errors = {}, {}
    if existing is None:
        username = clean_text(data.get("username")).lower()
        if not USERNAME.match(username):
            errors["username"] = _l("Use 2–60 lowercase Latin letters, digits, dot, dash or underscore.")
        elif User.select().where(User.username == username).exists():
            errors["username"] = _l("This username is taken.")
        values["username"] = username
    full_name = clean_text(data.get("full_name"))
    if not full_name:
        errors["full_name"] = _l("This field is required.")
    elif len(full_name) > 160:
        errors["full_name"] = _l("Too long: at most %(n)s characters.", n=160)
    values["full_name"] = full_name
    roles = data.get("roles") or []
    if isinstance(roles, str):
        roles = [r.strip() for r in roles.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        errors["roles"] = _l("Choose at least one role.") if not roles else _l("Unknown role.")
    values["roles"] = ",".join(r for r in ROLES if r in roles)
    phone = clean_text(data.get("phone"))
    if phone:
        try:
            phone = clean_mobile(phone, saudi_only=False)
        except ValidationError as exc:
            errors["phone"] = exc.message
    values["phone"] = phone
    values["email"] = clean_text(data.get("email"))[:200]
    branch = data.get("branch")
    values["branch"] = None
    if branch:
        values["branch"] = Branch.get_or_none(Branch.code == str(branch)) or (
            Branch.get_or_none(Branch.id == int(branch)) if str(branch).isdigit() else None)
        if values["branch"] is None:
            errors["branch"] = _l("Unknown branch.")
    if "delegate" in roles and values["branch"] is None and "branch" not in errors:
        errors["branch"] = _l("A branch delegate needs a branch.")
    password = data.get("password") or ""
    if existing is None or password:
        problem = password_problem(password, values.get("username") or (existing.username if existing else ""))
        if problem:
            errors["password"] = problem
        values["password"] = password
    return values, errors


def create_user(values: dict, actor=None) -> User:
    from .auth import hash_password

    values = dict(values)
    password = values.pop("password")
    with database.atomic():
        user = User.create(password_hash=hash_password(password), **values)
        audit("create", "user", user.id, {"username": user.username, "roles": user.roles}, actor=actor)
    return user


def ends_sessions(user: User, values: dict) -> bool:
    """A new password, other roles, deactivation or removed two-step sign-in end the user's sessions."""
    return bool(
        values.get("password") or values.get("password_hash")
        or ("roles" in values and set(filter(None, values["roles"].split(","))) != user.role_set)
        or ("is_active" in values and not values["is_active"] and user.is_active)
        or ("totp_secret" in values and values["totp_secret"] != user.totp_secret)
    )


def update_user(user: User, values: dict, actor=None) -> None:
    """Save changed account fields; a change in ``ends_sessions`` signs the user out everywhere."""
    from .auth import hash_password

    values = dict(values)
    password = values.pop("password", None)
    if password:
        values["password_hash"] = hash_password(password)
        values["password_changed_at"] = utcnow()
    ended = ends_sessions(user, values)
    with database.atomic():
        query = User.update(**values)
        if ended:
            query = User.update(session_version=User.session_version + 1, **values)
        query.where(User.id == user.id).execute()
        details = {"fields": sorted(k for k in values if k not in ("password_hash", "totp_secret"))}
        if "totp_secret" in values:
            details["fields"] = sorted(details["fields"] + ["two_step"])
        if ended:
            details["sessions_ended"] = True
        audit("update", "user", user.id, details, actor=actor)


def end_sessions(user_id: int) -> None:
    """Sign the user out on every device (sessions and remember cookies carry the old version)."""
    User.update(session_version=User.session_version + 1).where(User.id == user_id).execute()
