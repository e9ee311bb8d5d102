"""The one-time link to the apply form that the self-service menu sends (``self_service_link``, purpose
``"apply"``): a new application draft pre-filled from the beneficiary's file, and a signed token naming the
draft and its resume code. Opening the link shows a page with one button; pressing it (a CSRF-protected POST,
so that a link preview fetching the page uses nothing) gives the draft a new resume code and opens it in this
browser: the link works once, and only until it expires."""
from __future__ import annotations

import datetime as dt

from flask import current_app, flash, has_request_context, redirect, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.audit import audit
from portal.db import database, utcnow
from portal.models import CATEGORIES
from portal.templating import render

from . import drafts, workflow_bridge
from .common import bp
from .models import ApplicationDraft

SALT = "website-self-service-apply"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _hours() -> int:
    return int(current_app.config["WEBSITE_APPLY_LINK_HOURS"])


def _absolute(path: str) -> str:
    """The link's full address: from the request being served (a webhook), else ``PORTAL_WEBSITE_PUBLIC_URL``."""
    if has_request_context():
        return request.host_url.rstrip("/") + path
    base = (current_app.config.get("WEBSITE_PUBLIC_URL") or "").rstrip("/")
    return base + path if base else ""


def available() -> bool:
    """A link can be made: the site takes applications and has an address to give."""
    if not workflow_bridge.public_request_types():
        return False
    return has_request_context() or bool(current_app.config.get("WEBSITE_PUBLIC_URL"))


def prefilled(beneficiary) -> dict:
    """The apply form's sections as the file knows them (the applicant checks them on the first step)."""
    from .apply import validate_applicant

    form = {key: getattr(beneficiary, key, "") or "" for key in
            ("first_name", "father_name", "grandfather_name", "family_name", "national_id", "mobile", "gender",
             "city", "district")}
    born = getattr(beneficiary, "birth_date", None)
    form["birth_date"] = born.isoformat() if born else ""
    values, _errors = validate_applicant(form)  # what is wrong in the file is shown on the first step
    data = {"applicant": values, "prefilled_from": beneficiary.id}
    if getattr(beneficiary, "category", "") in CATEGORIES:
        data["household"] = {"category": beneficiary.category, "members": []}
    return data


def issue_link(beneficiary) -> dict | None:
    if not available() or beneficiary.erased_at or not beneficiary.national_id:
        return None
    code = drafts.new_code()
    with database.atomic():
        draft = ApplicationDraft.create(code_hash=drafts.code_hash(code), data=prefilled(beneficiary),
                                        national_id=beneficiary.national_id, expires_at=drafts.expiry())
        audit("create", "website_apply_link", draft.id, {"beneficiary": beneficiary.id})
    token = _serializer().dumps({"d": draft.id, "c": code})
    if has_request_context():
        path = url_for("website.apply_link", token=token)
    else:  # a background job: no request to build the address from
        path = current_app.url_map.bind("localhost").build("website.apply_link", {"token": token})
    url = _absolute(path)
    if not url:
        return None
    return {"url": url, "expires_at": utcnow() + dt.timedelta(hours=_hours())}


def _draft_of(token: str):
    """The draft a token names while the token is valid and unused, else None."""
    try:
        payload = _serializer().loads(token, max_age=_hours() * 3600)
    except (SignatureExpired, BadSignature):
        return None, ""
    if not isinstance(payload, dict) or not isinstance(payload.get("d"), int) or not isinstance(payload.get("c"), str):
        return None, ""
    draft = ApplicationDraft.get_or_none(ApplicationDraft.id == payload["d"])
    if (draft is None or draft.code_hash != drafts.code_hash(payload["c"]) or draft.submitted_at is not None
            or draft.expires_at < utcnow()):
        return None, ""
    return draft, payload["c"]


def _refused():
    return render("website/apply/link.html", valid=False), 410


@bp.route("/site/apply/link/<token>", methods=["GET", "POST"])
def apply_link(token):
    draft, code = _draft_of(token[:500])
    if draft is None:
        return _refused()
    if request.method == "GET":
        return render("website/apply/link.html", valid=True, token=token)
    new_code = drafts.new_code()
    with database.atomic():
        taken = ApplicationDraft.update(code_hash=drafts.code_hash(new_code), updated_at=utcnow()).where(
            (ApplicationDraft.id == draft.id) & (ApplicationDraft.code_hash == drafts.code_hash(code))).execute()
        if taken != 1:  # opened twice at the same moment: the first one has it
            return _refused()
        audit("use", "website_apply_link", draft.id, {})
    drafts.remember(draft, new_code)
    flash(_("Your details from your file are filled in: check them and continue."), "success")
    return redirect(url_for("website.apply_step", step="applicant"))
