"""Proactive outreach ("reach beneficiaries without them having to ask"): a queue of tasks for
officers, filled by the daily job and by any plugin through the core service ``create_task``."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from hijridate import Hijri
from peewee import JOIN

from ..audit import audit
from ..dates import format_hijri, saudi_today, to_hijri
from ..db import database, utcnow
from ..labels import DOCUMENT_KIND
from ..models import Beneficiary, Case, Document, TimelineEntry, User
from ..text import clean_text
from . import machine
from .errors import WorkflowError
from .models import OutreachTask, RequestType

KINDS = ("document_expiring", "id_expiring", "follow_up", "unserved", "seasonal", "call_back", "other", "complaint")
EXPIRY_WINDOW_DAYS = 30
ACTIVE_BENEFICIARY = ("active", "applicant")


def create_task(*, beneficiary, kind: str, reason: str, due: dt.date, source: dict | None = None, case=None,
                key: str | None = None) -> OutreachTask | None:
    """Add a task to the queue unless a task with the same ``key`` exists; returns the new task or None.

    ``key`` identifies the task across runs (e.g. ``document_expiring:doc:42:2026-12-01``), so the
    daily job can run any number of times. Without a key one is built from kind, beneficiary, due
    date and source."""
    reason = clean_text(reason)[:300] or kind
    if key is None:
        parts = [kind, str(getattr(beneficiary, "id", beneficiary) or "-"), due.isoformat()]
        parts += [f"{k}={v}" for k, v in sorted((source or {}).items())]
        key = ":".join(parts)[:200]
    with database.atomic():
        query = (OutreachTask.insert(beneficiary=getattr(beneficiary, "id", beneficiary), case=case, kind=kind,
                                     reason=reason, due=due, source=source, key=key[:200], status="open",
                                     created_at=utcnow())
                 .on_conflict_ignore())
        if database.execute(query).rowcount != 1:  # the key exists: this task was created before
            return None
        task = OutreachTask.get(OutreachTask.key == key[:200])
        audit("create", "outreach_task", task.id, {"kind": kind}, actor=None)
    return task


# --- the daily selection -------------------------------------------------------------------------

def _expiring_documents(today: dt.date, counts: dict) -> None:
    until = today + dt.timedelta(days=EXPIRY_WINDOW_DAYS)
    docs = list(Document.select(Document, Beneficiary).join(Beneficiary, attr="beneficiary")
                .where(Document.expiry_date.between(today, until) & Beneficiary.status.in_(ACTIVE_BENEFICIARY)))
    if docs:
        # a newer document of the same kind that stays valid makes the reminder pointless
        renewed = set(Document.select(Document.beneficiary, Document.kind)
                      .where(Document.beneficiary.in_({d.beneficiary_id for d in docs}) & (Document.expiry_date > until))
                      .tuples())
    for doc in docs:
        if (doc.beneficiary_id, doc.kind) in renewed:
            continue
        with force_locale("ar"):
            reason = _("%(doc)s expires on %(date)s: ask for the renewed copy",
                       doc=str(DOCUMENT_KIND.get(doc.kind, doc.kind)), date=format_hijri(doc.expiry_date, "ar"))
        if create_task(beneficiary=doc.beneficiary, kind="document_expiring", reason=reason, due=doc.expiry_date,
                       source={"document": doc.id},
                       key=f"document_expiring:doc:{doc.id}:{doc.expiry_date.isoformat()}"):
            counts["document_expiring"] += 1
    for ben in (Beneficiary.select().where(Beneficiary.id_expiry.between(today, until)
                                           & Beneficiary.status.in_(ACTIVE_BENEFICIARY))):
        with force_locale("ar"):
            reason = _("The ID expires on %(date)s: ask for the renewed ID", date=format_hijri(ben.id_expiry, "ar"))
        if create_task(beneficiary=ben, kind="id_expiring", reason=reason, due=ben.id_expiry,
                       source={"beneficiary": ben.id}, key=f"id_expiring:ben:{ben.id}:{ben.id_expiry.isoformat()}"):
            counts["id_expiring"] += 1


def _follow_ups(today: dt.date, counts: dict) -> None:
    entries = (TimelineEntry.select(TimelineEntry.id, TimelineEntry.beneficiary, TimelineEntry.case,
                                    TimelineEntry.summary, TimelineEntry.follow_up_due)
               .where((TimelineEntry.follow_up_due <= today) & (TimelineEntry.follow_up_done == False)  # noqa: E712
                      & TimelineEntry.beneficiary.is_null(False)))
    for entry in entries:
        with force_locale("ar"):
            reason = _("Follow-up due: %(summary)s", summary=entry.summary)
        if create_task(beneficiary=entry.beneficiary_id, case=entry.case_id, kind="follow_up", reason=reason,
                       due=entry.follow_up_due, source={"entry": entry.id}, key=f"follow_up:entry:{entry.id}"):
            counts["follow_up"] += 1


def _unserved(now: dt.datetime, counts: dict) -> None:
    days = int(current_app.config["OUTREACH_UNSERVED_DAYS"])
    cutoff = now - dt.timedelta(days=days)
    cases = Case.select().where(Case.status.in_(machine.APPROVED_UNSERVED_STATUSES) & (Case.decided_at < cutoff))
    for case in cases:
        with force_locale("ar"):
            reason = _("Request %(ref)s was approved %(days)s days ago and is not served yet", ref=case.reference,
                       days=(now - case.decided_at).days)
        if create_task(beneficiary=case.beneficiary_id, case=case.id, kind="unserved", reason=reason,
                       due=saudi_today(now), source={"case": case.id}, key=f"unserved:case:{case.id}"):
            counts["unserved"] += 1


def season_start(month: int, today: dt.date) -> dt.date:
    """The first day (Gregorian) of the next Hijri ``month`` that has not ended before ``today``."""
    h = to_hijri(today)
    year = h.year if h.month <= month else h.year + 1
    g = Hijri(year, month, 1).to_gregorian()
    return dt.date(g.year, g.month, g.day)


def _seasonal(today: dt.date, counts: dict) -> None:
    for rtype in RequestType.select().where((RequestType.active == True)  # noqa: E712
                                           & RequestType.season_hijri_month.is_null(False)):
        categories = rtype.category_set
        if not categories:
            continue
        start = season_start(rtype.season_hijri_month, today)
        if not (today <= start + dt.timedelta(days=28) and start - today <= dt.timedelta(days=EXPIRY_WINDOW_DAYS)):
            continue
        season_year = to_hijri(start).year
        since = start - dt.timedelta(days=60)
        already = Case.select(Case.beneficiary).where((Case.request_type == rtype.code) & (Case.created_at >= since))
        eligible = (Beneficiary.select(Beneficiary.id)
                    .where(Beneficiary.category.in_(categories) & (Beneficiary.status == "active")
                           & ~(Beneficiary.id.in_(already))))
        with force_locale("ar"):
            reason = _("Eligible for the seasonal programme %(name)s starting %(date)s: offer it",
                       name=rtype.name_ar, date=format_hijri(start, "ar"))
        due = max(today, start - dt.timedelta(days=7))
        for ben in eligible:
            if create_task(beneficiary=ben.id, kind="seasonal", reason=reason, due=due,
                           source={"request_type": rtype.code},
                           key=f"seasonal:{rtype.code}:{season_year}:{ben.id}"):
                counts["seasonal"] += 1


def run_outreach(now: dt.datetime | None = None) -> dict:
    """The daily selection: documents and IDs expiring within 30 days, follow-ups due, approved
    requests not served after ``OUTREACH_UNSERVED_DAYS`` days, seasonal programmes for eligible
    categories. Safe to run any number of times a day. Returns the number of new tasks per kind."""
    now = now or utcnow()
    today = saudi_today(now)
    counts = {"document_expiring": 0, "id_expiring": 0, "follow_up": 0, "unserved": 0, "seasonal": 0}
    _expiring_documents(today, counts)
    _follow_ups(today, counts)
    _unserved(now, counts)
    _seasonal(today, counts)
    return counts


# --- working through the queue -------------------------------------------------------------------

def open_tasks(user: User | None = None, kind: str | None = None):
    query = (OutreachTask.select(OutreachTask, Beneficiary).join(Beneficiary, JOIN.LEFT_OUTER, attr="beneficiary")
             .where(OutreachTask.status == "open"))
    if kind:
        query = query.where(OutreachTask.kind == kind)
    if user is not None and user.branch_limited:
        query = query.where(Beneficiary.branch == user.branch_id)
    return query.order_by(OutreachTask.due, OutreachTask.id)


def complete_task(task: OutreachTask, *, actor: User, channel: str, summary: str, outcome: str = "done",
                  body: str = "") -> OutreachTask:
    """Log the contact made for ``task`` on the timeline and close the task (``done``), or dismiss it
    (``dismissed``: no contact needed) with a note."""
    from ..plugins import channel_map
    from ..timeline import log_entry, update_entry

    summary, body = clean_text(summary), clean_text(body)
    errors = {}
    if outcome not in ("done", "dismissed"):
        errors["outcome"] = _l("Choose what happened.")
    if outcome == "done" and channel not in channel_map():
        errors["channel"] = _l("Choose the channel of the contact.")
    if not summary:
        errors["summary"] = _l("This field is required.")
    elif len(summary) > 300:
        errors["summary"] = _l("Too long: at most %(n)s characters.", n=300)
    if len(body) > 5000:
        errors["body"] = _l("Too long: at most %(n)s characters.", n=5000)
    if errors:
        raise WorkflowError(_l("Nothing was saved. Check the fields marked below."), errors)
    with database.atomic():
        fresh = OutreachTask.get_by_id(task.id)
        if fresh.status != "open":
            raise WorkflowError(_l("This task was already handled."))
        entry = None
        if outcome == "done":
            entry = log_entry(channel=channel, direction="out", summary=summary, body=body,
                              beneficiary=fresh.beneficiary, case=fresh.case_id, actor=actor,
                              data={"kind": "outreach", "task": fresh.id, "task_kind": fresh.kind})
        updated = (OutreachTask.update(status=outcome, outcome=summary, entry=entry, done_by=actor, done_at=utcnow())
                   .where((OutreachTask.id == fresh.id) & (OutreachTask.status == "open")).execute())
        if not updated:
            raise WorkflowError(_l("This task was already handled."))
        if fresh.kind == "follow_up" and fresh.source and fresh.source.get("entry"):
            update_entry(fresh.source["entry"], by=actor, follow_up_done=True)
        audit("update", "outreach_task", fresh.id, {"status": outcome}, actor=actor)
    return OutreachTask.get_by_id(task.id)


class TaskTaken(WorkflowError):
    status = 409


def assign_task(task: OutreachTask, *, actor: User, take: bool = True) -> OutreachTask:
    """"Assign to me" (``take``) or give the task back to the team; only an open task, in one transaction.
    Taking a task someone else holds is refused (they may be on the phone with the family)."""
    with database.atomic():
        fresh = OutreachTask.get_by_id(task.id)
        if fresh.status != "open":
            raise WorkflowError(_l("This task was already handled."))
        if take:
            if fresh.assigned_to_id not in (None, actor.id):
                raise TaskTaken(_l("Someone else has taken this task."))
            new = actor.id
        else:
            if fresh.assigned_to_id not in (None, actor.id) and not actor.has_role("admin"):
                raise TaskTaken(_l("Only the officer who took this task can give it back."))
            new = None
        OutreachTask.update(assigned_to=new).where(OutreachTask.id == fresh.id).execute()
        audit("update", "outreach_task", fresh.id, {"assigned_to": new}, actor=actor)
    return OutreachTask.get_by_id(task.id)
