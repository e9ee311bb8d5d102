"""The phone desk: call log, caller screen-pop, incoming-call notice, manual logging, linking
unknown numbers, CDR upload; and the Zammad-compatible CTI webhook."""
from __future__ import annotations

import datetime as dt
import hmac
import re

from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from peewee import JOIN
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError as WTFValidationError

from portal.auth import roles_required
from portal.dates import from_saudi, parse_date
from portal.db import utcnow
from portal.exports import Column, export_list
from portal.listing import Sort, keyset_page, period_filter
from portal.models import Beneficiary, TimelineEntry, User
from portal.templating import render
from portal.text import clean_text, fold_digits
from portal.validators import ValidationError, clean_mobile

from . import calls as svc
from .cdr import CdrFileError, import_cdr
from .models import PhoneCall

bp = Blueprint("phone", __name__, template_folder="templates", static_folder="static",
               static_url_path="/phone/static")

PHONE_ROLES = ("officer", "admin")
PAGE_SIZE = 50
POLL_SECONDS = 3


# --- forms -----------------------------------------------------------------------------------------

def _date_ok(form, field):
    try:
        parse_date(field.data)
    except ValidationError as exc:
        raise WTFValidationError(str(exc.message)) from None


def parse_duration(text: str | None) -> int | None:
    """``"3:25"`` -> 205 seconds, ``"1:02:03"`` -> 3723, ``"4"`` -> 240 (minutes); Eastern digits."""
    text = fold_digits(text or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d{1,3}", text):
        return int(text) * 60
    parts = text.split(":")
    if 2 <= len(parts) <= 3 and all(re.fullmatch(r"\d{1,3}", p) for p in parts):
        numbers = [int(p) for p in parts]
        if any(n >= 60 for n in numbers[1:]):
            raise ValueError(text)
        seconds = 0
        for n in numbers:
            seconds = seconds * 60 + n
        return seconds
    raise ValueError(text)


def _duration_ok(form, field):
    try:
        parse_duration(field.data)
    except ValueError:
        raise WTFValidationError(_("Write the duration as minutes:seconds (3:25) or whole minutes (4).")) from None


def _number_ok(form, field):
    try:
        clean_mobile(field.data, saudi_only=False)
    except ValidationError as exc:
        raise WTFValidationError(str(exc.message)) from None


class CallNoteForm(FlaskForm):
    """What the officer adds to a call the PBX reported (and to one logged by hand): topic, outcome, notes,
    follow-up."""

    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=300)])
    outcome = SelectField(_l("Outcome"), choices=[SelectChoice(k, v) for k, v in svc.OUTCOMES.items()],
                          default="answered")
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    follow_up_due = StringField(_l("Follow-up date"), validators=[Optional(), Length(max=20), _date_ok],
                                description=_l("Hijri (1448-05-12) or Gregorian (2026-11-27)"))


class CallForm(CallNoteForm):
    """A call the officer logs by hand: the number, direction, time and length, then the same notes."""

    direction = SelectField(_l("Direction"), choices=[SelectChoice("in", _l("Incoming")),
                                                      SelectChoice("out", _l("Outgoing"))], default="in")
    number = StringField(_l("Phone number"), validators=[DataRequired(), Length(max=40), _number_ok],
                         description=_l("Any format: 050 123 4567, +966…, 00966…, ٠٥٠…"))
    occurred_at = DateTimeLocalField(_l("When"), validators=[Optional()], format="%Y-%m-%dT%H:%M",
                                     description=_l("Leave empty for now"))
    duration = StringField(_l("Duration"), validators=[Optional(), Length(max=10), _duration_ok],
                           description=_l("minutes:seconds"))


# --- the desk ----------------------------------------------------------------------------------------

def _calls_query():
    answerer = User.alias()
    return (PhoneCall.select(PhoneCall, Beneficiary, answerer)
            .join(Beneficiary, JOIN.LEFT_OUTER, on=(PhoneCall.beneficiary == Beneficiary.id), attr="beneficiary")
            .switch(PhoneCall)
            .join(answerer, JOIN.LEFT_OUTER, on=(PhoneCall.answered_by == answerer.id), attr="answered_by"))


CALL_SORTS = {"started": Sort(PhoneCall.started_at, _l("When"))}
KINDS = ("in", "out", "missed")


def call_filters(args, user, errors: dict):
    """The call log's filters, cleaned: ``(query, kept)``; ``kept`` travels in every link."""
    query, kept = _calls_query(), {}
    if args.get("unmatched") == "1":
        query = query.where(PhoneCall.beneficiary.is_null() & (PhoneCall.number != ""))
        kept["unmatched"] = "1"
    kind = args.get("kind") or ""
    if kind == "missed":
        query = query.where(PhoneCall.missed == True)  # noqa: E712
    elif kind in ("in", "out"):
        query = query.where((PhoneCall.direction == kind) & (PhoneCall.missed == False))  # noqa: E712
    if kind in KINDS:
        kept["kind"] = kind
    if args.get("mine") == "1":
        query = query.where(PhoneCall.answered_by == user.id)
        kept["mine"] = "1"
    query = period_filter(query, PhoneCall.started_at, args, errors, kept)
    return query, kept


@bp.get("/phone/")
@roles_required(*PHONE_ROLES)
def index():
    errors = {}
    query, kept = call_filters(request.args, current_user, errors)
    page = keyset_page(query, CALL_SORTS, request.args, id_field=PhoneCall.id, default="started", filters=kept,
                       size=PAGE_SIZE)
    rows = page.rows
    shared = {}
    numbers = list({c.number for c in rows if c.beneficiary_id is None and c.number.startswith("+")})
    if numbers:
        from peewee import fn

        shared = dict(Beneficiary.select(Beneficiary.mobile, fn.COUNT(Beneficiary.id))
                      .where(Beneficiary.mobile.in_(numbers)).group_by(Beneficiary.mobile).tuples())
    return render("phone/index.html", block="call_log", calls=rows, page=page, kept=kept, args=request.args,
                  errors=errors, unmatched=bool(kept.get("unmatched")), shared=shared, poll_seconds=POLL_SECONDS,
                  number=request.args.get("number", "")), (422 if errors else 200)


EXPORT_COLUMNS = [
    Column("started_at", _l("When"), lambda c: c.started_at, "datetime"),
    Column("direction", _l("Direction"), lambda c: c.direction),
    Column("number", _l("Number"), lambda c: c.number),
    Column("file_number", _l("File number"), lambda c: c.beneficiary.file_number if c.beneficiary_id else ""),
    Column("caller", _l("Caller"), lambda c: c.beneficiary.full_name if c.beneficiary_id else ""),
    Column("state", _l("Status"), lambda c: c.state),
    Column("missed", _l("Missed"), lambda c: "1" if c.missed else ""),
    Column("answered_by", _l("Answered by"), lambda c: c.answered_by.full_name if c.answered_by_id else ""),
    Column("duration", _l("Duration (seconds)"), lambda c: c.duration, "number"),
]


@bp.get("/phone/export.<fmt>")
@roles_required(*PHONE_ROLES)
def export(fmt):
    """The call log as filtered on screen, newest first, as CSV or XLSX (the core's export service)."""
    return export_list(fmt, "calls", EXPORT_COLUMNS, filters=call_filters, sorts=CALL_SORTS, id_field=PhoneCall.id,
                       default="started", object_type="call_log")


@bp.get("/phone/lookup")
@roles_required(*PHONE_ROLES)
def lookup():
    """The screen-pop: the full page, or the panel alone for htmx."""
    typed = request.args.get("number", "")
    number, anonymous = svc.normalize_number(typed) if typed.strip() else ("", False)
    pop = svc.screen_pop(number) if number.startswith("+") else None
    if number:
        from portal.audit import audit

        audit("read", "phone_lookup", "", {"number": number})
    return render("phone/lookup.html", block="screen_pop", typed=typed, pop=pop, anonymous=anonymous,
                  pick=request.args.get("pick") == "1", chosen=request.args.get("beneficiary", ""))


@bp.get("/phone/incoming")
@roles_required(*PHONE_ROLES)
def incoming():
    """The incoming-call notice, polled by htmx every few seconds."""
    ringing = svc.ringing_calls(current_user._get_current_object())
    pops = {c.id: svc.screen_pop(c.number, skip_entry=c.entry_id) if c.number.startswith("+") else None
            for c in ringing}
    return render("phone/incoming.html", block="incoming", ringing=ringing, pops=pops, poll_seconds=POLL_SECONDS)


# --- the incoming-call notice on every staff page (page_notices hook) ----------------------------------

DISMISSED_KEY = "phone_dismissed_calls"
DISMISSED_KEEP = 20  # a call rings for a few minutes: the last twenty dismissals are plenty


def _dismissed() -> list[int]:
    """The calls this user dismissed, kept in the session with the user's id: signing out and in as
    someone else on the same browser starts with none."""
    kept = session.get(DISMISSED_KEY) or {}
    if not isinstance(kept, dict) or kept.get("user") != current_user.get_id():
        return []
    return [i for i in kept.get("calls") or [] if isinstance(i, int)][-DISMISSED_KEEP:]


def _notice_context(user, ringing=None) -> dict:
    if ringing is None:
        ringing = svc.ringing_calls(user, exclude=_dismissed())
    pops = {c.id: svc.screen_pop(c.number, skip_entry=c.entry_id) if c.number.startswith("+") else None
            for c in ringing}
    return {"ringing": ringing, "pops": pops, "shown": ",".join(str(c.id) for c in ringing),
            "poll_seconds": POLL_SECONDS, "back": _here()}


def _here() -> str:
    """Where the no-JavaScript dismiss button comes back to: the page the notice is drawn on."""
    if request.endpoint not in ("phone.notice", "phone.dismiss"):
        if request.method == "GET":
            return request.full_path if request.query_string else request.path
        # A page drawn as the answer to a form post (a form with errors): back to the form's page.
        return _local_path(_path_of(request.referrer)) or url_for("dashboard.index")
    page = request.form.get("next") or ""
    if not page:  # a poll: htmx says which page it polls from
        page = _path_of(request.headers.get("HX-Current-URL"))
    return _local_path(page) or url_for("dashboard.index")


def _path_of(url: str | None) -> str:
    parts = urlsplit(url or "")
    return parts.path + ("?" + parts.query if parts.query else "")


def _local_path(target: str | None) -> str | None:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def call_notice(user) -> Markup:
    """The notice as drawn on a full page: the polling container with the calls ringing now."""
    return Markup(render_template("phone/_notice.html", **_notice_context(user)))  # nosec B704 # render_template output, autoescaped


@bp.get("/phone/notice")
def notice():
    """What the notice's container polls: its calls, or 204 when they are still the ones shown."""
    if not current_user.is_authenticated:
        # Signed out in another tab or timed out: stop polling (htmx's 286) instead of drawing the sign-in page.
        if request.htmx:
            return "", 286
        return current_app.login_manager.unauthorized()
    if not current_user.has_role(*PHONE_ROLES):
        abort(403)
    if not request.htmx:
        return redirect(url_for("phone.incoming"))
    user = current_user._get_current_object()
    ringing = svc.ringing_calls(user, exclude=_dismissed())
    if request.args.get("shown") == ",".join(str(c.id) for c in ringing):
        return "", 204  # nothing changed: no screen-pop queries, nothing swapped, nothing re-announced
    return render_block("phone/_notice.html", "calls", **_notice_context(user, ringing))


@bp.post("/phone/notice/<int:call_id>/dismiss")
@roles_required(*PHONE_ROLES)
def dismiss(call_id):
    """Hide one ringing call from this user's notice (the Calls page still lists it)."""
    if not PhoneCall.select().where(PhoneCall.id == call_id).exists():
        abort(404)
    kept = [i for i in _dismissed() if i != call_id] + [call_id]
    session[DISMISSED_KEY] = {"user": current_user.get_id(), "calls": kept[-DISMISSED_KEEP:]}
    if request.htmx and not request.htmx.boosted:
        return render_block("phone/_notice.html", "calls", **_notice_context(current_user._get_current_object()))
    return redirect(_local_path(request.form.get("next")) or url_for("dashboard.index"), 303)


def _beneficiary_choice(form: CallForm, raw: str):
    """Resolve the caller from the number and the officer's choice; returns (beneficiary, error)."""
    try:
        number = clean_mobile(form.number.data, saudi_only=False)
    except ValidationError:
        return None, None
    matches = svc.match_beneficiaries(number)
    if raw == "none":
        return None, None
    if raw:
        chosen = next((b for b in matches if str(b.id) == raw), None)
        if chosen is None:
            return None, _("Choose one of the beneficiaries with this number, or “unknown caller”.")
        return chosen, None
    if len(matches) == 1:
        return matches[0], None
    if len(matches) > 1:
        return None, _("Several beneficiaries share this number: choose who called.")
    return None, None


@bp.route("/phone/calls/new", methods=["GET", "POST"])
@roles_required(*PHONE_ROLES)
def new_call():
    if request.method == "GET":
        form = CallForm(formdata=request.args if request.args else None, meta={"csrf": False})
        if request.args:
            form.validate()  # show problems with what was typed, e.g. a number that does not parse
            form.topic.errors = []
        return _call_page(form, request.args.get("beneficiary", ""))
    form = CallForm()
    chosen_raw = request.form.get("beneficiary", "")
    valid = form.validate()
    beneficiary, choice_error = _beneficiary_choice(form, chosen_raw) if valid or form.number.data else (None, None)
    occurred = form.occurred_at.data
    if occurred is not None:
        occurred = from_saudi(occurred)  # typed in Saudi time, stored in UTC
        if occurred > utcnow() + dt.timedelta(minutes=5):
            form.occurred_at.errors = [*form.occurred_at.errors, _("A call cannot be in the future.")]
            valid = False
    if not valid or choice_error:
        return _call_page(form, chosen_raw, choice_error), 422
    number = clean_mobile(form.number.data, saudi_only=False)
    actor = current_user._get_current_object()
    svc.log_manual_call(
        direction=form.direction.data, number=number, beneficiary=beneficiary,
        occurred_at=occurred or utcnow(), duration=parse_duration(form.duration.data),
        topic=clean_text(form.topic.data), outcome=form.outcome.data, notes=clean_text(form.notes.data or ""),
        follow_up_due=parse_date(form.follow_up_due.data), actor=actor,
    )
    flash(_("The call was logged."), "success")
    if beneficiary is not None:
        return redirect(url_for("beneficiaries.profile", ben_id=beneficiary.id) + "#timeline")
    return redirect(url_for("phone.index", unmatched="1"))


def _call_page(form: CallForm, chosen: str, choice_error: str | None = None):
    number = ""
    if form.number.data:
        number, _anon = svc.normalize_number(form.number.data)
    pop = svc.screen_pop(number) if number.startswith("+") else None
    return render("phone/call_form.html", form=form, pop=pop, typed=form.number.data or "", pick=True,
                  chosen=chosen, choice_error=choice_error, anonymous=False)


def _load_call(call_id: int):
    call = _calls_query().where(PhoneCall.id == call_id).first()
    if call is None or call.entry_id is None:
        abort(404)
    return call, TimelineEntry.get_by_id(call.entry_id)


@bp.route("/phone/calls/<int:call_id>", methods=["GET", "POST"])
@roles_required(*PHONE_ROLES)
def call_detail(call_id):
    """One call: what the PBX reported, and the officer's topic, outcome, notes and follow-up."""
    call, entry = _load_call(call_id)
    data = entry.data or {}
    if request.method == "GET":
        form = CallNoteForm(data={"topic": data.get("topic", ""), "outcome": data.get("outcome", "answered"),
                                  "notes": entry.body, "follow_up_due": entry.follow_up_due.isoformat()
                                  if entry.follow_up_due else ""})
        from portal.audit import audit

        audit("read", "phone_call", call.id, {"beneficiary": call.beneficiary_id})
        return _detail_page(call, entry, form, str(call.beneficiary_id or ""))
    form = CallNoteForm()
    chosen_raw = request.form.get("beneficiary", "")
    matches = svc.match_beneficiaries(call.number) if call.number else []
    beneficiary, choice_error = call.beneficiary, None
    if chosen_raw == "none":
        beneficiary = None if call.beneficiary_id is None or call.beneficiary_id in {b.id for b in matches} \
            else call.beneficiary
    elif chosen_raw:
        beneficiary = next((b for b in matches if str(b.id) == chosen_raw), None)
        if beneficiary is None:
            choice_error = _("Choose one of the beneficiaries with this number, or “unknown caller”.")
    elif call.beneficiary_id is None and len(matches) > 1:
        choice_error = _("Several beneficiaries share this number: choose who called.")
    if not form.validate() or choice_error:
        return _detail_page(call, entry, form, chosen_raw, choice_error), 422
    svc.annotate_call(call, entry, beneficiary=beneficiary, topic=clean_text(form.topic.data),
                      outcome=form.outcome.data, notes=clean_text(form.notes.data or ""),
                      follow_up_due=parse_date(form.follow_up_due.data),
                      actor=current_user._get_current_object())
    flash(_("The call was saved."), "success")
    if beneficiary is not None:
        return redirect(url_for("beneficiaries.profile", ben_id=beneficiary.id) + "#timeline")
    return redirect(url_for("phone.index"))


def _detail_page(call, entry, form, chosen, choice_error=None):
    pop = svc.screen_pop(call.number) if call.number.startswith("+") else None
    return render("phone/call_detail.html", call=call, entry=entry, data=entry.data or {}, form=form, pop=pop,
                  chosen=chosen, choice_error=choice_error, outcomes=svc.OUTCOMES, causes=svc.CAUSE_LABELS)


@bp.post("/phone/numbers/link")
@roles_required(*PHONE_ROLES)
def link_number():
    number, _anon = svc.normalize_number(request.form.get("number", ""))
    if not number:
        abort(400)
    ben = svc.find_beneficiary(request.form.get("beneficiary", ""))
    if ben is None:
        flash(_("No beneficiary has this file number or ID number. The calls were not moved."), "error")
        return redirect(url_for("phone.index", unmatched="1")), 303
    moved = svc.link_number(number, ben, actor=current_user._get_current_object())
    flash(ngettext("%(num)s call from %(number)s moved to %(name)s's timeline.",
                   "%(num)s calls from %(number)s moved to %(name)s's timeline.", moved,
                   number=svc.local_display(number), name=ben.full_name), "success")
    return redirect(url_for("beneficiaries.profile", ben_id=ben.id) + "#timeline"), 303


@bp.route("/phone/cdr", methods=["GET", "POST"])
@roles_required(*PHONE_ROLES)
def cdr_upload():
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            error = _("Choose a CDR file (Master.csv or a FreePBX CSV export).")
        else:
            try:
                report = import_cdr(upload.stream, file_name=upload.filename[:200],
                                    actor=current_user._get_current_object())
            except CdrFileError as exc:
                error = str(exc.message)
    status = 422 if error else 200
    max_mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return render("phone/cdr.html", block="cdr_result" if request.method == "POST" else None,
                  report=report, error=error, max_mb=max_mb), status


# --- CTI webhook --------------------------------------------------------------------------------------

@bp.post("/api/v1/cti/<token>")
def cti(token):
    """Zammad-compatible generic CTI: newCall / answer / hangup, JSON or form data; answers ``{}``."""
    expected = str(current_app.config["PHONE_CTI_TOKEN"] or "")
    if not expected or not hmac.compare_digest(token.encode("utf-8"), expected.encode("utf-8")):
        return jsonify({"error": "invalid CTI token"}), 403
    if request.is_json:
        values = request.get_json(silent=True)
        if not isinstance(values, dict):
            return jsonify({"error": "the body is not a JSON object"}), 400
    else:
        values = request.form.to_dict(flat=True)
        users = request.form.getlist("user[]") or request.form.getlist("user")
        values.pop("user[]", None)
        values["user"] = users
    try:
        svc.handle_cti(values)
    except svc.CtiError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify({})
