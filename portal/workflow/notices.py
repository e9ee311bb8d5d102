"""A notice to the beneficiary on every step of a request, and the one way every message to a
beneficiary goes out (``deliver``): once per key, with contact consent, quiet hours and the daily cap,
routed to the first channel that takes it.

The notices hang off ``case_status_changed`` (``portal.workflow.hooks``): one per status change, keyed by
the request and its version, so a retry or a double submission never sends twice. Their wording is the
admins' (``NoticeText``, ``/admin/notices``), in Arabic and English, with placeholders such as
``{reference}``; without a row the defaults below apply. Plugins add placeholders through the
``notice_context`` hook (a rating link on the "served" notice...).

Routing (``route``): the beneficiary's preferred channel first, then the channels in the order of their
``route`` rank (``channel_info``), each asked through ``send_message`` with ``channel`` set to it; the first
that accepts sends. Channel keys are never written here: the ranks come from the plugins.
"""
from __future__ import annotations

import datetime as dt
import re
import string

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from ..db import database, utcnow
from ..dates import SAUDI_OFFSET, format_gregorian, format_hijri, saudi_date
from ..plugins import hook
from ..text import isolate

# Which purpose each status's notice carries (channel plugins choose a template or a subject by it).
PURPOSES = {
    "submitted": "case_reference",
    "incomplete": "missing_documents",
    "in_research": "research_referral",
    "awaiting_committee": "committee_expected_reply",
    "approved": "decision",
    "rejected": "decision",
    "registered": "registration",
    "served": "service",
    "closed": "case_closed",
    "withdrawn": "case_withdrawn",
}
BULK = "bulk"  # the key of the wording officers start a bulk message from (no placeholders but {name})
KEYS = tuple(PURPOSES) + (BULK,)
KEY_LABELS = {
    "submitted": _l("Request received"), "incomplete": _l("Documents missing"),
    "in_research": _l("Referred to social research"), "awaiting_committee": _l("Awaiting the committee"),
    "approved": _l("Approved"), "rejected": _l("Rejected"), "registered": _l("Registered"),
    "served": _l("Served"), "closed": _l("Closed"), "withdrawn": _l("Withdrawn"), BULK: _l("Bulk message"),
}

# Sent whether or not the beneficiary agreed to be contacted: the decision on their request (the law
# requires it) and answers to something the person just did (their new reference, a one-time code, the
# answer to the question or complaint they sent).
WITHOUT_CONSENT = ("decision", "case_reference", "one_time_code", "inquiry_answer", "complaint_answer")
# Exempt from the quiet hours and the daily cap.
URGENT = ("one_time_code",)

# The placeholders the core fills, by notice key; plugins add theirs (``notice_context``).
COMMON = ("name", "reference", "status", "org")
PLACEHOLDERS = {
    "submitted": COMMON + ("expected_date", "tracking_link"),
    "incomplete": COMMON + ("missing", "note", "upload_link"),
    "in_research": COMMON,
    "awaiting_committee": COMMON + ("expected_date",),
    "approved": COMMON + ("amount", "conditions"),
    "rejected": COMMON + ("reasons", "review"),
    "registered": COMMON,
    "served": COMMON,
    "closed": COMMON,
    "withdrawn": COMMON,
    BULK: ("name", "org"),
}

# The defaults shipped with the portal. A line whose placeholder has no value is left out (a request
# without a tracking link, a rejection without a review note).
DEFAULTS = {
    "submitted": (
        "وصل طلبك رقم {reference}. سنرد عليك قبل {expected_date}.\nتابع طلبك: {tracking_link}",
        "We received your request {reference}. We will reply by {expected_date}.\nTrack it: {tracking_link}"),
    "incomplete": (
        "طلبك رقم {reference} غير مكتمل. نرجو إحضار أو إرسال:\n{missing}\n{note}\nأرسل المستندات من: {upload_link}\n"
        "أو أحضرها إلى مقر الجمعية.",
        "Your request {reference} is incomplete. Please bring or send:\n{missing}\n{note}\n"
        "Send the documents here: {upload_link}\nor bring them to the association's office."),
    "in_research": (
        "أحيل طلبك رقم {reference} إلى البحث الاجتماعي، وسيتواصل معك باحث من الجمعية.",
        "Your request {reference} has been referred to social research; a researcher will contact you."),
    "awaiting_committee": (
        "رُفع طلبك رقم {reference} إلى لجنة البحث. الرد المتوقع قبل {expected_date}.",
        "Your request {reference} has been raised to the research committee. Expected reply by {expected_date}."),
    "approved": (
        "وافقت لجنة البحث على طلبك رقم {reference}.\nالمبلغ المعتمد: {amount}\nالشروط: {conditions}\n"
        "سنتواصل معك لاستكمال التسجيل.",
        "The research committee approved your request {reference}.\nAmount approved: {amount}\n"
        "Conditions: {conditions}\nWe will contact you to complete the registration."),
    "rejected": (
        "نأسف، لم توافق لجنة البحث على طلبك رقم {reference}.\nالأسباب: {reasons}\n{review}",
        "We regret that the research committee did not approve your request {reference}.\nReasons: {reasons}\n"
        "{review}"),
    "registered": (
        "اكتمل تسجيلك في الجمعية لطلبك رقم {reference}. سنبلغك بموعد تقديم الخدمة.",
        "Your registration for request {reference} is complete. We will tell you when the support is given."),
    "served": (
        "قُدمت لك الخدمة عن طلبك رقم {reference}. شكرًا لك.\nقيّم الخدمة: {rating_link}",
        "The support for your request {reference} has been given. Thank you.\nRate the service: {rating_link}"),
    "closed": (
        "أُغلق طلبك رقم {reference}. يمكنك التواصل معنا في أي وقت.",
        "Your request {reference} has been closed. You can contact us at any time."),
    "withdrawn": (
        "سُحب طلبك رقم {reference} بناءً على طلبك. يمكنك تقديم طلب جديد متى شئت.",
        "Your request {reference} has been withdrawn. You may apply again at any time."),
    BULK: ("مرحبًا {name}،\n", "Hello {name},\n"),
}
# The review a rejected applicant may ask for, in both languages (a default value of {review}).
REVIEW = ("لطلب إعادة النظر في القرار، راجع الجمعية أو اتصل بنا خلال ٣٠ يومًا.",
          "To ask for a review of the decision, visit or call the association within 30 days.")


class NoticeTextError(ValueError):
    """A wording that cannot be saved; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(str(v) for v in errors.values()))
        self.errors = errors


# --- wording ---------------------------------------------------------------------------------------

def wording(key: str, row=False) -> dict:
    """``{"ar", "en", "template", "custom"}`` for a notice key: the admins' row or the defaults (``row``:
    the row already read, or None when there is none)."""
    from .models import NoticeText

    if row is False:
        row = NoticeText.get_or_none(NoticeText.key == key)
    if row is not None:
        return {"ar": row.text_ar, "en": row.text_en, "template": row.template, "custom": True, "row": row}
    ar, en = DEFAULTS[key]
    # no template name: the channel's own template for the purpose (the social plugin's SOCIAL_TEMPLATES)
    return {"ar": ar, "en": en, "template": "", "custom": False, "row": None}


def allowed_placeholders(key: str) -> tuple[str, ...]:
    """The core's placeholders for ``key`` and those the plugins say they fill (``notice_context`` asked
    with ``case=None``)."""
    names = list(PLACEHOLDERS.get(key, COMMON))
    for extra in hook().notice_context(case=None, purpose=PURPOSES.get(key, key)) or []:
        for name in (extra or {}):
            if name not in names:
                names.append(name)
    if key == "served" and "rating_link" not in names:
        names.append("rating_link")  # filled when a satisfaction feature answers; the line is left out otherwise
    return tuple(names)


def placeholders_in(text: str) -> list[str]:
    """The ``{names}`` used in ``text``; raises ValueError for a brace that is not a placeholder."""
    names = []
    for _literal, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        if not re.fullmatch(r"[a-z_]+", field) or spec or conversion:
            raise ValueError(field)
        names.append(field)
    return names


def check_text(key: str, text: str, field: str, errors: dict) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        errors[field] = _l("Write the text.")
        return text
    if len(text) > 1000:
        errors[field] = _l("Too long: at most %(n)s characters.", n=1000)
        return text
    try:
        used = placeholders_in(text)
    except ValueError as exc:
        errors[field] = _l("“%(text)s” is not a placeholder: write placeholders as {name}; a brace alone cannot "
                           "be used.", text=str(exc) or "{}")
        return text
    allowed = allowed_placeholders(key)
    unknown = [n for n in dict.fromkeys(used) if n not in allowed]
    if unknown:
        errors[field] = _l("Unknown placeholder %(names)s. This notice can use: %(allowed)s.",
                           names=", ".join("{%s}" % n for n in unknown),
                           allowed=", ".join("{%s}" % n for n in allowed))
    return text


def save_wording(key: str, *, text_ar: str, text_en: str, template: str, actor) -> None:
    """Validate and save an admin's wording (one transaction, audited). Raises ``NoticeTextError``."""
    from ..audit import audit
    from .models import NoticeText

    if key not in KEYS:
        raise NoticeTextError({"key": _l("Unknown notice.")})
    errors: dict = {}
    text_ar = check_text(key, text_ar, "text_ar", errors)
    text_en = check_text(key, text_en, "text_en", errors)
    template = (template or "").strip()
    if template and not re.fullmatch(r"[a-z0-9_]{1,100}", template):
        errors["template"] = _l("A WhatsApp template name has lower-case letters, digits and “_” only.")
    if errors:
        raise NoticeTextError(errors)
    with database.atomic():
        row = NoticeText.get_or_none(NoticeText.key == key)
        if row is None:
            NoticeText.create(key=key, text_ar=text_ar, text_en=text_en, template=template, updated_by=actor)
        else:
            NoticeText.update(text_ar=text_ar, text_en=text_en, template=template, updated_at=utcnow(),
                              updated_by=actor).where(NoticeText.id == row.id).execute()
        audit("update", "notice_text", key, {"template": template}, actor=actor)


def reset_wording(key: str, *, actor) -> None:
    from ..audit import audit
    from .models import NoticeText

    with database.atomic():
        if NoticeText.delete().where(NoticeText.key == key).execute():
            audit("delete", "notice_text", key, {}, actor=actor)


def fill(text: str, values: dict) -> str:
    """Put ``values`` into ``text``. A line with a placeholder that has no value is left out; values
    never carry placeholders of their own into the text."""
    out = []
    for line in text.split("\n"):
        try:
            names = placeholders_in(line)
        except ValueError:
            out.append(line)
            continue
        if any(values.get(n) in (None, "") for n in names):
            continue
        out.append(line.format_map({n: str(values[n]) for n in names}))
    return "\n".join(line for line in out).strip()


# --- the values of a request's notice --------------------------------------------------------------

def _date(day: dt.date | None, lang: str) -> str:
    if day is None:
        return ""
    return f"{isolate(format_hijri(day, lang))} ({isolate(format_gregorian(day, lang))})"


def _amount(value, lang: str) -> str:
    if value is None:
        return ""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return isolate(text) + (" ريال" if lang == "ar" else " SAR")


def _missing(case, lang: str) -> str:
    from ..labels import DOCUMENT_KIND

    lines = []
    with force_locale(lang):
        for item in case.missing_documents or []:
            label = str(DOCUMENT_KIND.get(item.get("kind"), item.get("kind")))
            if item.get("state") == "expired" and item.get("expiry_date"):
                day = dt.date.fromisoformat(item["expiry_date"])
                lines.append("- " + _("%(doc)s (expired on %(date)s)", doc=label,
                                      date=isolate(format_hijri(day, lang))))
            else:
                lines.append("- " + _("%(doc)s (missing)", doc=label))
    return "\n".join(lines)


def _note(case) -> str:
    """The officer's note on the change just made (e.g. a document found unreadable)."""
    from ..models import TimelineEntry

    entry = (TimelineEntry.select(TimelineEntry.body, TimelineEntry.data)
             .where((TimelineEntry.case == case.id) & (TimelineEntry.direction == "internal"))
             .order_by(TimelineEntry.id.desc()).first())
    if entry is None or (entry.data or {}).get("kind") != "case_status":
        return ""
    return entry.body or ""


def plugin_values(case, key: str) -> dict:
    """What the plugins add to ``case``'s notice ``key`` (``notice_context``), raw."""
    extras: dict = {}
    for extra in hook().notice_context(case=case, purpose=PURPOSES.get(key, key)) or []:
        for name, value in (extra or {}).items():
            if value not in (None, "") and extras.get(name) in (None, ""):
                extras[name] = str(value)
    return extras


def values_for(case, key: str, lang: str = "ar", extras: dict | None = None) -> dict:
    """Every placeholder's value for ``case``'s notice ``key`` in ``lang``; references, amounts and
    dates are isolated. Plugins add theirs (``notice_context``, or ``extras`` already asked)."""
    from ..labels import CASE_STATUS
    from .research import expected_reply_date

    ben = case.beneficiary
    with force_locale(lang):
        values = {
            "name": ben.first_name if ben is not None else "",
            "reference": isolate(case.reference),
            "status": str(CASE_STATUS.get(case.status, case.status)),
            "org": current_app.config["ORG_NAME_AR" if lang == "ar" else "ORG_NAME_EN"],
        }
    if "expected_date" in PLACEHOLDERS.get(key, ()):
        values["expected_date"] = _date(expected_reply_date(case), lang)
    if key == "incomplete":
        values["missing"] = _missing(case, lang)
        values["note"] = _note(case)
    if key == "approved":
        values["amount"] = _amount(case.amount, lang)
        if case.quantity is not None and case.amount is None:
            values["amount"] = isolate(str(case.quantity))
        values["conditions"] = case.conditions or ""
    if key == "rejected":
        values["reasons"] = case.decision_reasons or ""
        values["review"] = REVIEW[0 if lang == "ar" else 1]
    for name, value in (plugin_values(case, key) if extras is None else extras).items():
        if values.get(name) in (None, ""):
            values[name] = isolate(value) if name.endswith(("_link", "_date")) else value
    return values


def render(case, key: str, lang: str = "ar", text: str | None = None, extras: dict | None = None) -> str:
    """The notice ``key`` for ``case`` in ``lang`` (the saved wording, or ``text`` for a preview)."""
    if text is None:
        text = wording(key)[lang]
    return fill(text, values_for(case, key, lang, extras))


def sample_values(key: str, lang: str) -> dict:
    """Made-up values for the admin's preview."""
    day = saudi_date(utcnow()) + dt.timedelta(days=14)
    with force_locale(lang):
        return {
            "name": "سارة" if lang == "ar" else "Sara", "reference": isolate("1448-000123"),
            "status": str(KEY_LABELS.get(key, key)), "org": current_app.config["ORG_NAME_AR" if lang == "ar"
                                                                                 else "ORG_NAME_EN"],
            "expected_date": _date(day, lang),
            "tracking_link": isolate("https://example.org/site/track/…"),
            "upload_link": isolate("https://example.org/site/track/…"),
            "missing": "- " + _("%(doc)s (missing)", doc=_("Family card")),
            "note": "", "amount": _amount(1500, lang), "conditions": "",
            "reasons": "الدخل أعلى من حد الاستحقاق" if lang == "ar" else "Income above the eligibility limit",
            "review": REVIEW[0 if lang == "ar" else 1],
            "rating_link": isolate("https://example.org/rate/…"),
        }


# --- the status-change listener --------------------------------------------------------------------

def on_status_changed(case, old: str, new: str, actor) -> None:
    """The notice of ``case``'s new status (inside the transition's transaction): one per change."""
    if new not in PURPOSES or case.beneficiary_id is None:
        return
    ben = case.beneficiary
    if ben is None or ben.erased_at:
        return
    from .models import Notice

    key = f"case:{case.id}:v{case.version}"
    if Notice.select().where(Notice.key == key).exists():
        return  # this change was announced already (a replayed hook)
    extras = plugin_values(case, new)  # asked once: a plugin may issue a one-time link
    text = render(case, new, "ar", extras=extras)
    if not text:
        return
    context = dict(extras, reference=case.reference, status=new)
    template = wording(new)["template"]
    if template:
        context["template"] = template
    deliver(ben, text, PURPOSES[new], key=key, case=case, actor=actor, context=context)


# --- delivery: consent, quiet hours, daily cap, routing ---------------------------------------------

def route(beneficiary, text: str, purpose: str, context: dict) -> dict | None:
    """Ask the channels in order (preferred first, then by their ``route`` rank); the first answer wins."""
    from ..plugins import channel_map

    ranked = sorted(((info.get("route"), key) for key, info in channel_map().items()
                     if isinstance(info.get("route"), int)))
    order = [key for _rank, key in ranked]
    preferred = beneficiary.preferred_channel or ""
    if preferred and preferred in channel_map():
        order = [preferred] + [k for k in order if k != preferred]
    for key in order:
        result = hook().send_message(beneficiary=beneficiary, text=text, purpose=purpose, channel=key,
                                     context=dict(context))
        if result:
            return result
    if not order:  # no channel declares a route: let any sender answer
        return hook().send_message(beneficiary=beneficiary, text=text, purpose=purpose,
                                   channel=preferred or None, context=dict(context))
    return None


def may_contact(notice) -> bool:
    ben = notice.beneficiary
    return bool(ben.consent_contact or notice.purpose in WITHOUT_CONSENT
                or (notice.context or {}).get("without_consent"))


def daily_cap() -> int:
    return int(current_app.config["NOTICES_DAILY_CAP"])


def _sent_today(beneficiary_id: int, now: dt.datetime) -> int:
    from .models import Notice

    start = dt.datetime.combine(saudi_date(now), dt.time()) - SAUDI_OFFSET
    return (Notice.select().where((Notice.beneficiary == beneficiary_id) & (Notice.sent_at >= start)
                                  & (Notice.urgent == False) & Notice.state.in_(("sent", "queued")))  # noqa: E712
            .count())


def _next_morning(now: dt.datetime) -> dt.datetime:
    """The start of the next Saudi day (the quiet hours, when set, push it to their end)."""
    return dt.datetime.combine(saudi_date(now) + dt.timedelta(days=1), dt.time()) - SAUDI_OFFSET


def hold_reason(notice, now: dt.datetime) -> tuple[str, dt.datetime] | None:
    """Why ``notice`` may not go at ``now``, and until when: the quiet hours, then the daily cap."""
    from ..quiet import quiet_until

    if notice.urgent:
        return None
    until = quiet_until(now, current_app.config.get("QUIET_HOURS"), notice.purpose)
    if until is not None:
        return "quiet", until
    cap = daily_cap()
    if cap and notice.beneficiary_id and _sent_today(notice.beneficiary_id, now) >= cap:
        return "cap", _next_morning(now)
    return None


def deliver(beneficiary, text: str, purpose: str, *, key: str | None = None, case=None, actor=None,
            context: dict | None = None, urgent: bool | None = None, without_consent: bool = False,
            now: dt.datetime | None = None):
    """Send ``text`` to ``beneficiary`` once per ``key``: the message is written as a ``Notice``, then
    sent now through ``route`` or held (quiet hours, daily cap) until the periodic job sends it.
    A beneficiary who did not agree to be contacted gets only ``WITHOUT_CONSENT`` purposes (or what the
    caller marks ``without_consent``: kept in the notice's context). Every
    outcome is on the timeline. Returns the ``Notice`` (None when ``key`` was already used: nothing is
    sent twice)."""
    from ..text import isolate_tokens
    from .models import Notice

    now = now or utcnow()
    urgent = purpose in URGENT if urgent is None else urgent
    ctx = dict(context or {})
    if without_consent:
        ctx["without_consent"] = True
    if case is not None:
        ctx.setdefault("reference", case.reference)
    text = isolate_tokens(text)
    key = key or f"once:{purpose}:{beneficiary.id}:{now.isoformat()}"
    try:
        with database.atomic():
            notice = Notice.create(key=key[:120], beneficiary=beneficiary, case=case, purpose=purpose[:40],
                                   text=text, context=ctx, urgent=urgent, due_at=now, actor=actor, created_at=now)
    except IntegrityError:
        return None
    with database.atomic():
        if not may_contact(notice):
            entry = _log(notice, "no_consent")
            Notice.update(state="no_consent", entry=entry).where(Notice.id == notice.id).execute()
            return Notice.get_by_id(notice.id)
        held = hold_reason(notice, now)
        if held is not None:
            reason, until = held
            entry = _log(notice, "held", until=until, reason=reason)
            Notice.update(held=reason, due_at=until, entry=entry).where(Notice.id == notice.id).execute()
            return Notice.get_by_id(notice.id)
    return send_now(notice, now)


def send_now(notice, now: dt.datetime | None = None):
    """Route a notice and record what became of it (one transaction)."""
    from .models import Notice

    now = now or utcnow()
    ben = notice.beneficiary
    with database.atomic():
        claimed = Notice.update(state="sending").where((Notice.id == notice.id) & (Notice.state == "waiting")).execute()
        if claimed != 1:
            return Notice.get_by_id(notice.id)
        result = route(ben, notice.text, notice.purpose, notice.context or {})
        queued = bool(result) and result.get("state") == "queued"
        state = "queued" if queued else ("sent" if result else "not_sent")
        entry = _log(notice, state, result=result)
        Notice.update(state=state, held="", channel=(result or {}).get("channel", "")[:30] if result else "",
                      sent_at=now if result else None, entry=entry).where(Notice.id == notice.id).execute()
        if not result:
            from ..outbox import keep

            keep(ben, notice.text, notice.purpose, case=notice.case, entry=entry)
    fresh = Notice.get_by_id(notice.id)
    fresh.result = result  # the channel's answer, for the caller
    return fresh


def _log(notice, state: str, *, result: dict | None = None, until: dt.datetime | None = None, reason: str = ""):
    """The notice's timeline entry: sent, waiting, held (why, until when), not sent, no consent."""
    from ..plugins import channel_map
    from ..timeline import log_entry

    with force_locale("ar"):
        if state == "queued":
            summary = _("Message to the beneficiary waiting to be sent")
        elif state == "sent":
            summary = _("Message sent to the beneficiary")
        elif state == "no_consent":
            summary = _("Message not sent: the beneficiary has not agreed to be contacted")
        elif state == "held" and reason == "cap":
            summary = _("Message held until %(when)s: the daily limit of messages to this beneficiary was reached",
                        when=isolate(_when(until)))
        elif state == "held":
            summary = _("Message held until %(when)s: quiet hours", when=isolate(_when(until)))
        else:
            summary = _("Message not sent: no channel could deliver it")
    data = {"kind": "notification", "purpose": notice.purpose, "sent": state == "sent", "notice": notice.id}
    if state == "queued":
        data["queued"] = True
    if state == "held":  # not "not sent": it goes later, with an entry of its own
        data.update(held=reason, until=until.isoformat(), sent=None)
    if state == "no_consent":
        data["no_consent"] = True
    channel = "system"
    if result:
        data["delivery"] = {"channel": result.get("channel"), "id": str(result.get("id", ""))}
        if result.get("channel") in channel_map():
            channel = result["channel"]
    return log_entry(channel=channel, direction="out", summary=summary, body=notice.text,
                     beneficiary=notice.beneficiary, case=notice.case, actor=notice.actor, data=data)


def _when(moment: dt.datetime) -> str:
    local = moment + SAUDI_OFFSET
    return local.strftime("%Y-%m-%d %H:%M")


def send_due(now: dt.datetime | None = None) -> int:
    """The held notices whose time has come (the periodic job): each is checked again (quiet hours,
    cap, consent) and sent or held anew. Returns how many were sent or handed to a channel."""
    from .models import Notice

    now = now or utcnow()
    due = list(Notice.select().where((Notice.state == "waiting") & (Notice.held != "") & (Notice.due_at <= now))
               .order_by(Notice.due_at, Notice.id).limit(500))
    count = 0
    for notice in due:
        ben = notice.beneficiary
        if ben is None:
            continue
        with database.atomic():
            if not may_contact(notice):
                entry = _log(notice, "no_consent")
                Notice.update(state="no_consent", held="", entry=entry).where(Notice.id == notice.id).execute()
                continue
            held = hold_reason(notice, now)
            if held is not None:
                reason, until = held
                if (reason, until) != (notice.held, notice.due_at):
                    Notice.update(held=reason, due_at=until).where(Notice.id == notice.id).execute()
                continue
        if send_now(notice, now).state in ("sent", "queued"):
            count += 1
    return count
