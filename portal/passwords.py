"""The password rules applied wherever a password is set: a minimum length (``PORTAL_PASSWORD_MIN_LENGTH``),
not a common password (``portal/common_passwords.txt``, see ``tools/common_passwords.py``), not the username,
not one character repeated."""
from __future__ import annotations

import functools
import re
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

DEFAULT_MIN_LENGTH = 10
MAX_LENGTH = 200
LIST_FILE = Path(__file__).with_name("common_passwords.txt")
_TRAILING = re.compile(r"[\d\W_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    return frozenset(line.strip() for line in LIST_FILE.read_text(encoding="utf-8").splitlines() if line.strip())


def min_length() -> int:
    if has_app_context():
        return int(current_app.config.get("PASSWORD_MIN_LENGTH") or DEFAULT_MIN_LENGTH)
    return DEFAULT_MIN_LENGTH


def password_problem(password: str, username: str = ""):
    """The message saying why ``password`` may not be used, or None when it is acceptable."""
    password = password or ""
    n = min_length()
    if len(password) < n:
        return _l("The password needs at least %(n)s characters.", n=n)
    if len(password) > MAX_LENGTH:
        return _l("Too long: at most %(n)s characters.", n=MAX_LENGTH)
    folded = password.lower()
    base = _TRAILING.sub("", folded)
    common = common_passwords()
    if folded in common or (base and base in common) or len(set(folded)) <= 2:
        return _l("This password is too common and easy to guess. Choose another.")
    if username and username.lower() in folded:
        return _l("The password must not contain the username.")
    return None
