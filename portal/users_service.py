"""Creating and changing staff accounts (shared by the admin screens and the CLI)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from .audit import audit
from .db import database
from .models import ROLES, Branch, User
from .text import clean_text
from .validators import ValidationError, clean_mobile

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
MIN_PASSWORD = 10


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
        if len(password) < MIN_PASSWORD:
            errors["password"] = _l("The password needs at least %(n)s characters.", n=MIN_PASSWORD)
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


def update_user(user: User, values: dict, actor=None) -> None:
    from .auth import hash_password

    values = dict(values)
    password = values.pop("password", None)
    if password:
        values["password_hash"] = hash_password(password)
    with database.atomic():
        User.update(**values).where(User.id == user.id).execute()
        audit("update", "user", user.id, {"fields": sorted(k for k in values if k != "password_hash")}, actor=actor)
