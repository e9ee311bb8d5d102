"""The one complaints and suggestions register: every channel opens its complaints, suggestions, praise and
inquiries through ``open_complaint`` (staff recording a phone call, a visit, a letter or a WhatsApp message;
the website's form; a low survey score).

- ``models``  Complaint, FeedbackTheme, Improvement ("You said, we did")
- ``service`` handling: link to a file or request, assign, answer (``send_message``), close, escalate
- ``hooks``   the register's settings, menu entry, dashboard count, daily escalation (a core plugin)
- ``views``   the register's screens; ``api`` ``GET /api/v1/complaints``
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from ..audit import audit
from ..dates import add_working_days, hijri_year, saudi_today
from ..db import database, utcnow
from ..labels import label
from ..plugins import channel_map
from ..sequences import next_value
from ..text import clean_text
from .models import KINDS, STATES, TEXT_LIMIT, Complaint, FeedbackTheme, Improvement  # noqa: F401

KIND_LABEL = {"complaint": _l("Complaint"), "suggestion": _l("Suggestion"), "praise": _l("Praise"),
              "inquiry": _l("Inquiry")}
STATE_LABEL = {"open": _l("Waiting for an answer"), "answered": _l("Answered"), "closed": _l("Closed")}
DEFAULT_DAYS = {"complaint": 5, "suggestion": 10, "praise": 10, "inquiry": 3}


class ComplaintError(ValueError):
    """Bad input to the register: ``message`` in the user's language, ``field`` the form field it concerns."""

    def __init__(self, message, field: str = ""):
        super().__init__(str(message))
        self.message, self.field = message, field


def response_days(kind: str) -> int:
    """Working days allowed to answer a ``kind`` (setting ``COMPLAINT_RESPONSE_DAYS``)."""
    days = current_app.config["COMPLAINT_RESPONSE_DAYS"]
    return int(days.get(kind, DEFAULT_DAYS[kind]))


def deadline_for(kind: str, day=None):
    """The Saudi day by which a ``kind`` received on ``day`` (today by default) must be answered."""
    return add_working_days(day or saudi_today(), response_days(kind))


def _check(kind: str, channel: str, text: str) -> str:
    if kind not in KINDS:
        raise ComplaintError(_l("Choose complaint, suggestion, praise or inquiry."), "kind")
    if channel not in channel_map():
        raise ComplaintError(_l("Choose the channel it came by."), "channel")
    text = clean_text(text)
    if not text:
        raise ComplaintError(_l("Write what the person said."), "text")
    if len(text) > TEXT_LIMIT:
        raise ComplaintError(_l("Keep it under %(n)s characters.", n=TEXT_LIMIT), "text")
    return text


def open_complaint(*, kind, channel, text, beneficiary=None, case=None, contact_name="", contact_mobile="",
                   contact_requested=False, source="", source_id=None, user=None, timeline_text=None) -> Complaint:
    """Open one complaint, suggestion, praise or inquiry in the register, in one transaction: its reference,
    its deadline (working days by kind, Friday and Saturday off), an entry on the timeline, for a complaint a
    follow-up task in the outreach queue, the audit. Idempotent on (``source``, ``source_id``): the same
    submission sent twice returns the row opened the first time. Raises ``ComplaintError`` on bad input.

    ``timeline_text``: what the timeline entry says instead of ``text`` when the text is for the register's
    handlers only (a survey's score and comment: every staff member who opens the file reads the timeline)."""
    text = _check(kind, channel, text)
    source = clean_text(source)[:40]
    source_id = None if source_id in (None, "") else str(source_id)[:64]
    if source_id is not None:
        earlier = Complaint.get_or_none((Complaint.source == source) & (Complaint.source_id == source_id))
        if earlier is not None:
            return earlier
    if case is not None and beneficiary is None:
        beneficiary = case.beneficiary
    try:
        with database.atomic():
            return _create(kind, channel, text, beneficiary, case, clean_text(contact_name)[:160],
                           clean_text(contact_mobile)[:20], bool(contact_requested), source, source_id, user,
                           text if timeline_text is None else timeline_text)
    except IntegrityError:  # the same submission at the same moment: the other transaction opened it
        if source_id is None:
            raise
        return Complaint.get((Complaint.source == source) & (Complaint.source_id == source_id))


def _create(kind, channel, text, beneficiary, case, contact_name, contact_mobile, contact_requested, source,
            source_id, user, timeline_text) -> Complaint:
    from ..timeline import log_entry
    from ..workflow.outreach import create_task

    year = hijri_year()
    reference = f"C{year}-{next_value(f'complaint_{year}'):06d}"
    now = utcnow()
    complaint = Complaint.create(
        reference=reference, kind=kind, channel=channel, text=text, state="open", beneficiary=beneficiary,
        case=case, contact_name=contact_name, contact_mobile=contact_mobile, contact_requested=contact_requested,
        source=source, source_id=source_id, deadline=deadline_for(kind), created_by=user, created_at=now,
        updated_at=now,
    )
    with force_locale("ar"):
        summary = f"{label(KIND_LABEL, kind)} {reference}"
    entry = log_entry(channel=channel, direction="in", beneficiary=beneficiary, case=case, actor=user,
                      summary=summary, body=timeline_text,
                      data={"kind": "complaint", "complaint": complaint.id, "complaint_kind": kind,
                            "reference": reference})
    complaint.entry = entry
    if kind == "complaint":
        with force_locale("ar"):
            reason = str(_l("Follow up complaint %(ref)s", ref=reference))
        task = create_task(beneficiary=beneficiary, case=case, kind="complaint", reason=reason,
                           due=complaint.deadline, source={"complaint": complaint.id},
                           key=f"complaint:{complaint.id}")
        complaint.task_id = task.id if task else None
    complaint.save()
    audit("create", "complaint", complaint.id, {"kind": kind, "channel": channel, "source": source}, actor=user)
    return complaint
