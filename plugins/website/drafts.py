"""Saved application drafts: created at the first step, resumable with a code and the ID number."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app, session

from portal.db import database, utcnow
from portal.text import fold_digits

from .models import ApplicationDraft

# No 0/O, 1/I/L: easy to read aloud and to copy from a phone screen.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return "-".join(code[i:i + 5] for i in range(0, len(code), 5))


def normalize_code(value: str | None) -> str:
    return "".join(ch for ch in fold_digits(value or "").upper() if ch.isalnum())


def code_hash(code: str) -> str:
    return hashlib.sha256(f"website-draft:{code}".encode()).hexdigest()


def expiry() -> dt.datetime:
    return utcnow() + dt.timedelta(days=int(current_app.config["WEBSITE_DRAFT_DAYS"]))


def create(national_id: str, data: dict) -> tuple[ApplicationDraft, str]:
    code = new_code()
    with database.atomic():
        draft = ApplicationDraft.create(code_hash=code_hash(code), data=data, national_id=national_id,
                                        expires_at=expiry())
    remember(draft, code)
    return draft, code


def remember(draft: ApplicationDraft, code: str) -> None:
    session["website_draft"] = {"id": draft.id, "code": code}


def forget() -> None:
    session.pop("website_draft", None)


def current() -> ApplicationDraft | None:
    info = session.get("website_draft")
    if not info:
        return None
    draft = ApplicationDraft.get_or_none(ApplicationDraft.id == info.get("id"))
    if draft is None or draft.code_hash != code_hash(info.get("code", "")):
        forget()
        return None
    if draft.submitted_at is None and draft.expires_at < utcnow():
        forget()
        return None
    return draft


def current_code() -> str:
    info = session.get("website_draft") or {}
    return format_code(info.get("code", ""))


def resume(code: str, national_id: str) -> ApplicationDraft | None:
    code = normalize_code(code)
    if len(code) != CODE_LENGTH:
        return None
    draft = ApplicationDraft.get_or_none(ApplicationDraft.code_hash == code_hash(code))
    if draft is None or draft.national_id != national_id or draft.submitted_at is not None:
        return None
    if draft.expires_at < utcnow():
        return None
    remember(draft, code)
    return draft


def save(draft: ApplicationDraft, section: str, values, step: str | None = None) -> None:
    data = dict(draft.data or {})
    data[section] = values
    draft.data = data
    fields = {"data": data, "updated_at": utcnow(), "expires_at": expiry()}
    if step:
        fields["step"] = step
        draft.step = step
    with database.atomic():
        ApplicationDraft.update(**fields).where(
            (ApplicationDraft.id == draft.id) & ApplicationDraft.submitted_at.is_null()).execute()


def purge_expired() -> int:
    with database.atomic():
        return ApplicationDraft.delete().where(
            (ApplicationDraft.expires_at < utcnow()) & ApplicationDraft.submitted_at.is_null()).execute()
