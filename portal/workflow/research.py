"""Step 3: referral to social research, the researcher's report, and sending the request on to the
research committee (which starts the committee's 14-day clock)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..dates import parse_date, saudi_date, saudi_today
from ..db import database, utcnow
from ..models import Case, User
from ..text import clean_text, fold_digits
from ..validators import ValidationError, clean_texts
from . import machine
from .errors import TransitionNotAllowed, WorkflowError
from .intake import latest_declaration
from .models import ResearchAttachment, ResearchReport

RECOMMENDATIONS = ("approve", "reject")


def refer(case: Case, *, researcher: User, reason: str, actor: User | None = None,
          expected_version: int | None = None):
    """Refer a submitted request to social research, assigned to ``researcher`` (a user with the
    researcher role), with a ``reason``. Returns the transition Outcome."""
    reason = clean_text(reason)
    errors = {}
    if researcher is None or not researcher.is_active or not researcher.has_role("researcher"):
        errors["researcher"] = _l("Choose a social researcher.")
    if not reason:
        errors["reason"] = _l("Give the reason for the referral.")
    elif len(reason) > 2000:
        errors["reason"] = _l("Too long: at most %(n)s characters.", n=2000)
    if errors:
        raise WorkflowError(_l("The request was not referred. Check the fields marked below."), errors)
    now = utcnow()
    return machine.transition(case, "refer", actor=actor, expected_version=expected_version, note=reason,
                              fields={"assigned_researcher": researcher.id, "referral_reason": reason,
                                      "referred_at": now},
                              data={"researcher": researcher.id}, now=now)


def validate_report(data: dict) -> tuple[dict, dict]:
    """Clean a research report form; returns (values, errors)."""
    values, errors = {}, {}
    try:
        visit = parse_date(data.get("visit_date"))
    except ValidationError as exc:
        visit, errors["visit_date"] = None, exc.message
    if visit is None and "visit_date" not in errors:
        errors["visit_date"] = _l("This field is required.")
    elif visit is not None and visit > saudi_today():
        errors["visit_date"] = _l("The visit date cannot be in the future.")
    values["visit_date"] = visit
    values.update(clean_texts(data, (("household_situation", 5000, True), ("housing", 2000, False),
                                     ("needs", 5000, True), ("recommendation_notes", 5000, False)), errors))
    income = clean_text(fold_digits(str(data.get("monthly_income") or ""))).replace(",", "")
    values["monthly_income"] = None
    if income:
        try:
            values["monthly_income"] = Decimal(income)
            if values["monthly_income"] < 0 or values["monthly_income"] > Decimal("10000000"):
                raise InvalidOperation
        except InvalidOperation:
            errors["monthly_income"] = _l("Enter an amount in riyals.")
    if data.get("recommendation") not in RECOMMENDATIONS:
        errors["recommendation"] = _l("Choose a recommendation.")
    values["recommendation"] = data.get("recommendation")
    return values, errors


def record_report(case: Case, *, actor: User, data: dict, files=()) -> ResearchReport:
    """Record the research report for a case in research. Only the assigned researcher (or an admin)
    may. ``files``: werkzeug FileStorage uploads (PDF or photos) kept as attachments."""
    from ..timeline import log_entry
    from ..uploads import UploadError, store_upload

    if case.status != "in_research":
        raise TransitionNotAllowed(_l("A research report can only be recorded while the request is in research."))
    if not (actor.has_role("admin") or (actor.has_role("researcher") and case.assigned_researcher_id == actor.id)):
        raise WorkflowError(_l("Only the researcher assigned to this request can record its report."))
    values, errors = validate_report(data)
    stored = []
    if not errors:
        for upload in files:
            if upload and upload.filename:
                try:
                    stored.append(store_upload(upload))
                except UploadError as exc:
                    errors["files"] = exc.message
                    break
    if errors:
        raise WorkflowError(_l("The report was not saved. Check the fields marked below."), errors)
    with database.atomic():
        report = ResearchReport.create(case=case, researcher=actor, **values)
        for f in stored:
            ResearchAttachment.create(report=report, sha256=f.sha256, file_name=f.file_name,
                                      content_type=f.content_type, size=f.size)
        with force_locale("ar"):
            summary = _("Research report recorded for request %(ref)s", ref=case.reference)
        log_entry(channel="system", summary=summary, body=values["needs"], beneficiary=case.beneficiary, case=case,
                  direction="internal", actor=actor,
                  data={"kind": "research_report", "report": report.id, "recommendation": values["recommendation"]})
        audit("create", "research_report", report.id, {"case": case.reference}, actor=actor)
    return report


def committee_due(start: dt.datetime) -> dt.datetime:
    """The committee's deadline: ``COMMITTEE_DAYS`` (14) calendar days after the request awaits it."""
    return start + dt.timedelta(days=int(current_app.config["COMMITTEE_DAYS"]))


def expected_reply_date(case: Case) -> dt.date | None:
    """The Saudi day the applicant was promised a reply: the committee's due date once the request awaits
    it, before that the day it was received (submitted, else created) plus the committee's days."""
    due = case.committee_due_at
    if due is None:
        received = case.submitted_at or case.created_at
        if received is None:
            return None
        due = committee_due(received)
    return saudi_date(due)


def send_to_committee(case: Case, *, actor: User | None = None, expected_version: int | None = None,
                      now: dt.datetime | None = None):
    """Raise the request to the research committee. Needs a research report and the applicant's
    declaration. Sets the 14-day due date and tells the beneficiary the expected reply date (Hijri and
    Gregorian) through the status change's notice (``portal.workflow.notices``)."""
    if case.status == "in_research":
        problems = []
        if not case.research_reports.exists():
            problems.append(_l("the research report"))
        if latest_declaration(case) is None:
            problems.append(_l("the applicant's declaration"))
        if problems:
            raise WorkflowError(_l("The request cannot go to the committee without %(what)s.",
                                   what=" / ".join(str(p) for p in problems)))
    now = now or utcnow()
    due = committee_due(now)
    with database.atomic():
        outcome = machine.transition(case, "send_to_committee", actor=actor, expected_version=expected_version,
                                     fields={"awaiting_committee_at": now, "committee_due_at": due,
                                             "escalated_at": None},
                                     data={"due": due.isoformat()}, now=now)
    return outcome
