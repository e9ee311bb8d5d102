"""Satisfaction surveys: offering one after a finished service (at most one a beneficiary per interval, never
to one who opted out, sent only with contact consent), the signed link, recording the one answer from any
way it came, service recovery (a low score opens a complaint) and the reminder.

The metrics (``portal.satisfaction.metrics``) read answers only in aggregate."""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..dates import saudi_date
from ..db import database, utcnow
from ..models import Beneficiary, Case, User
from ..text import clean_text, isolate, strip_bidi_controls
from .models import DIMENSIONS, SERVICE_KINDS, Survey, SurveyAnswer, SurveyOptOut, SurveyQuestionSet

COMMENT_MAX = 2000
DEFAULT_TEXTS = {
    "overall": {"ar": "ما مدى رضاك عن الخدمة بشكل عام؟", "en": "How satisfied are you with the service overall?"},
    "recommend": {"ar": "ما مدى احتمال أن توصي بالجمعية لقريب أو صديق؟",
                  "en": "How likely are you to recommend the association to a relative or friend?"},
    "speed": {"ar": "سرعة إنجاز الخدمة", "en": "Speed of the service"},
    "courtesy": {"ar": "لطف الموظفين واحترامهم", "en": "Courtesy and respect of the staff"},
    "clarity": {"ar": "وضوح المعلومات", "en": "Clarity of the information"},
    "fairness": {"ar": "عدالة الإجراءات", "en": "Fairness of the procedure"},
    "reach": {"ar": "سهولة الوصول إلينا", "en": "Ease of reaching us"},
    "comment": {"ar": "هل تود إضافة ملاحظة؟", "en": "Would you like to add a comment?"},
}


class SurveyError(ValueError):
    """An answer that cannot be recorded; ``errors`` maps fields to messages."""

    def __init__(self, message, errors: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.errors = errors or {}


def _cfg(name: str):
    return current_app.config[f"SATISFACTION_{name}"]


# --- question sets --------------------------------------------------------------------------------------

def current_question_set() -> SurveyQuestionSet:
    """The newest version; the first use writes version 1 with the default questions."""
    latest = SurveyQuestionSet.select().order_by(SurveyQuestionSet.version.desc()).first()
    if latest is None:
        with database.atomic():
            latest = SurveyQuestionSet.create(version=1, texts=DEFAULT_TEXTS, dimensions=list(DIMENSIONS),
                                              note="default")
    return latest


def save_question_set(texts: dict, dimensions: list, note: str, actor) -> SurveyQuestionSet:
    """A new version of the questions (answers already given keep theirs). Every text is required in both
    languages; at most 300 characters each."""
    errors = {}
    clean = {}
    for key in DEFAULT_TEXTS:
        clean[key] = {}
        for lang in ("ar", "en"):
            value = strip_bidi_controls(clean_text((texts.get(key) or {}).get(lang, "")))
            if not value:
                errors[f"{key}_{lang}"] = _l("This field is required.")
            elif len(value) > 300:
                errors[f"{key}_{lang}"] = _l("Too long: at most %(n)s characters.", n=300)
            clean[key][lang] = value
    dims = [d for d in DIMENSIONS if d in (dimensions or [])]
    note = clean_text(note)[:300]
    if errors:
        raise SurveyError(_l("The questions were not saved. Check the fields marked below."), errors)
    with database.atomic():
        current = current_question_set()
        row = SurveyQuestionSet.create(version=current.version + 1, texts=clean, dimensions=dims, note=note,
                                       created_by=actor)
        audit("create", "survey_question_set", row.id, {"version": row.version}, actor=actor)
    return row


def question_text(qset: SurveyQuestionSet, key: str, lang: str) -> str:
    texts = (qset.texts or {}).get(key) or DEFAULT_TEXTS[key]
    return texts.get(lang) or texts.get("ar") or ""


# --- the signed link ------------------------------------------------------------------------------------

def _signature(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"survey:" + nonce.encode(), "sha256").hexdigest()[:16]


def token_for(survey: Survey) -> str:
    return f"{survey.nonce}.{_signature(survey.nonce)}"


def survey_for_token(token: str) -> Survey | None:
    """The survey of a link, or None for a forged, altered or unknown token (the same answer for all three)."""
    nonce, _sep, signature = (token or "").partition(".")
    if not nonce or len(nonce) > 32 or not signature or not hmac.compare_digest(signature, _signature(nonce)):
        return None
    return Survey.get_or_none(Survey.nonce == nonce)


def link_for(survey: Survey, qr: bool = False) -> str:
    """The absolute address of the survey's page (``PORTAL_SATISFACTION_PUBLIC_URL`` as its base when set)."""
    token = token_for(survey)
    base = (_cfg("PUBLIC_URL") or "").rstrip("/")
    suffix = "?via=qr" if qr else ""
    if base:
        return f"{base}/site/rate/{token}{suffix}"
    if has_request_context():
        return url_for("satisfaction_public.rate", token=token, _external=True) + suffix
    return f"/site/rate/{token}{suffix}"


def state_of(survey: Survey, now: dt.datetime | None = None) -> str:
    """``answered``, ``expired`` or ``open``."""
    if survey.answered_at is not None:
        return "answered"
    if survey.expires_at <= (now or utcnow()):
        return "expired"
    return "open"


# --- opt-out --------------------------------------------------------------------------------------------

def is_opted_out(beneficiary_id: int) -> bool:
    return SurveyOptOut.select().where(SurveyOptOut.beneficiary == beneficiary_id).exists()


def opt_out(beneficiary: Beneficiary, *, via: str, actor=None) -> bool:
    """Record that the beneficiary does not want surveys; False when it was already recorded."""
    with database.atomic():
        if is_opted_out(beneficiary.id):
            return False
        SurveyOptOut.create(beneficiary=beneficiary, via=via, recorded_by=actor)
        audit("update", "beneficiary", beneficiary.id, {"survey_opt_out": True, "via": via}, actor=actor)
    return True


def opt_in(beneficiary: Beneficiary, *, actor=None) -> bool:
    with database.atomic():
        done = SurveyOptOut.delete().where(SurveyOptOut.beneficiary == beneficiary.id).execute()
        if done:
            audit("update", "beneficiary", beneficiary.id, {"survey_opt_out": False}, actor=actor)
    return bool(done)


# --- offering a survey ----------------------------------------------------------------------------------

def _recent_survey(beneficiary_id: int, now: dt.datetime) -> bool:
    since = now - dt.timedelta(days=int(_cfg("INTERVAL_DAYS")))
    return Survey.select().where((Survey.beneficiary == beneficiary_id) & (Survey.created_at > since)).exists()


def offer(*, beneficiary, kind: str, source: str, channel: str = "", case=None, staff=None,
          now: dt.datetime | None = None, send: bool = True, force: bool = False) -> Survey | None:
    """A survey about a finished service, or None when none may be made: no file (or an erased one), the
    beneficiary opted out, a survey was already made for this service (``source``) or for this beneficiary
    in the last ``PORTAL_SATISFACTION_INTERVAL_DAYS`` days, whatever the channel. The invitation goes on the
    beneficiary's channel only with their consent to be contacted (else the survey waits for the desk, a call
    or the printed code). ``force``: the beneficiary gives an answer of their own accord (an officer records it),
    so the interval does not apply; the opt-out still does."""
    if beneficiary is None or kind not in SERVICE_KINDS or not _cfg("ENABLED"):
        return None
    if isinstance(beneficiary, int):
        beneficiary = Beneficiary.get_or_none(Beneficiary.id == beneficiary)
        if beneficiary is None:
            return None
    if beneficiary.erased_at is not None or beneficiary.status == "deceased":
        return None
    now = now or utcnow()
    source = str(source)[:120]
    with database.atomic():
        if Survey.select().where(Survey.source == source).exists():
            return None
        if is_opted_out(beneficiary.id) or (not force and _recent_survey(beneficiary.id, now)):
            return None
        if isinstance(case, int):
            case = Case.get_or_none(Case.id == case)
        staff_id = staff.id if isinstance(staff, User) else staff
        branch_id = beneficiary.branch_id
        if staff_id and branch_id is None:
            branch_id = User.select(User.branch).where(User.id == staff_id).scalar()
        survey = Survey.create(
            nonce=secrets.token_urlsafe(12), beneficiary=beneficiary, case=case, kind=kind,
            channel=(channel or (case.channel if case is not None else ""))[:30],
            request_type=case.request_type if case is not None else "", staff=staff_id, branch=branch_id,
            source=source, question_set=current_question_set(), created_at=now,
            expires_at=now + dt.timedelta(days=int(_cfg("LINK_DAYS"))),
        )
        audit("create", "survey", survey.id, {"beneficiary": beneficiary.id, "kind": kind, "source": source})
    if send:
        send_invitation(survey, beneficiary=beneficiary)
    return survey


def invitation_text(survey: Survey, reminder: bool = False) -> str:
    """The Arabic invitation: a digit reply or the page, the link's last day, how to stop."""
    with force_locale("ar"):
        org = current_app.config["ORG_NAME_AR"]
        last_day = saudi_date(survey.expires_at).isoformat()
        head = _("Reminder: ") if reminder else ""
        return (head + _("%(org)s thanks you. How satisfied are you with our service? Reply with a digit from 1 "
                         "(not satisfied) to 5 (very satisfied), or answer here: %(link)s (until %(day)s). Reply "
                         "STOP to receive no more surveys.", org=org, link=isolate(link_for(survey)),
                         day=isolate(last_day)))


def send_invitation(survey: Survey, *, beneficiary=None, reminder: bool = False) -> dict | None:
    """Offer the survey on the beneficiary's channel (preferred first, then the channels' routing) as a notice of
    purpose ``survey`` (``portal.workflow.notices.deliver``: once, with contact consent, held through the quiet
    hours and the daily cap, on the timeline, in the outbox when no channel could send it). Recorded as sent only
    when a transport accepted it. Returns ``{"state", "channel"}`` when it was sent or handed on, else None."""
    from ..workflow.notices import deliver

    beneficiary = beneficiary or Beneficiary.get_by_id(survey.beneficiary_id)
    if not beneficiary.consent_contact:
        Survey.update(not_sent_reason="no_consent").where(Survey.id == survey.id).execute()
        survey.not_sent_reason = "no_consent"
        return None
    if is_opted_out(beneficiary.id):
        return None
    choices = [{"id": f"survey:{survey.nonce}:{n}", "title": str(n)} for n in range(5, 0, -1)]
    case = Case.get_by_id(survey.case_id) if survey.case_id else None
    text = invitation_text(survey, reminder=reminder)
    with force_locale("ar"):
        button = _("Rate")
    # A channel that can show a list of choices (``context["interactive"]``, e.g. WhatsApp inside its 24-hour
    # window) offers 5..1; the chosen row comes back as the reply id ``survey:<nonce>:<score>``.
    interactive = {"type": "list", "body": text, "button": button,
                   "sections": [{"title": button, "rows": choices}]}
    notice = deliver(beneficiary, text, "survey",
                     key=f"survey:{survey.id}:{'reminder' if reminder else 'invitation'}", case=case,
                     context={"survey_url": link_for(survey), "survey_choices": choices, "reminder": reminder,
                              "interactive": interactive})
    if notice is None or notice.state in ("not_sent", "no_consent"):
        if not reminder:
            Survey.update(not_sent_reason="no_channel").where(Survey.id == survey.id).execute()
            survey.not_sent_reason = "no_channel"
        return None
    # "sent": a transport accepted it; "queued" (a channel's job) or held (quiet hours, the daily cap): handed on.
    fields = {"sent_channel": (notice.channel or "")[:30], "sent_state": "sent" if notice.state == "sent" else "queued",
              "not_sent_reason": "", ("reminded_at" if reminder else "sent_at"): utcnow()}
    Survey.update(**fields).where(Survey.id == survey.id).execute()
    for key, value in fields.items():
        setattr(survey, key, value)
    return {"state": fields["sent_state"], "channel": fields["sent_channel"]}


def mark_handed_to_notice(survey: Survey) -> None:
    """The survey's link went with the request's own notice (``portal.workflow.notices``, which keeps its
    delivery state): recorded as handed on ("queued"), never as sent, so the one reminder follows it. Without
    contact consent the notice is not sent, and the survey waits for the desk, a call or the printed code."""
    beneficiary = Beneficiary.get_by_id(survey.beneficiary_id)
    if not beneficiary.consent_contact:
        Survey.update(not_sent_reason="no_consent").where(Survey.id == survey.id).execute()
        return
    Survey.update(sent_at=utcnow(), sent_state="queued", not_sent_reason="").where(Survey.id == survey.id).execute()


def send_reminders(now: dt.datetime | None = None) -> int:
    """The one reminder: surveys sent ``PORTAL_SATISFACTION_REMINDER_DAYS`` days ago or more, not answered,
    not reminded, not expired, to beneficiaries who did not opt out. Returns how many were reminded."""
    now = now or utcnow()
    due = now - dt.timedelta(days=int(_cfg("REMINDER_DAYS")))
    rows = list(Survey.select().join(Beneficiary, on=(Survey.beneficiary == Beneficiary.id))
                .where(Survey.sent_at.is_null(False) & (Survey.sent_at <= due) & Survey.answered_at.is_null()
                       & Survey.reminded_at.is_null() & (Survey.expires_at > now) & Beneficiary.consent_contact
                       & ~fn_exists_opt_out())
                .limit(500))
    sent = 0
    for survey in rows:
        if send_invitation(survey, reminder=True):
            sent += 1
        else:
            # Tried once: the reminder is not tried again every day.
            Survey.update(reminded_at=now).where(Survey.id == survey.id).execute()
    return sent


def fn_exists_opt_out():
    from peewee import fn

    return fn.EXISTS(SurveyOptOut.select(SurveyOptOut.id).where(SurveyOptOut.beneficiary == Survey.beneficiary))


# --- answers --------------------------------------------------------------------------------------------

def _score(raw, low: int, high: int, required: bool, field: str, errors: dict):
    """A whole score from ``low`` to ``high`` (Arabic-Indic digits accepted), or None with a message."""
    from ..text import fold_digits

    text = fold_digits(str(raw)).strip() if raw is not None else ""
    if not text:
        if required:
            errors[field] = _l("Choose a score from %(low)s to %(high)s.", low=low, high=high)
        return None
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        errors[field] = _l("Choose a score from %(low)s to %(high)s.", low=low, high=high)
        return None
    return int(text)


@dataclass
class AnswerInput:
    overall: int | None
    recommend: int | None
    dimensions: dict
    comment: str
    wants_contact: bool
    wants_complaint: bool


def clean_answer(form, qset: SurveyQuestionSet) -> AnswerInput:
    """Check a submitted answer (a form or a dict); raises SurveyError with a message per field."""
    errors: dict = {}
    overall = _score(form.get("overall"), 1, 5, True, "overall", errors)
    recommend = _score(form.get("recommend"), 0, 10, False, "recommend", errors)
    dims = {d: _score(form.get(d), 1, 5, False, d, errors) for d in DIMENSIONS if d in (qset.dimensions or [])}
    comment = strip_bidi_controls(clean_text(form.get("comment") or ""))
    if len(comment) > COMMENT_MAX:
        errors["comment"] = _l("Too long: at most %(n)s characters.", n=COMMENT_MAX)
    truthy = ("1", "on", "yes", "true", True)
    if errors:
        raise SurveyError(_l("Your answer was not saved. Check the questions marked below."), errors)
    return AnswerInput(overall, recommend, dims, comment, form.get("wants_contact") in truthy,
                       form.get("wants_complaint") in truthy)


def record_answer(survey: Survey, values: AnswerInput, *, via: str, via_channel: str = "", actor=None,
                  now: dt.datetime | None = None) -> SurveyAnswer:
    """Write the survey's one answer in one transaction; a score of 1 or 2, or "I want to complain", opens a
    complaint (``portal.complaints.open_complaint``) with its deadline and follow-up task. Raises SurveyError
    when the survey was already answered, expired, or the beneficiary opted out."""
    now = now or utcnow()
    if is_opted_out(survey.beneficiary_id):
        raise SurveyError(_l("This beneficiary asked not to be surveyed."))
    if survey.answered_at is not None:
        raise SurveyError(_l("This survey was already answered. Thank you."))
    if via not in ("call", "desk") and survey.expires_at <= now:
        raise SurveyError(_l("This survey link has expired."))
    with database.atomic():
        # The conditional update: of two submissions at the same moment only one writes an answer.
        if not Survey.update(answered_at=now, comment_until=None).where(
                (Survey.id == survey.id) & Survey.answered_at.is_null()).execute():
            raise SurveyError(_l("This survey was already answered. Thank you."))
        answer = SurveyAnswer.create(
            survey=survey, question_set=survey.question_set_id, overall=values.overall, recommend=values.recommend,
            comment=values.comment, via=via, via_channel=via_channel[:30], wants_contact=values.wants_contact,
            wants_complaint=values.wants_complaint, recorded_by=actor, at=now,
            month=saudi_date(now).strftime("%Y-%m"), **values.dimensions)
        survey.answered_at = now
        audit("create", "survey_answer", answer.id, {"survey": survey.id, "via": via}, actor=actor)
        if (values.overall is not None and values.overall <= 2) or values.wants_complaint:
            answer.complaint_id = open_recovery(survey, answer, actor=actor)
            SurveyAnswer.update(complaint_id=answer.complaint_id).where(SurveyAnswer.id == answer.id).execute()
    return answer


def open_recovery(survey: Survey, answer: SurveyAnswer, actor=None) -> int | None:
    """Service recovery: a complaint in the one register (``portal.complaints.open_complaint``: its deadline in
    working days, its follow-up task), linked to the file and the request, the beneficiary asking to be
    contacted, with the survey as its source (opened once per survey). Its channel is the one the answer or
    the invitation came by, else the service's. Returns the complaint's id."""
    from ..complaints import ComplaintError, open_complaint
    from ..plugins import channel_map, channels

    beneficiary = Beneficiary.get_by_id(survey.beneficiary_id)
    with force_locale("ar"):
        text = _("Satisfaction survey: overall score %(score)s of 5.", score=answer.overall)
        if answer.comment:
            text += "\n" + answer.comment
        # The score and comment are for the register's handlers (the beneficiary asked to be contacted); the
        # timeline and the officers' task list, which every officer reads, only say that a call is due.
        neutral = _("Opened from a satisfaction survey: the details are in the complaints register.")
        task_reason = _("The beneficiary asked to be contacted after a satisfaction survey: call them.")
    case = Case.get_by_id(survey.case_id) if survey.case_id else None
    known = channel_map()
    channel = next((c for c in (answer.via_channel, survey.sent_channel, survey.channel,
                                beneficiary.preferred_channel) if c and c in known), None)
    if channel is None and known:
        channel = channels()[0]["key"]
    try:
        complaint = open_complaint(
            kind="complaint", channel=channel or "", text=text, beneficiary=beneficiary, case=case,
            contact_name=beneficiary.full_name, contact_mobile=beneficiary.mobile, contact_requested=True,
            source="survey", source_id=survey.id, user=actor, timeline_text=neutral)
    except ComplaintError:
        # No channel enabled at all (the register needs one): an officer's call-back task keeps the recovery.
        from ..dates import add_working_days
        from ..workflow.outreach import create_task

        create_task(beneficiary=beneficiary, kind="call_back", reason=task_reason,
                    due=add_working_days(saudi_date(answer.at), 2), source={"survey": survey.id}, case=case,
                    key=f"survey_recovery:{survey.id}")
        return None
    return complaint.id


# --- replies on a channel (a digit, then the comment) ---------------------------------------------------

STOP_WORDS = ("stop", "إيقاف", "ايقاف", "توقف")


def pending_for(beneficiary_id: int, now: dt.datetime | None = None) -> Survey | None:
    """The beneficiary's open survey that was sent (the one a reply answers), newest first."""
    now = now or utcnow()
    return (Survey.select().where((Survey.beneficiary == beneficiary_id) & Survey.answered_at.is_null()
                                  & Survey.sent_at.is_null(False) & (Survey.expires_at > now))
            .order_by(Survey.created_at.desc()).first())


def awaiting_comment(beneficiary_id: int, now: dt.datetime | None = None) -> Survey | None:
    now = now or utcnow()
    return (Survey.select().where((Survey.beneficiary == beneficiary_id) & (Survey.comment_until > now))
            .order_by(Survey.answered_at.desc()).first())


def handle_reply(*, beneficiary, channel: str, text: str = "", choice: str = "",
                 now: dt.datetime | None = None) -> str | None:
    """A message from a beneficiary that may answer a survey: a list choice (``survey:<nonce>:<score>``), a
    lone digit 1-5 for their pending survey, the comment that follows it, or STOP. Returns what was done
    (``answered``, ``comment``, ``opted_out``, ``stale``) or None when the message is not about a survey
    (the conversation then goes on as usual)."""
    from ..text import fold_digits

    if beneficiary is None or is_opted_out(beneficiary.id):
        return None  # an opted-out beneficiary's messages are ordinary messages
    now = now or utcnow()
    body = strip_bidi_controls(clean_text(text or "")).strip()
    survey = None
    score = None
    if choice and choice.startswith("survey:"):
        _prefix, _sep, rest = choice.partition(":")
        nonce, _sep, digit = rest.rpartition(":")
        survey = Survey.get_or_none((Survey.nonce == nonce) & (Survey.beneficiary == beneficiary.id))
        if survey is None or survey.answered_at is not None or survey.expires_at <= now:
            return "stale"  # an unknown or already answered survey: nothing is written
        score = int(digit) if digit.isdigit() and 1 <= int(digit) <= 5 else None
        if score is None:
            return "stale"
    elif body.casefold() in STOP_WORDS and pending_for(beneficiary.id, now) is not None:
        opt_out(beneficiary, via="reply")
        return "opted_out"
    elif len(fold_digits(body)) == 1 and fold_digits(body) in "12345":
        survey = pending_for(beneficiary.id, now)
        if survey is None:
            return None
        score = int(fold_digits(body))
    else:
        waiting = awaiting_comment(beneficiary.id, now)
        if waiting is None or not body:
            return None
        answer = SurveyAnswer.get_or_none(SurveyAnswer.survey == waiting.id)
        with database.atomic():
            Survey.update(comment_until=None).where(Survey.id == waiting.id).execute()
            if answer is not None and not answer.comment:
                SurveyAnswer.update(comment=body[:COMMENT_MAX]).where(SurveyAnswer.id == answer.id).execute()
        return "comment"
    values = AnswerInput(score, None, {}, "", False, False)
    try:
        record_answer(survey, values, via="reply", via_channel=channel, now=now)
    except SurveyError:
        return "stale"
    minutes = int(_cfg("COMMENT_MINUTES"))
    Survey.update(comment_until=now + dt.timedelta(minutes=minutes)).where(Survey.id == survey.id).execute()
    return "answered"


def reply_text(outcome: str, survey_score: int | None = None) -> str:
    with force_locale("ar"):
        if outcome == "answered":
            return _("Thank you for your rating. If you wish, send your comment in one message.")
        if outcome == "comment":
            return _("Thank you, your comment was received.")
        if outcome == "opted_out":
            return _("You will receive no more satisfaction surveys.")
        return _("This survey was already answered or is no longer open. Thank you.")
