"""The association's contact details on every public page: phone, e-mail, address, working hours and a
map link, edited by admins (``/website/contact-details``), stored in one ``SiteContact`` row and
audited. Until an admin saves them the ``WEBSITE_PHONE``, ``WEBSITE_EMAIL`` and ``WEBSITE_ADDRESS``
settings are shown."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app, g
from flask_babel import lazy_gettext as _l

from portal.audit import audit
from portal.db import Prepared, database, utcnow
from portal.text import clean_text, fold_digits

from .models import SiteContact

FIELDS = ("phone", "email", "address", "hours", "map_url")
LIMITS = {"phone": 30, "email": 120, "address": 300, "hours": 300, "map_url": 500}
_PHONE = re.compile(r"\+?[0-9][0-9 \-]{3,28}[0-9]")
_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")


_CONTACT = Prepared(lambda: SiteContact.select().order_by(SiteContact.id).limit(1))


def current() -> dict:
    """The details to show (empty strings for what is not set), read once per request."""
    cached = g.get("_website_contact")
    if cached is not None:
        return cached
    row = _CONTACT.first()
    if row is not None:
        details = {key: getattr(row, key) or "" for key in FIELDS}
    else:
        cfg = current_app.config
        details = {"phone": cfg.get("WEBSITE_PHONE") or "", "email": cfg.get("WEBSITE_EMAIL") or "",
                   "address": cfg.get("WEBSITE_ADDRESS") or "", "hours": "", "map_url": ""}
    g._website_contact = details
    return details


def tel_href(phone: str) -> str:
    """``tel:`` target of a shown number: digits and a leading +."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" if phone.strip().startswith("+") else "") + digits


def validate(form) -> tuple[dict, dict]:
    """(values, errors) from the settings form. Every field is optional; what is given must be a
    phone number, an e-mail address, or an http(s) link of at most 500 characters."""
    values, errors = {}, {}
    for key in FIELDS:
        value = clean_text(form.get(key))
        if key in ("phone", "map_url", "email"):
            value = fold_digits(value) if key == "phone" else value
        values[key] = value
        if len(value) > LIMITS[key]:
            errors[key] = _l("Too long: at most %(n)s characters.", n=LIMITS[key])
    if values["phone"] and "phone" not in errors and not _PHONE.fullmatch(values["phone"]):
        errors["phone"] = _l("Enter a phone number: digits, spaces, dashes and a leading +.")
    if values["email"] and "email" not in errors and not _EMAIL.fullmatch(values["email"]):
        errors["email"] = _l("Enter an e-mail address such as info@example.org.")
    if values["map_url"] and "map_url" not in errors:
        try:
            parts = urlsplit(values["map_url"])
        except ValueError:
            parts = None
        if (parts is None or parts.scheme not in ("http", "https") or not parts.netloc
                or any(ch.isspace() for ch in values["map_url"])):
            errors["map_url"] = _l("Enter a map link that starts with https:// (or http://).")
    return values, errors


def save(values: dict, actor) -> None:
    """Store the details (one transaction) and audit which fields changed."""
    with database.atomic():
        row = SiteContact.select().order_by(SiteContact.id).first()
        before = {key: getattr(row, key) if row is not None else "" for key in FIELDS}
        if row is None:
            SiteContact.create(updated_by=actor, **values)
        else:
            SiteContact.update(updated_by=actor, updated_at=utcnow(), **values).where(SiteContact.id == row.id).execute()
        audit("update", "website_contact", 1, {"fields": sorted(k for k in FIELDS if before[k] != values[k])},
              actor=actor)
    g.pop("_website_contact", None)
