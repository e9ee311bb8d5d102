"""Apply online: a multi-step form (each step a plain page, an htmx swap when JavaScript runs),
saved after every step, resumable with a code, submitted once."""
from __future__ import annotations

import time

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import labels
from portal.dates import parse_date
from portal.limiter import limiter
from portal.models import CATEGORIES, Beneficiary, Case
from portal.templating import render
from portal.text import clean_text
from portal.uploads import UploadError, store_upload
from portal.validators import ValidationError, clean_mobile, clean_national_id
from portal.workflow.errors import WorkflowError

from . import antiabuse, drafts, tracking, workflow_bridge
from .models import PendingApplication
from .common import (
    _limit, acknowledgement_pdf_available, acknowledgement_pdf_response, bp, first_error, lang, stamp_context,
)

STEPS = ("applicant", "household", "request", "documents", "declaration", "review")
STEP_LABELS = {
    "applicant": _l("Your details"), "household": _l("Household"), "request": _l("Request"),
    "documents": _l("Documents"), "declaration": _l("Declaration"), "review": _l("Review and send"),
}
RELATIONS = ("spouse", "son", "daughter", "father", "mother", "brother", "sister", "other")
HOUSING = {"owned": _l("Owned"), "rented": _l("Rented"), "family": _l("With relatives"), "other": _l("Other")}
NAME_FIELDS = ("first_name", "father_name", "grandfather_name", "family_name")
MAX_MEMBERS = 20


# ---------------------------------------------------------------- validation per step

def validate_applicant(form: dict) -> tuple[dict, dict]:
    values, errors = {}, {}
    for key in NAME_FIELDS + ("city", "district"):
        values[key] = clean_text(form.get(key))
        limit = 60 if key in NAME_FIELDS else 80
        if len(values[key]) > limit:
            errors[key] = _("Too long: at most %(n)s characters.", n=limit)
    for key in ("first_name", "father_name", "family_name", "city"):
        if not values[key] and key not in errors:
            errors[key] = _("This field is required.")
    try:
        values["national_id"] = clean_national_id(form.get("national_id"))
    except ValidationError as exc:
        values["national_id"] = clean_text(form.get("national_id"))[:14]
        errors["national_id"] = str(exc.message)
    try:
        values["mobile"] = clean_mobile(form.get("mobile"))
    except ValidationError as exc:
        values["mobile"] = clean_text(form.get("mobile"))[:20]
        errors["mobile"] = str(exc.message)
    values["gender"] = form.get("gender", "")
    if values["gender"] not in ("m", "f"):
        errors["gender"] = _("Choose male or female.")
    values["birth_date"] = clean_text(form.get("birth_date"))[:20]
    try:
        born = parse_date(values["birth_date"])
    except ValidationError as exc:
        errors["birth_date"] = str(exc.message)
    else:
        import datetime as dt

        if born is None:
            errors["birth_date"] = _("This field is required.")
        elif born > dt.date.today():
            errors["birth_date"] = _("The birth date cannot be in the future.")
        elif born.year < 1900:
            errors["birth_date"] = _("The birth date is too far in the past.")
    return values, errors


def members_from(form: dict) -> list[dict]:
    members = []
    for i in range(MAX_MEMBERS):
        row = {k: clean_text(form.get(f"m{i}_{k}"))[:200] for k in ("name", "relation", "birth_date")}
        row["has_income"] = bool(form.get(f"m{i}_has_income"))
        if f"m{i}_name" in form:
            members.append(row)
    return members


def validate_household(form: dict) -> tuple[dict, dict]:
    values, errors = {}, {}
    members = [m for m in members_from(form) if m["name"] or m["relation"] or m["birth_date"]]
    for i, m in enumerate(members):
        if not m["name"]:
            errors[f"m{i}_name"] = _("Enter the name or clear the row.")
        elif len(m["name"]) > 200:
            errors[f"m{i}_name"] = _("Too long: at most %(n)s characters.", n=200)
        if m["relation"] not in RELATIONS:
            errors[f"m{i}_relation"] = _("Choose the relation.")
        if m["birth_date"]:
            try:
                parse_date(m["birth_date"])
            except ValidationError as exc:
                errors[f"m{i}_birth_date"] = str(exc.message)
    values["members"] = members
    values["category"] = form.get("category", "")
    if values["category"] not in CATEGORIES:
        errors["category"] = _("Choose the situation that describes you best.")
    values["housing"] = form.get("housing", "")
    if values["housing"] not in HOUSING:
        errors["housing"] = _("Choose your housing.")
    income = clean_text(form.get("monthly_income"))
    values["monthly_income"] = income[:12]
    from portal.text import fold_digits

    digits = fold_digits(income).replace(",", "").replace("٬", "")
    if income and not digits.replace(".", "", 1).isdigit():
        errors["monthly_income"] = _("Enter the amount in riyals, digits only.")
    elif digits and float(digits) > 1_000_000:
        errors["monthly_income"] = _("Please check the amount.")
    return values, errors


def validate_request(form: dict) -> tuple[dict, dict]:
    values, errors = {}, {}
    types = {t.code: t for t in workflow_bridge.public_request_types()}
    values["request_type"] = form.get("request_type", "")
    if values["request_type"] not in types:
        errors["request_type"] = _("Choose the type of request.")
    values["summary"] = clean_text(form.get("summary"))
    if not values["summary"]:
        errors["summary"] = _("Tell us briefly what you need.")
    elif len(values["summary"]) > 2000:
        errors["summary"] = _("Too long: at most %(n)s characters.", n=2000)
    answers = {}
    if values["request_type"] in types:
        rtype = types[values["request_type"]]
        raw = {str(q.id): form.get(f"answer_{q.id}", "") for q in workflow_bridge.questions(rtype)}
        answers, answer_errors = workflow_bridge.validate_answers(rtype, raw)
        if answer_errors:
            answers = {k: clean_text(v)[:500] for k, v in raw.items()}
            errors.update(answer_errors)
    values["answers"] = answers
    return values, errors


# ---------------------------------------------------------------- screens

def _context(draft, step, form=None, errors=None, **extra):
    data = draft.data if draft else {}
    ctx = {
        "steps": STEPS, "step": step, "step_labels": STEP_LABELS, "index": STEPS.index(step),
        "data": data, "form": form if form is not None else dict(data.get(step) or {}),
        "errors": errors or {}, "code": drafts.current_code() if draft else "", "draft": draft,
        "relations": RELATIONS, "housing": HOUSING, "categories": labels.CATEGORY,
        "max_mb": current_app.config["MAX_UPLOAD_MB"], "request_types": workflow_bridge.public_request_types(),
        "lang": lang(), "kind_labels": labels.DOCUMENT_KIND,
    }
    if step == "household":
        members = ctx["form"].get("members") or []
        ctx["members"] = members + [{}] if not members else members
    if step in ("request", "documents", "declaration", "review"):
        req = ctx["form"] if step == "request" else (data.get("request") or {})
        rtype = workflow_bridge.request_type(req.get("request_type"))
        ctx["rtype"] = rtype
        ctx["questions"] = workflow_bridge.questions(rtype) if rtype else []
        ctx["checklist"] = workflow_bridge.checklist(rtype) if rtype else []
    if step in ("declaration", "review"):
        ctx["declaration"] = workflow_bridge.current_declaration()
    ctx.update(stamp_context())
    ctx.update(extra)
    return ctx


def _show(draft, step, status=200, **kw):
    ctx = _context(draft, step, **kw)
    ctx["first"] = first_error(ctx["errors"], [])
    return render("website/apply/step.html", block="wizard", **ctx), status


@bp.get("/site/apply")
def apply_start():
    draft = drafts.current()
    if draft is not None and draft.submitted_at is not None:
        draft = None
    return render("website/apply/start.html", draft=draft, code=drafts.current_code() if draft else "",
                  available=bool(workflow_bridge.public_request_types()), step_labels=STEP_LABELS, steps=STEPS,
                  **stamp_context())


@bp.route("/site/apply/resume", methods=["GET", "POST"])
@limiter.limit(_limit("WEBSITE_TRACK_LIMIT"), methods=["POST"])
def apply_resume():
    form = request.form.to_dict() if request.method == "POST" else {}
    errors = {}
    if request.method == "POST":
        try:
            national_id = clean_national_id(form.get("national_id"))
        except ValidationError as exc:
            errors["national_id"] = str(exc.message)
            national_id = ""
        if not drafts.normalize_code(form.get("code")):
            errors["code"] = _("Enter your resume code.")
        if not errors:
            draft = drafts.resume(form.get("code"), national_id)
            if draft is None:
                errors["code"] = _("No saved application matches this code and ID number, or it has expired.")
            else:
                flash(_("Welcome back: your application was restored."), "success")
                return redirect(url_for("website.apply_step", step=draft.step if draft.step in STEPS else "applicant"))
    return render("website/apply/resume.html", form=form, errors=errors,
                  first=first_error(errors, ("national_id", "code"))), (422 if errors else 200)


@bp.route("/site/apply/<step>", methods=["GET", "POST"])
@limiter.limit(_limit("WEBSITE_FORM_LIMIT"), methods=["POST"])
def apply_step(step):
    if step not in STEPS:
        abort(404)
    draft = drafts.current()
    if draft is not None and draft.submitted_at is not None:
        return redirect(url_for("website.apply_done"))
    if draft is None and step != "applicant":
        flash(_("Start with your details, or resume with your code."), "info")
        return redirect(url_for("website.apply_start"))
    if not workflow_bridge.public_request_types():
        return redirect(url_for("website.apply_start"))
    if request.method == "GET":
        return _show(draft, step)
    form = request.form.to_dict()
    action = form.get("action", "next")
    if action == "save":  # htmx autosave while typing: keep what is there, validate later
        if draft is not None and step in SAVERS:
            drafts.save(draft, step, SAVERS[step](form)[0])
        return "", 204
    handler = HANDLERS[step]
    return handler(draft, form, action)


def _next(step):
    return STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]


def _prev(step):
    return STEPS[max(STEPS.index(step) - 1, 0)]


def _go(step):
    return redirect(url_for("website.apply_step", step=step))


def handle_applicant(draft, form, action):
    problem = antiabuse.check(form) if draft is None else None
    values, errors = validate_applicant(form)
    if problem or errors:
        return _show(draft, "applicant", 422, form=form, errors=errors, problem=problem)
    if draft is None:
        draft, _code = drafts.create(values["national_id"], {"applicant": values})
        drafts.save(draft, "applicant", values, step="household")
    else:
        from portal.db import database
        from .models import ApplicationDraft

        with database.atomic():
            ApplicationDraft.update(national_id=values["national_id"]).where(ApplicationDraft.id == draft.id).execute()
        drafts.save(draft, "applicant", values, step=max(draft.step, "household", key=STEPS.index))
    return _go("household")


def handle_household(draft, form, action):
    if action == "add_member":
        members = members_from(form)
        if len(members) < MAX_MEMBERS:
            members.append({})
        data = dict(form)
        return _show(draft, "household", form={**data, "members": members})
    if action.startswith("remove_"):
        members = members_from(form)
        try:
            del members[int(action.split("_", 1)[1])]
        except (ValueError, IndexError):
            pass
        return _show(draft, "household", form={**form, "members": members})
    values, errors = validate_household(form)
    if action == "back":
        drafts.save(draft, "household", values)
        return _go("applicant")
    if errors:
        return _show(draft, "household", 422, form={**form, "members": members_from(form)}, errors=errors)
    drafts.save(draft, "household", values, step=max(draft.step, "request", key=STEPS.index))
    return _go("request")


def handle_request(draft, form, action):
    values, errors = validate_request(form)
    if action == "back":
        drafts.save(draft, "request", values)
        return _go("household")
    if action == "choose":  # the type changed: show its questions (no JavaScript needed)
        return _show(draft, "request", form=values)
    if errors:
        return _show(draft, "request", 422, form=values, errors=errors)
    old = (draft.data or {}).get("request") or {}
    drafts.save(draft, "request", values, step=max(draft.step, "documents", key=STEPS.index))
    if old.get("request_type") and old.get("request_type") != values["request_type"]:
        rtype = workflow_bridge.request_type(values["request_type"])
        kinds = {r.kind for r in workflow_bridge.checklist(rtype)}
        docs = {k: v for k, v in ((draft.data or {}).get("documents") or {}).items() if k in kinds}
        drafts.save(draft, "documents", docs)
    return _go("documents")


def handle_documents(draft, form, action):
    rtype = workflow_bridge.request_type(((draft.data or {}).get("request") or {}).get("request_type"))
    if rtype is None:
        return _go("request")
    docs = dict((draft.data or {}).get("documents") or {})
    errors = {}
    for item in workflow_bridge.checklist(rtype):
        key = f"doc_{item.kind}"
        upload = request.files.get(key)
        expiry_raw = clean_text(form.get(f"exp_{item.kind}"))[:20]
        expiry = None
        if expiry_raw:
            try:
                expiry = parse_date(expiry_raw)
            except ValidationError as exc:
                errors[f"exp_{item.kind}"] = str(exc.message)
        if upload and upload.filename:
            if f"exp_{item.kind}" in errors:
                continue
            try:
                stored = store_upload(upload)
            except UploadError as exc:
                errors[key] = str(exc.message)
                continue
            docs[item.kind] = {"sha256": stored.sha256, "file_name": stored.file_name,
                               "content_type": stored.content_type, "size": stored.size,
                               "expiry": expiry.isoformat() if expiry else ""}
        elif item.kind in docs and f"exp_{item.kind}" not in errors and f"exp_{item.kind}" in form:
            docs[item.kind] = {**docs[item.kind], "expiry": expiry.isoformat() if expiry else ""}
    drafts.save(draft, "documents", docs)
    if action == "back":
        return _go("request")
    if errors:
        return _show(draft, "documents", 422, form=form, errors=errors)
    drafts.save(draft, "documents", docs, step=max(draft.step, "declaration", key=STEPS.index))
    return _go("declaration")


def handle_declaration(draft, form, action):
    declaration = workflow_bridge.current_declaration()
    values = {"accepted": bool(form.get("accepted")), "consent": bool(form.get("consent")),
              "contact": bool(form.get("contact")), "version": declaration.version if declaration else None}
    if action == "back":
        drafts.save(draft, "declaration", values)
        return _go("documents")
    errors = {}
    if declaration is None:
        errors["accepted"] = _("The declaration text is not available; please try again later.")
    elif not values["accepted"]:
        errors["accepted"] = _("Please confirm the declaration to continue.")
    if not values["consent"]:
        errors["consent"] = _("Please agree to the processing of your data to continue.")
    if errors:
        return _show(draft, "declaration", 422, form=form, errors=errors)
    drafts.save(draft, "declaration", values, step="review")
    return _go("review")


def handle_review(draft, form, action):
    if action == "back":
        return _go("declaration")
    return submit(draft)


SAVERS = {"applicant": validate_applicant, "household": validate_household, "request": validate_request}
HANDLERS = {
    "applicant": handle_applicant, "household": handle_household, "request": handle_request,
    "documents": handle_documents, "declaration": handle_declaration, "review": handle_review,
}


def incomplete_steps(draft) -> list[str]:
    """Steps whose saved data no longer validates (e.g. a draft resumed after a change)."""
    data = draft.data or {}
    bad = []
    if validate_applicant(data.get("applicant") or {})[1]:
        bad.append("applicant")
    hh = dict(data.get("household") or {})
    hh_form = {k: v for k, v in hh.items() if k != "members"}
    for i, m in enumerate(hh.get("members") or []):
        hh_form.update({f"m{i}_{k}": v for k, v in m.items() if v})
        hh_form[f"m{i}_name"] = m.get("name", "")
    if validate_household(hh_form)[1]:
        bad.append("household")
    req = dict(data.get("request") or {})
    req_form = {"request_type": req.get("request_type", ""), "summary": req.get("summary", "")}
    req_form.update({f"answer_{k}": v for k, v in (req.get("answers") or {}).items()})
    if validate_request(req_form)[1]:
        bad.append("request")
    decl = data.get("declaration") or {}
    current = workflow_bridge.current_declaration()
    if not (decl.get("accepted") and decl.get("consent")) or current is None or decl.get("version") != current.version:
        bad.append("declaration")
    return bad


def submit(draft):
    bad = incomplete_steps(draft)
    if bad:
        flash(_("Some answers need checking before you send."), "info")
        return _go(bad[0])
    try:
        result = workflow_bridge.submit_application(draft)
    except WorkflowError as exc:
        return _show(draft, "review", 422, errors={k: str(v) for k, v in exc.fields.items()} or
                     {"__all__": str(exc.message)})
    if result.busy or (result.case is None and result.pending is None):
        return _show(draft, "review", 409, errors={"__all__": _(
            "Another application with this ID number was being recorded at the same moment, so yours could "
            "not be recorded. Please send it again in a minute.")})
    session.pop("website_done", None)
    session.pop("website_pending", None)
    session.pop("website_track", None)
    if result.pending is not None:
        session["website_pending"] = {"id": result.pending.id, "sent": result.message_sent}
    else:
        session["website_done"] = result.case.id
        session["website_track"] = {"case": result.case.id, "inquiry": None, "at": time.time()}
    drafts.forget()
    return redirect(url_for("website.apply_done"))


def _pending():
    """The application this browser has just sent that waits for an officer (what was typed only)."""
    info = session.get("website_pending")
    if not info:
        return None, False
    return PendingApplication.get_or_none(PendingApplication.id == info.get("id")), bool(info.get("sent"))


def _applied_case():
    """The request this browser has just sent (kept in its session), with its beneficiary."""
    case_id = session.get("website_done")
    if not case_id:
        return None
    return Case.select(Case, Beneficiary).join(Beneficiary).where(Case.id == case_id).first()


@bp.get("/site/apply/done")
def apply_done():
    pending, sent = _pending()
    if pending is not None:
        return render("website/apply/done_pending.html", pending=pending, sent=sent,
                      ack=pending_acknowledgement_context(pending))
    case = _applied_case()
    if case is None:
        return redirect(url_for("website.apply_start"))
    return render("website/apply/done.html", case=case, ack=acknowledgement_context(case),
                  reference_notice=_reference_notice(case))


def _reference_notice(case) -> str:
    """What became of the message with the reference: ``"sent"`` (a transport accepted it), ``"queued"``
    (handed to a channel that sends it shortly) or ``"not_sent"``. The page never says "we sent" otherwise."""
    from portal.models import TimelineEntry

    for entry in (TimelineEntry.select(TimelineEntry.data)
                  .where((TimelineEntry.case == case.id) & (TimelineEntry.direction == "out"))
                  .order_by(TimelineEntry.id.desc()).limit(20)):
        data = entry.data or {}
        # the status change's notice: the reference (received) or the reference with the missing documents
        if data.get("kind") == "notification" and data.get("purpose") in ("case_reference", "missing_documents"):
            return "sent" if data.get("sent") else ("queued" if data.get("queued") else "not_sent")
    return "not_sent"


@bp.get("/site/apply/acknowledgement")
def acknowledgement():
    pending, _sent = _pending()
    if pending is not None:
        return render("website/apply/acknowledgement_pending.html", pending=pending,
                      ack=pending_acknowledgement_context(pending))
    case = _applied_case()
    if case is None:
        return redirect(url_for("website.apply_start"))
    return render("website/apply/acknowledgement.html", case=case, ack=acknowledgement_context(case))


@bp.get("/site/apply/acknowledgement.pdf")
def acknowledgement_pdf():
    pending, _sent = _pending()
    if pending is not None:  # no letter before an officer confirms: it would carry the file's name
        return redirect(url_for("website.acknowledgement"))
    case = _applied_case()
    if case is None:
        return redirect(url_for("website.apply_start"))
    return acknowledgement_pdf_response(case, "website.acknowledgement")


def pending_acknowledgement_context(pending):
    """Only what the applicant typed: their name, the last digits of the ID they typed, the type."""
    data = pending.data or {}
    typed = data.get("applicant") or {}
    req = data.get("request") or {}
    return {
        "name": " ".join(typed.get(k, "") for k in NAME_FIELDS if typed.get(k)),
        "masked_id": "******" + (typed.get("national_id") or "")[-4:],
        "type_name": workflow_bridge.request_type_name(req.get("request_type", ""), lang()),
        "received": pending.created_at,
    }


def acknowledgement_context(case):
    return {
        "pdf": acknowledgement_pdf_available(),
        "expected": tracking.expected_reply_date(case),
        "plain_status": tracking.PUBLIC_STATUS.get(case.status, ""),
        "missing": workflow_bridge.missing_documents(case),
        "type_name": workflow_bridge.request_type_name(case.request_type, lang()),
    }
