"""Handling a register entry: link it to a file or a request, take it or give it to someone, answer it through
``send_message`` (said "sent" only when a transport accepted it), close it with its outcome and the
complainant's satisfaction with the handling, tag it with a theme; the daily escalation of overdue ones."""
from __future__ import annotations

import datetime as dt

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN

from ..audit import audit
from ..dates import saudi_today
from ..db import database, utcnow
from ..models import Beneficiary, Case, User
from ..text import clean_text, fold_digits, normalize_reference
from . import TEXT_LIMIT, ComplaintError
from .models import Complaint, FeedbackTheme, Improvement

OUTCOMES = ("resolved", "upheld", "partly_upheld", "not_upheld", "noted")
OUTCOME_LABEL = {"resolved": _l("Answered or resolved"), "upheld": _l("Upheld: the complaint was right"),
                 "partly_upheld": _l("Partly upheld"), "not_upheld": _l("Not upheld"),
                 "noted": _l("Noted (suggestion or praise passed on)")}
SATISFACTION_LABEL = {1: _l("Very dissatisfied"), 2: _l("Dissatisfied"), 3: _l("Neutral"), 4: _l("Satisfied"),
                      5: _l("Very satisfied")}


def overdue_condition(today: dt.date | None = None):
    """Open entries whose deadline (a Saudi day) has passed: read from the (state, deadline) index."""
    return (Complaint.state == "open") & (Complaint.deadline < (today or saudi_today()))


def overdue_count(today: dt.date | None = None) -> int:
    return Complaint.select().where(overdue_condition(today)).count()


def _fresh(complaint: Complaint) -> Complaint:
    return Complaint.get_by_id(complaint.id)


def _tell(complaint_id: int, change: str) -> Complaint:
    """The entry after a change, with the plugins told (``complaint_updated``), inside the change's
    transaction."""
    from ..plugins import hook

    fresh = Complaint.get_by_id(complaint_id)
    hook().complaint_updated(complaint=fresh, change=change)
    return fresh


def _touch(complaint_id: int, **changes) -> None:
    Complaint.update(updated_at=utcnow(), **changes).where(Complaint.id == complaint_id).execute()


def _move_links(complaint: Complaint, beneficiary_id, case_id) -> None:
    """The entry on the timeline and the follow-up task follow the file and request the entry is linked to."""
    from ..workflow.models import OutreachTask

    from ..timeline import update_entry

    if complaint.entry_id:
        update_entry(complaint.entry_id, beneficiary=beneficiary_id, case=case_id)
    if complaint.task_id:
        OutreachTask.update(beneficiary=beneficiary_id, case=case_id).where(
            OutreachTask.id == complaint.task_id).execute()


def find_file(value: str) -> Beneficiary | None:
    """The file a typed number names: its file number or the national ID."""
    value = fold_digits(clean_text(value))
    if not value:
        return None
    return Beneficiary.get_or_none((Beneficiary.file_number == value) | (Beneficiary.national_id == value))


def link_file(complaint: Complaint, value: str, actor) -> Complaint:
    """Link an entry to a beneficiary's file (by file number or national ID)."""
    ben = find_file(value)
    if ben is None:
        raise ComplaintError(_l("No file has this number."), "file")
    with database.atomic():
        fresh = _fresh(complaint)
        case_id = fresh.case_id if fresh.case_id and Case.get_by_id(fresh.case_id).beneficiary_id == ben.id else None
        _touch(fresh.id, beneficiary=ben.id, case=case_id)
        _move_links(fresh, ben.id, case_id)
        audit("update", "complaint", fresh.id, {"beneficiary": ben.id}, actor=actor)
        return _tell(fresh.id, "linked")


def link_request(complaint: Complaint, reference: str, actor) -> Complaint:
    """Link an entry to a request by its reference; the request's file comes with it. A request of another
    file than the one already linked is refused."""
    ref = normalize_reference(reference)
    case = Case.get_or_none(Case.reference == ref) if ref else None
    if case is None:
        raise ComplaintError(_l("No request has this reference."), "reference")
    with database.atomic():
        fresh = _fresh(complaint)
        if fresh.beneficiary_id and fresh.beneficiary_id != case.beneficiary_id:
            raise ComplaintError(_l("This request belongs to another file than the one linked."), "reference")
        _touch(fresh.id, beneficiary=case.beneficiary_id, case=case.id)
        _move_links(fresh, case.beneficiary_id, case.id)
        audit("update", "complaint", fresh.id, {"case": case.id}, actor=actor)
        return _tell(fresh.id, "linked")


def may_assign_others(user) -> bool:
    return user.has_role("manager", "admin")


def assign(complaint: Complaint, assignee_id, actor) -> Complaint:
    """Give the entry to ``assignee_id`` (None: back to the team). Officers take entries for themselves or
    give back their own; managers and admins give them to anyone who handles the register."""
    with database.atomic():
        fresh = _fresh(complaint)
        if fresh.state == "closed":
            raise ComplaintError(_l("This entry is closed."), "assignee")
        if assignee_id is not None:
            assignee = User.get_or_none((User.id == assignee_id) & (User.is_active == True))  # noqa: E712
            if assignee is None or not assignee.has_role(*HANDLER_ROLES):
                raise ComplaintError(_l("Choose a member of staff who handles the register."), "assignee")
        if not may_assign_others(actor):
            if assignee_id not in (None, actor.id):
                raise ComplaintError(_l("Only a manager gives an entry to someone else."), "assignee")
            if fresh.assigned_to_id not in (None, actor.id):
                raise ComplaintError(_l("Another member of staff has taken this entry."), "assignee")
        hand_over(fresh, assignee_id)
        audit("update", "complaint", fresh.id, {"assigned_to": assignee_id}, actor=actor)
        return _tell(fresh.id, "assigned")


def hand_over(complaint: Complaint, assignee_id) -> None:
    """Set the entry's assignee and its follow-up task's together, in the caller's transaction (the caller has
    checked who may): the officer who holds an entry is the one its task asks to call."""
    _touch(complaint.id, assigned_to=assignee_id)
    if complaint.task_id:
        from ..workflow.models import OutreachTask

        OutreachTask.update(assigned_to=assignee_id).where(OutreachTask.id == complaint.task_id).execute()


HANDLER_ROLES = ("officer", "manager", "admin")
READ_ROLES = ("officer", "manager", "admin")


def answer(complaint: Complaint, text: str, actor, purpose: str = "complaint_answer") -> tuple[Complaint, str]:
    """Record the answer once and send it through ``send_message`` when the entry is linked to a file.
    Returns the entry and the delivery state: ``sent`` (a transport accepted it), ``queued`` (a channel will
    send it: not claimed as sent) or ``not_sent`` (no file linked, or no channel could deliver it)."""
    from ..workflow.notify import notify

    text = clean_text(text)
    if not text:
        raise ComplaintError(_l("Write the answer."), "answer")
    if len(text) > TEXT_LIMIT:
        raise ComplaintError(_l("Keep it under %(n)s characters.", n=TEXT_LIMIT), "answer")
    with database.atomic():
        fresh = _fresh(complaint)
        changed = (Complaint.update(state="answered", answer=text, answered_at=utcnow(), answered_by=actor,
                                    updated_at=utcnow())
                   .where((Complaint.id == fresh.id) & (Complaint.state == "open")).execute())
        if changed != 1:
            raise ComplaintError(_l("This entry was already answered."), "answer")
        result = None
        if fresh.beneficiary_id:
            result = notify(fresh.beneficiary, text, purpose, case=fresh.case, actor=actor,
                            context={"reference": fresh.reference, "complaint": fresh.id})
        state = "not_sent" if not result else ("queued" if result.get("state") == "queued" else "sent")
        delivery = f"{result.get('channel')}:{result.get('id', '')}" if result else ""
        if fresh.beneficiary_id and fresh.kind in ("complaint", "inquiry"):
            # an answered complaint or question is a finished service: the core may offer a survey about it
            from ..plugins import hook

            hook().service_finished(beneficiary=fresh.beneficiary, kind=fresh.kind, channel=fresh.channel,
                                    case=fresh.case, staff=actor, source=f"complaint:{fresh.id}")
        _touch(fresh.id, answer_delivery=(f"{state}|{delivery}" if delivery else state)[:120])
        if fresh.task_id:
            from ..workflow.models import OutreachTask

            OutreachTask.update(status="done", done_by=actor, done_at=utcnow(),
                                outcome=str(_l("Answered"))).where(
                (OutreachTask.id == fresh.task_id) & (OutreachTask.status == "open")).execute()
        audit("update", "complaint", fresh.id, {"answered": True, "delivery": state}, actor=actor)
        return _tell(fresh.id, "answered"), state


def delivery_id(complaint: Complaint) -> str:
    """``channel:id`` of the transport that took the answer, or ""."""
    return complaint.answer_delivery.split("|", 1)[1] if "|" in complaint.answer_delivery else ""


def record_given(complaint: Complaint, *, reference: str = "", national_id: str = "", email: str = "") -> None:
    """Keep what the person gave that matched nothing yet (a request reference, an ID, an e-mail), shown beside
    the "link to file" and "link to request" actions."""
    Complaint.update(contact_reference=clean_text(reference)[:20], contact_national_id=clean_text(national_id)[:10],
                     contact_email=clean_text(email)[:200]).where(Complaint.id == complaint.id).execute()


def find(source: str, source_id) -> Complaint | None:
    """The entry a source opened for its submission ``source_id``."""
    return Complaint.get_or_none((Complaint.source == source) & (Complaint.source_id == str(source_id)))


def delivery_state(complaint: Complaint) -> str:
    """``sent``, ``queued``, ``not_sent`` or "" (not answered)."""
    return complaint.answer_delivery.split("|", 1)[0] if complaint.answer_delivery else ""


def close(complaint: Complaint, *, outcome: str, note: str = "", satisfaction=None, actor) -> Complaint:
    """Close the entry with its outcome and, when the complainant gave it, their satisfaction with the
    handling (1-5; None when not asked or declined)."""
    if outcome not in OUTCOMES:
        raise ComplaintError(_l("Choose the outcome."), "outcome")
    if satisfaction in ("", None):
        satisfaction = None
    else:
        try:
            satisfaction = int(fold_digits(str(satisfaction)))
        except ValueError:
            satisfaction = 0
        if not 1 <= satisfaction <= 5:
            raise ComplaintError(_l("Satisfaction is a number from 1 to 5."), "satisfaction")
    note = clean_text(note)
    if len(note) > TEXT_LIMIT:
        raise ComplaintError(_l("Keep it under %(n)s characters.", n=TEXT_LIMIT), "note")
    now = utcnow()
    with database.atomic():
        changed = (Complaint.update(state="closed", outcome=outcome, outcome_note=note, closed_at=now,
                                    closed_by=actor, satisfaction=satisfaction,
                                    satisfaction_at=now if satisfaction else None, updated_at=now)
                   .where((Complaint.id == complaint.id) & (Complaint.state != "closed")).execute())
        if changed != 1:
            raise ComplaintError(_l("This entry is already closed."), "outcome")
        audit("update", "complaint", complaint.id, {"closed": outcome, "satisfaction": satisfaction}, actor=actor)
        return _tell(complaint.id, "closed")


def set_theme(complaint: Complaint, theme_id, actor) -> Complaint:
    theme = None
    if theme_id not in (None, ""):
        theme = FeedbackTheme.get_or_none(FeedbackTheme.id == theme_id)
        if theme is None:
            raise ComplaintError(_l("Choose a theme from the list."), "theme")
    with database.atomic():
        _touch(complaint.id, theme=theme)
        audit("update", "complaint", complaint.id, {"theme": theme.id if theme else None}, actor=actor)
    return _fresh(complaint)


def add_theme(name_ar: str, name_en: str, actor) -> FeedbackTheme:
    name_ar, name_en = clean_text(name_ar)[:120], clean_text(name_en)[:120]
    if not name_ar:
        raise ComplaintError(_l("Write the theme's Arabic name."), "name_ar")
    if FeedbackTheme.get_or_none(FeedbackTheme.name_ar == name_ar):
        raise ComplaintError(_l("This theme exists already."), "name_ar")
    with database.atomic():
        theme = FeedbackTheme.create(name_ar=name_ar, name_en=name_en)
        audit("create", "feedback_theme", theme.id, {"name": name_ar}, actor=actor)
    return theme


def escalate_overdue(now: dt.datetime | None = None) -> int:
    """Daily job: each entry newly past its deadline without an answer is escalated to the managers once (an
    internal entry on the timeline, the audit, the managers' dashboard). Returns how many were escalated."""
    from ..timeline import log_entry

    now = now or utcnow()
    today = saudi_today(now)
    count = 0
    for c in Complaint.select().where(overdue_condition(today) & Complaint.escalated_at.is_null()):
        with database.atomic():
            if not Complaint.update(escalated_at=now).where(
                    (Complaint.id == c.id) & Complaint.escalated_at.is_null()).execute():
                continue
            with force_locale("ar"):
                summary = _("%(ref)s is past its deadline without an answer: escalated to the managers",
                            ref=c.reference)
            log_entry(channel="system", direction="internal", summary=summary, beneficiary=c.beneficiary_id,
                      case=c.case_id, data={"kind": "complaint_overdue", "complaint": c.id})
            audit("escalate", "complaint", c.id, {"reference": c.reference, "deadline": c.deadline.isoformat()},
                  actor=None)
            count += 1
    return count


# --- "You said, we did" ------------------------------------------------------------------------------

def save_improvement(values: dict, actor, improvement: Improvement | None = None) -> Improvement:
    from ..dates import parse_date
    from ..validators import ValidationError

    errors = {}
    said_ar, did_ar = clean_text(values.get("said_ar")), clean_text(values.get("did_ar"))
    said_en, did_en = clean_text(values.get("said_en")), clean_text(values.get("did_en"))
    if not said_ar:
        errors["said_ar"] = _l("Write what beneficiaries said.")
    if not did_ar:
        errors["did_ar"] = _l("Write what the association did.")
    for key, value in (("said_ar", said_ar), ("did_ar", did_ar), ("said_en", said_en), ("did_en", did_en)):
        if len(value) > 2000:
            errors[key] = _l("Keep it under %(n)s characters.", n=2000)
    try:
        done_on = parse_date(values.get("done_on")) or saudi_today()
    except ValidationError as exc:
        errors["done_on"] = exc.message
        done_on = None
    theme = None
    if values.get("theme"):
        theme = FeedbackTheme.get_or_none(FeedbackTheme.id == values.get("theme"))
        if theme is None:
            errors["theme"] = _l("Choose a theme from the list.")
    if errors:
        err = ComplaintError(next(iter(errors.values())), next(iter(errors)))
        err.errors = errors
        raise err
    fields = {"said_ar": said_ar, "did_ar": did_ar, "said_en": said_en, "did_en": did_en, "done_on": done_on,
              "theme": theme, "published": bool(values.get("published")), "updated_at": utcnow()}
    with database.atomic():
        if improvement is None:
            improvement = Improvement.create(created_by=actor, **fields)
            audit("create", "improvement", improvement.id, {"published": fields["published"]}, actor=actor)
        else:
            Improvement.update(**fields).where(Improvement.id == improvement.id).execute()
            audit("update", "improvement", improvement.id, {"published": fields["published"]}, actor=actor)
    return Improvement.get_by_id(improvement.id)


def published_improvements(limit: int = 50) -> list[Improvement]:
    """The improvements the public website shows, newest first (the website plugin reads them here)."""
    return list(Improvement.select(Improvement, FeedbackTheme)
                .join(FeedbackTheme, JOIN.LEFT_OUTER, on=(Improvement.theme == FeedbackTheme.id), attr="theme")
                .where(Improvement.published == True)  # noqa: E712
                .order_by(Improvement.done_on.desc(), Improvement.id.desc()).limit(limit))
