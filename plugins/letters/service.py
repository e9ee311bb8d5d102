"""Letters service: templates and versions, issuing numbered PDFs, reissue and revocation, the incoming
registry, OCR and batches. Views, the API, hooks and jobs all go through here."""
from __future__ import annotations

import datetime as dt
import hmac
import io
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from portal import dates
from portal.audit import audit
from portal.db import database, is_postgres, utcnow
from portal.sequences import next_value
from portal.text import clean_text, isolate, normalize_name
from portal.timeline import log_entry
from portal.uploads import path_for, read_stored, store_bytes
from portal.validators import ValidationError

from . import pdfwork, render, signing
from .builtin import BUILTIN
from .models import IncomingLetter, Letter, LetterBatch, LetterTemplate, LetterTemplateVersion

OUT_PREFIX = "ص"
IN_PREFIX = "و"
PLACEHOLDER_NUMBER = f"{OUT_PREFIX}-0000-000000"
EXTRA_KINDS = ("line", "text", "date", "optional")


class IssueError(Exception):
    """A letter cannot be issued; ``message`` is for the officer, ``field`` names the merge field."""

    def __init__(self, message, field: str | None = None, line: int | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.line = line


# --- templates ----------------------------------------------------------------------------------

@dataclass
class ExtraField:
    key: str
    label_ar: str
    label_en: str
    kind: str

    @property
    def required(self) -> bool:
        return self.kind != "optional"


def parse_extra_fields(spec: str) -> list[ExtraField]:
    """``key|Arabic label|English label|kind`` a line; kind is line, text, date or optional."""
    out = []
    for raw in (spec or "").splitlines():
        if not raw.strip():
            continue
        parts = [p.strip() for p in raw.split("|")]
        key = parts[0]
        if not key.isidentifier() or key.startswith("_"):
            raise render.TemplateProblem(f"extra fields: “{key}” is not a valid field name")
        label_ar = parts[1] if len(parts) > 1 and parts[1] else key
        label_en = parts[2] if len(parts) > 2 and parts[2] else key
        kind = parts[3] if len(parts) > 3 and parts[3] else "line"
        if kind not in EXTRA_KINDS:
            raise render.TemplateProblem(f"extra fields: “{kind}” must be one of {', '.join(EXTRA_KINDS)}")
        out.append(ExtraField(key, label_ar, label_en, kind))
    return out


def ensure_builtins() -> None:
    """Create the built-in templates that do not exist yet (version 1 from ``builtin.py``). Two workers
    starting at once queue on the write lock and the second finds the templates already there."""
    existing = {k for (k,) in LetterTemplate.select(LetterTemplate.key).tuples()}
    if all(spec["key"] in existing for spec in BUILTIN):
        return
    try:
        with _issuing_transaction():
            existing = {k for (k,) in LetterTemplate.select(LetterTemplate.key).tuples()}
            for spec in BUILTIN:
                if spec["key"] in existing:
                    continue
                template = LetterTemplate.create(key=spec["key"], name_ar=spec["name_ar"], name_en=spec["name_en"],
                                                 purpose=spec["purpose"], builtin=True)
                LetterTemplateVersion.create(template=template, number=1, subject=spec["subject"],
                                             body=spec["body"], extra_fields=spec["extra_fields"])
    except IntegrityError:  # another worker created them at the same moment (PostgreSQL)
        pass


def templates(active_only: bool = True) -> list[LetterTemplate]:
    ensure_builtins()
    query = LetterTemplate.select().order_by(LetterTemplate.builtin.desc(), LetterTemplate.id)
    if active_only:
        query = query.where(LetterTemplate.active == True)  # noqa: E712
    return list(query)


def template_by_key(key: str) -> LetterTemplate | None:
    ensure_builtins()
    return LetterTemplate.get_or_none(LetterTemplate.key == key)


def template_for_purpose(purpose: str) -> LetterTemplate | None:
    ensure_builtins()
    return (LetterTemplate.select().where((LetterTemplate.purpose == purpose) & (LetterTemplate.active == True))  # noqa: E712
            .order_by(LetterTemplate.builtin, LetterTemplate.id.desc()).first())


def current_version(template: LetterTemplate) -> LetterTemplateVersion:
    return (LetterTemplateVersion.select().where(LetterTemplateVersion.template == template)
            .order_by(LetterTemplateVersion.number.desc()).get())


def check_version(subject: str, body: str, extra_fields: str) -> None:
    """Raise TemplateProblem (with the line) when any part does not compile."""
    render.check_syntax(subject, "subject")
    render.check_syntax(body, "body")
    parse_extra_fields(extra_fields)


def save_version(template: LetterTemplate, *, subject: str, body: str, css: str, extra_fields: str,
                 actor=None) -> LetterTemplateVersion:
    check_version(subject, body, extra_fields)
    with database.atomic():
        last = (LetterTemplateVersion.select(LetterTemplateVersion.number)
                .where(LetterTemplateVersion.template == template)
                .order_by(LetterTemplateVersion.number.desc()).scalar()) or 0
        version = LetterTemplateVersion.create(template=template, number=last + 1, subject=subject, body=body,
                                               css=css, extra_fields=extra_fields, created_by=actor)
        audit("update", "letter_template", template.id, {"version": version.number}, actor=actor)
    return version


def sample_context(version: LetterTemplateVersion) -> dict:
    """Example data for the editor's preview: every standard field plus each extra field."""
    today = render.riyadh_today()
    ctx = {
        "beneficiary_name": "نورة عبدالله سعد الحربي", "beneficiary_first_name": "نورة",
        "national_id_masked": render.Markup('<bdi dir="ltr">******0008</bdi>'),
        "file_number": render.Markup("<bdi>F-000123</bdi>"), "beneficiary_city": "مكة المكرمة",
        "salutation": "السيدة", "honorific": "المحترمة",
        "case_reference": render.Markup('<bdi dir="ltr">1448-000123</bdi>'),
        "request_type": "مساعدة مالية", "case_status": "معتمد",
        "decision_reasons": "استيفاء شروط الاستحقاق وفق الدراسة الاجتماعية.",
        "amount": render.money(__import__("decimal").Decimal("1500")),
        "submitted_date": render.date_words(today - dt.timedelta(days=10)),
        "expected_reply_date": render.date_words(today + dt.timedelta(days=4)),
        "researcher_name": "خالد سعيد الزهراني", "officer_name": "موظف علاقات المستفيدين",
        "org_name": current_app.config["ORG_NAME_AR"],
    }
    try:
        fields = parse_extra_fields(version.extra_fields)
    except render.TemplateProblem:
        fields = []
    for f in fields:
        ctx[f.key] = render.date_words(today + dt.timedelta(days=7)) if f.kind == "date" else (
            "مثال أول\nمثال ثانٍ" if f.kind == "text" else f.label_ar)
    return ctx


def preview_pdf(version) -> bytes:
    """A draft PDF of the version with example data; raises TemplateProblem / MissingField."""
    doc = render.compose(version, sample_context(version), number=PLACEHOLDER_NUMBER,
                         issued_on=render.riyadh_today(), verify_url=verify_url(PLACEHOLDER_NUMBER, "preview"),
                         draft=True)
    pdf, _pages = render.html_to_pdf(render.document_html(doc))
    return pdf


# --- issuing ------------------------------------------------------------------------------------

def public_base_url() -> str:
    base = current_app.config.get("LETTERS_PUBLIC_URL")
    if not base and has_request_context():
        base = request.host_url
    return (base or "http://127.0.0.1:5000/").rstrip("/") + "/"


def verify_url(number: str, code: str, base: str | None = None) -> str:
    """The public verification address. The path carries the number without its Arabic prefix
    (``1448-000045``), so the QR code and the printed address stay plain ASCII."""
    from urllib.parse import quote

    short = number.split("-", 1)[1] if number.startswith(OUT_PREFIX + "-") else number
    return f"{(base or public_base_url()).rstrip('/')}/letters/verify/{quote(short)}?c={quote(code)}"


def _issuing_transaction():
    """The numbering transaction. On SQLite it takes the write lock at BEGIN (IMMEDIATE), so two
    workers queue at the start instead of failing to upgrade a read lock; on PostgreSQL the counter's
    row lock does the same."""
    if is_postgres() or database.obj.in_transaction():
        return database.atomic()
    # Rendering happens while the lock is held, so another worker may wait for several letters:
    # this connection waits up to LETTERS_LOCK_WAIT seconds instead of the default busy timeout.
    wait_ms = int(float(current_app.config["LETTERS_LOCK_WAIT"]) * 1000)
    database.execute_sql(f"PRAGMA busy_timeout = {wait_ms}")
    return database.atomic("IMMEDIATE")


def clean_extras(version: LetterTemplateVersion, raw: dict) -> tuple[dict, dict]:
    """Typed extra fields -> merge values (dates become Hijri + Gregorian). Returns (values, errors)."""
    values, errors = {}, {}
    for f in parse_extra_fields(version.extra_fields):
        text = clean_text(raw.get(f.key))
        if f.kind != "text":
            text = " ".join(text.split())
        if len(text) > 4000:
            errors[f.key] = _l("Too long: at most %(n)s characters.", n=4000)
            continue
        if not text:
            if f.required:
                errors[f.key] = _l("Please fill in this field.")
            continue
        if f.kind == "date":
            try:
                day = dates.parse_date(text)
            except ValidationError as exc:
                errors[f.key] = exc.message
                continue
            values[f.key] = render.date_words(day)
            values[f.key + "__raw"] = day.isoformat()
        else:
            values[f.key] = text
    return values, errors


def _compose(version, context, **kwargs):
    try:
        return render.compose(version, context, **kwargs)
    except render.MissingField as exc:
        name = f"{exc.name} ({render.FIELD_HELP[exc.name]})" if exc.name in render.FIELD_HELP else exc.name
        raise IssueError(_l("The letter was not issued: the merge field “%(name)s” has no data for this letter.",
                            name=name), field=exc.name) from None
    except render.TemplateProblem as exc:
        raise IssueError(_l("The letter template has an error (%(msg)s); an administrator must fix it.",
                            msg=exc.message), line=exc.line) from None


def _prepare_signing():
    """The signing certificate when signing is configured (None otherwise). A certificate that cannot be
    used stops the letter before a number is taken."""
    try:
        return signing.prepare()
    except signing.SigningProblem as exc:
        raise IssueError(_l("The letter was not issued: letters are signed digitally and the signing certificate "
                            "cannot be used (%(problem)s). An administrator can see the details on the letters "
                            "status page.", problem=exc.message)) from None


def signing_problem():
    """What the issue form warns about before anything is filled in: None when letters can be issued
    (signing not configured, or a usable certificate)."""
    try:
        signing.prepare()
    except signing.SigningProblem as exc:
        return _l("No letter can be issued now: letters are signed digitally and the signing certificate cannot be "
                  "used (%(problem)s). An administrator can see the details on the letters status page.",
                  problem=exc.message)
    return None


def _sign(pdf: bytes, number: str, prepared) -> bytes:
    try:
        return signing.sign_pdf(pdf, number, prepared)
    except Exception as exc:  # pyHanko's errors have no common base; the transaction is rolled back
        current_app.logger.exception("signing letter %s failed", number)
        raise IssueError(_l("The letter was not issued: signing its PDF failed (%(error)s).",
                            error=str(exc)[:200])) from None


PREVIEW_WATERMARK = "معاينة — لم يصدر"


def survey_url(template, beneficiary, case) -> str:
    """The satisfaction survey's link the core offers for this letter (``document_extras``): printed as a QR
    code on the service receipt and the decision letters, so the beneficiary can rate the service."""
    from portal.plugins import hook

    for extras in hook().document_extras(beneficiary=beneficiary, case=case, purpose=template.purpose):
        if extras and extras.get("survey_url"):
            return str(extras["survey_url"])
    return ""


def preview_letter(*, template: LetterTemplate, beneficiary=None, case=None, actor=None, extra: dict | None = None,
                   recipient: str = "") -> bytes:
    """The PDF the letter would be, with this data, before it is issued: the same template, merge fields
    and layout, with a "preview — not issued" watermark, no registry number and no QR code. Takes no
    number, writes nothing and is never signed. Raises IssueError like ``issue_letter``."""
    if case is not None and beneficiary is None:
        beneficiary = case.beneficiary
    version = current_version(template)
    context = render.merge_fields(beneficiary=beneficiary, case=case, officer=actor,
                                  extra={k: v for k, v in (extra or {}).items() if not k.endswith("__raw")})
    doc = _compose(version, context, number="", issued_on=render.riyadh_today(), recipient=clean_text(recipient)[:200],
                   draft=True)
    doc.watermark = PREVIEW_WATERMARK
    pdf, _pages = render.html_to_pdf(render.document_html(doc))
    return pdf


def letter_for_token(token: str | None) -> Letter | None:
    """The letter an issue form's one-time token already produced (a second click, a resent form)."""
    if not token:
        return None
    return Letter.get_or_none(Letter.issue_token == token)


def issue_letter(*, template: LetterTemplate, beneficiary=None, case=None, actor=None, extra: dict | None = None,
                 recipient: str = "", replaces: Letter | None = None, batch: LetterBatch | None = None,
                 base_url: str | None = None, token: str | None = None) -> Letter:
    """Number, render and store one letter; put it on the timeline.

    Three steps, so the PDF is drawn while no lock is held: a short transaction takes the next number and
    writes the registry row as "issuing"; the PDF is rendered (and signed) outside any transaction; a second
    short transaction stores it and makes the letter "valid", with its timeline entry and audit. A render or
    signing failure after the number was taken marks the row "spoiled" with the reason (audited, shown in the
    registry): the number is never a silent gap. A process that dies between the two leaves the row "issuing",
    shown as such, until ``settle_stalled`` marks it spoiled. Called inside a transaction (a reissue, a status
    change), the three steps are savepoints of it: a failure there is rolled back with it, number included.

    ``extra``: already cleaned extra-field values (``clean_extras``). Raises IssueError with nothing
    written when a merge field has no data, the template is broken, or signing is configured and the
    certificate cannot be used. When signing is configured the PDF is signed before it is stored.

    ``token``: the issue form's one-time token. A form sent twice (a double click, a reload) gets the
    letter the first one issued, with no second number: the token is looked up once the numbering lock
    is held, and its unique index settles two PostgreSQL transactions racing past that look-up."""
    plan = _plan(template=template, beneficiary=beneficiary, case=case, actor=actor, extra=extra,
                 recipient=recipient, replaces=replaces, batch=batch, base_url=base_url, token=token)
    if isinstance(plan, Letter):
        return plan
    letter, fresh = _reserve(plan)
    if not fresh:
        return _settled(letter)  # the same form's letter, numbered by another request
    try:
        pdf, pages = render.html_to_pdf(_final_html(plan, letter))
    except Exception as exc:
        raise _failed(plan, letter, exc) from None
    return _complete(plan, letter, pdf, pages)


@dataclass
class _Plan:
    """What issuing one letter needs once its data has passed the dry run; ``sequence`` is set by ``_reserve``."""
    template: LetterTemplate
    version: LetterTemplateVersion
    beneficiary: object
    case: object
    actor: object
    extra: dict
    context: dict
    recipient: str
    today: dt.date
    subject: str
    prepared: object
    replaces: Letter | None
    batch: LetterBatch | None
    base_url: str | None
    token: str | None
    sequence: int = 0


def _plan(*, template, beneficiary, case, actor, extra, recipient, replaces, batch, base_url, token):
    """The dry run, before any number is taken: the existing letter of ``token``, or a ``_Plan``. Raises
    IssueError (a missing field, a broken template, an unusable certificate) with nothing written."""
    existing = letter_for_token(token)
    if existing is not None:
        return _settled(existing)
    if case is not None and beneficiary is None:
        beneficiary = case.beneficiary
    version = current_version(template)
    extra = dict(extra or {})
    context = render.merge_fields(beneficiary=beneficiary, case=case, officer=actor,
                                  extra={k: v for k, v in extra.items() if not k.endswith("__raw")})
    recipient = clean_text(recipient)[:200]
    today = render.riyadh_today()
    # A dry run first: a missing field must not cost a registry number.
    draft = _compose(version, context, number=PLACEHOLDER_NUMBER, issued_on=today, recipient=recipient,
                     verify_url=verify_url(PLACEHOLDER_NUMBER, "x", base_url))
    prepared = _prepare_signing()
    return _Plan(template=template, version=version, beneficiary=beneficiary, case=case, actor=actor, extra=extra,
                 context=context, recipient=recipient, today=today, subject=draft.subject, prepared=prepared,
                 replaces=replaces, batch=batch, base_url=base_url, token=token)


def _reserve(plan: _Plan) -> tuple[Letter, bool]:
    """Step one, a short transaction: the next number and the registry row, "issuing". Returns the row and
    True, or the letter the same token already has and False."""
    year = dates.hijri_year(plan.today)
    try:
        with _issuing_transaction():
            existing = letter_for_token(plan.token)
            if existing is not None:
                return existing, False
            sequence = next_value(f"letters_out_{year}")
            number = f"{OUT_PREFIX}-{year}-{sequence:06d}"
            who = plan.recipient or (plan.beneficiary.full_name if plan.beneficiary else "")
            letter = Letter.create(
                number=number, hijri_year=year, sequence=sequence, template=plan.template,
                template_version=plan.version, beneficiary=plan.beneficiary, case=plan.case, recipient=who,
                recipient_initials=render.initials(*(who.split()[:1] + who.split()[-1:])) if who else "",
                subject=plan.subject[:300], fields={k: str(v) for k, v in plan.extra.items()},
                issued_by=plan.actor, pdf_sha256="", pdf_size=0, page_count=0, verify_code=secrets.token_hex(5),
                status="issuing", replaces=plan.replaces, batch=plan.batch, issue_token=plan.token or None,
            )
    except IntegrityError:  # two PostgreSQL transactions raced past the token's look-up: the first one won
        existing = letter_for_token(plan.token)
        if existing is None or database.obj.in_transaction():
            raise
        return existing, False
    return letter, True


def _final_html(plan: _Plan, letter: Letter, qr_codes: dict | None = None) -> str:
    """The letter's HTML with its number and verification code (no database write); ``qr_codes``: see
    ``render.document_html``."""
    doc = _compose(plan.version, plan.context, number=letter.number, issued_on=plan.today, recipient=plan.recipient,
                   verify_url=verify_url(letter.number, letter.verify_code, plan.base_url))
    doc.survey_url = survey_url(plan.template, plan.beneficiary, plan.case)
    plan.subject = doc.subject
    return render.document_html(doc, qr_codes)


def _complete(plan: _Plan, letter: Letter, pdf: bytes, pages: int) -> Letter:
    """Step three: sign, store the PDF, and in a short transaction make the letter valid with its timeline
    entry and audit. A failure here marks the number spoiled (``_failed``)."""
    number = letter.number
    stored = None
    try:
        if plan.prepared is not None:  # signed before it is stored: the stored PDF is the signed one
            pdf = _sign(pdf, number, plan.prepared)
        stored = store_bytes(pdf, f"{number}.pdf", "pdf", pages)
        with database.atomic():
            changed = Letter.update(subject=plan.subject[:300], pdf_sha256=stored.sha256, pdf_size=stored.size,
                                    page_count=pages, status="valid").where(
                (Letter.id == letter.id) & (Letter.status == "issuing")).execute()
            if not changed:  # spoiled meanwhile: taken for a stopped process (``settle_stalled``), or erased
                raise IssueError(_l("The letter %(n)s was not issued: its number was recorded as spoiled meanwhile "
                                    "(%(reason)s).", n=isolate(number),
                                    reason=Letter.get_by_id(letter.id).revoked_reason))
            replaces = plan.replaces
            if replaces is not None:
                _revoke(replaces, reason=f"أعيد إصداره برقم {number}", actor=plan.actor)
            entry = log_entry(
                channel="letters", direction="out", beneficiary=plan.beneficiary, case=plan.case, actor=plan.actor,
                summary=f"خطاب صادر {number}: {plan.subject}"[:300],
                data={"letter": "out", "id": letter.id, "number": number, "subject": plan.subject[:300],
                      "template": plan.template.key, "status": "valid",
                      "replaces": replaces.number if replaces is not None else None},
            )
            Letter.update(entry=entry).where(Letter.id == letter.id).execute()
            audit("create", "letter", letter.id, {"number": number, "template": plan.template.key,
                                                  "version": plan.version.number}, actor=plan.actor)
    except Exception as exc:
        failure = _failed(plan, letter, exc)
        if stored is not None:
            _discard(stored.sha256)
        raise failure from None
    return Letter.get_by_id(letter.id)


def _discard(sha256: str) -> None:
    """The stored PDF of a letter that was not made valid (spoiled meanwhile, or its file erased while it
    was being issued): deleted unless a row refers to it."""
    from portal.privacy import delete_unreferenced

    try:
        if not Letter.select().where(Letter.pdf_sha256 == sha256).exists():
            delete_unreferenced([sha256])
    except Exception:  # the failure being reported matters more than a file left over
        current_app.logger.exception("deleting the PDF %s of a spoiled letter failed", sha256)


def _failed(plan: _Plan, letter: Letter, exc: Exception) -> IssueError:
    """After a failure past the reservation: the number is recorded as spoiled with the reason, and the
    error to raise says so. (A process stopped at this point leaves the row "issuing": ``settle_stalled``.)"""
    if isinstance(exc, IssueError):
        reason = str(exc.message)
    else:
        current_app.logger.exception("letter %s failed after its number was taken", letter.number)
        reason = f"{type(exc).__name__}: {exc}"[:200]
    try:
        spoil(letter, reason=reason, actor=plan.actor)
    except Exception:  # the database itself failed: the row stays "issuing", shown, and is settled later
        current_app.logger.exception("marking letter %s spoiled failed", letter.number)
    failure = exc if isinstance(exc, IssueError) else IssueError(
        _l("The letter was not issued: producing its PDF failed (%(error)s).", error=str(exc)[:200]))
    if letter.status != "spoiled" or database.obj.in_transaction():  # inside a caller's transaction: it decides
        return failure
    return IssueError(_l("%(reason)s Its number %(n)s is recorded as spoiled in the registry.",
                         reason=failure.message, n=isolate(letter.number)))


def spoil(letter: Letter, *, reason: str, actor=None) -> bool:
    """An "issuing" letter becomes "spoiled": its number is used, no PDF exists, the reason is kept and
    audited, and its issue token is freed (the same form sent again issues a new letter). False when the
    letter was no longer issuing."""
    with database.atomic():
        changed = Letter.update(status="spoiled", revoked_at=utcnow(), revoked_reason=reason[:300],
                                issue_token=None).where(
            (Letter.id == letter.id) & (Letter.status == "issuing")).execute()
        if changed:
            audit("update", "letter", letter.id, {"status": "spoiled", "number": letter.number,
                                                  "reason": reason[:300]}, actor=actor)
    if changed:
        letter.status, letter.revoked_reason, letter.issue_token = "spoiled", reason[:300], None
    return bool(changed)


STALLED_REASON = "توقفت عملية الإصدار قبل حفظ الخطاب (انتهت العملية أو تعطلت)"


def settle_stalled(older_than: dt.timedelta | None = None) -> list[str]:
    """Letters left "issuing" longer than ``older_than`` (default ``LETTERS_ISSUING_TIMEOUT`` seconds) by a
    process that stopped: marked spoiled with the reason. Run by a periodic job and before each batch;
    returns their numbers."""
    if older_than is None:
        older_than = dt.timedelta(seconds=int(current_app.config["LETTERS_ISSUING_TIMEOUT"]))
    cutoff = utcnow() - older_than
    settled = []
    for letter in Letter.select().where((Letter.status == "issuing") & (Letter.issued_at < cutoff)):
        if spoil(letter, reason=STALLED_REASON):
            settled.append(letter.number)
    return settled


def _settled(letter: Letter) -> Letter:
    """The letter of a form sent again: once another request finished issuing it (waits up to
    ``LETTERS_LOCK_WAIT`` seconds while it is "issuing"). A spoiled one raises IssueError."""
    deadline = time.monotonic() + float(current_app.config["LETTERS_LOCK_WAIT"])
    while letter.status == "issuing" and time.monotonic() < deadline and not database.obj.in_transaction():
        time.sleep(0.05)
        letter = Letter.get_by_id(letter.id)
    if letter.status == "spoiled":
        raise IssueError(_l("The letter %(n)s was not issued: %(reason)s", n=isolate(letter.number),
                            reason=letter.revoked_reason))
    return letter


def _revoke(letter: Letter, *, reason: str, actor=None) -> None:
    now = utcnow()
    Letter.update(status="revoked", revoked_at=now, revoked_reason=reason[:300]).where(Letter.id == letter.id).execute()
    if letter.entry_id:
        from portal.models import TimelineEntry
        from portal.timeline import update_entry

        entry = TimelineEntry.get_or_none(TimelineEntry.id == letter.entry_id)
        if entry is not None:
            data = dict(entry.data or {})
            data["status"] = "revoked"
            update_entry(entry, by=actor, data=data)
    audit("update", "letter", letter.id, {"status": "revoked", "reason": reason[:300]}, actor=actor)
    letter.status, letter.revoked_at, letter.revoked_reason = "revoked", now, reason[:300]


def revoke_letter(letter: Letter, *, reason: str, actor=None) -> None:
    with database.atomic():
        fresh = Letter.get_by_id(letter.id)
        if fresh.status == "revoked":
            raise IssueError(_l("This letter is already revoked."))
        if fresh.status != "valid":
            raise IssueError(_l("Only an issued letter can be revoked; this number has no valid letter."))
        _revoke(fresh, reason=reason, actor=actor)
    letter.status = "revoked"


def reissue_fields(letter: Letter) -> dict:
    """The stored merge values of ``letter`` for a new issue. Every stored value is plain text (escaped when
    the letter is drawn), whatever it looks like; markup comes only from the code that made it: a date
    field is drawn again from its ``<key>__raw`` ISO date, and the committee minutes' table from the
    session (``_session``)."""
    stored = {k: v for k, v in (letter.fields or {}).items() if isinstance(k, str)}
    extra = {k: str(v) for k, v in stored.items() if not k.startswith("_")}
    for key in [k for k in extra if k.endswith("__raw")]:
        try:
            extra[key[:-5]] = render.date_words(dt.date.fromisoformat(extra[key]))
        except ValueError:
            extra.pop(key)
    session_id = stored.get("_session")
    if session_id is not None:
        session = workflow_models().CommitteeSession.get_or_none(id=int(session_id))
        if session is None:
            raise IssueError(_l("The committee session of these minutes no longer exists."))
        extra.update(minutes_fields(session))
    return extra


def reissue_letter(letter: Letter, *, actor=None, base_url: str | None = None) -> Letter:
    """A new letter (new number) from the template's current version with the same data; the old
    one is revoked and the new one points to it."""
    if letter.status == "revoked":
        raise IssueError(_l("A revoked letter cannot be reissued; issue a new letter instead."))
    if letter.status != "valid":
        raise IssueError(_l("Only an issued letter can be reissued; this number has no valid letter."))
    if letter.template_id is None:
        raise IssueError(_l("The template of this letter no longer exists."))
    extra = reissue_fields(letter)
    custom = letter.recipient if letter.beneficiary_id is None or (
        letter.beneficiary and letter.recipient != letter.beneficiary.full_name) else ""
    with database.atomic():
        fresh = Letter.get_by_id(letter.id)
        if fresh.status != "valid":
            raise IssueError(_l("This letter is already revoked."))
        return issue_letter(template=letter.template, beneficiary=letter.beneficiary, case=letter.case, actor=actor,
                            extra=extra, recipient=custom, replaces=fresh, base_url=base_url)


# Documents the public site may ask for before any officer issued them (``case_document``).
ON_DEMAND_PURPOSES = ("acknowledgement",)


def _valid_letter_for(case, purpose: str) -> Letter | None:
    return (Letter.select().join(LetterTemplate)
            .where(Letter.case == case.id, LetterTemplate.purpose == purpose, Letter.status == "valid")
            .order_by(Letter.issued_at.desc(), Letter.id.desc()).first())


def case_document(case, kind: str, *, actor=None, base_url: str | None = None) -> Letter | None:
    """The request's valid letter of this purpose; an acknowledgement is issued the first time it is
    asked for. Two downloads racing get the same letter: on SQLite the numbering transaction holds the
    write lock from BEGIN, on PostgreSQL the request's row is locked before looking. None when the
    template is missing or cannot be filled (a merge field without data)."""
    letter = _valid_letter_for(case, kind)
    if letter is not None or kind not in ON_DEMAND_PURPOSES:
        return letter
    template = template_for_purpose(kind)
    if template is None:
        return None
    from portal.models import Case

    try:
        with _issuing_transaction():
            if is_postgres():
                Case.select(Case.id).where(Case.id == case.id).for_update().execute()
            letter = _valid_letter_for(case, kind)
            if letter is None:
                letter = issue_letter(template=template, case=case, actor=actor, base_url=base_url)
    except IssueError:
        return None
    return letter


def volunteer_certificate(volunteer: dict, hours: dict, *, actor=None, base_url: str | None = None) -> Letter | None:
    """A volunteering certificate (``volunteer_document``): an outgoing letter from the template of purpose
    ``volunteer_certificate``, issued once per certificate key (the issue token); None without a template."""
    key = str(hours.get("key") or "")[:40]
    existing = letter_for_token(key) if key else None
    if existing is not None:
        try:
            return _settled(existing)  # being issued by another request: its letter once valid
        except IssueError:
            return None
    template = template_for_purpose("volunteer_certificate")
    if template is None:
        return None
    first, last = hours["first_day"], hours["last_day"]
    extra = {"volunteer_name": clean_text(volunteer.get("name"))[:160], "volunteer_hours": str(hours.get("total")),
             "period_from": render.date_words(first), "period_to": render.date_words(last),
             "period_from__raw": first.isoformat(), "period_to__raw": last.isoformat()}
    if volunteer.get("national_id"):
        extra["volunteer_id_number"] = str(volunteer["national_id"])
    tasks = [clean_text(t)[:200] for t in (hours.get("tasks") or []) if clean_text(t)]
    if tasks:
        extra["volunteer_tasks"] = "\n".join(dict.fromkeys(tasks))
    try:
        return issue_letter(template=template, actor=actor, extra=extra, recipient=extra["volunteer_name"],
                            base_url=base_url, token=key or None)
    except IssueError:
        return None


def letter_pdf(letter: Letter) -> bytes:
    if letter.status in ("issuing", "spoiled"):
        raise IssueError(_l("This number has no PDF: the letter is being issued or was spoiled."))
    if not letter.pdf_sha256:  # deleted with the beneficiary's file (portal.privacy.erase); the registry row stays
        raise IssueError(_l("The copy of this letter was deleted when the beneficiary's file was erased."))
    return read_stored(letter.pdf_sha256)


def find_for_verification(number: str, code: str) -> Letter | None:
    number = (number or "").strip()
    if number[:1].isdigit():
        number = f"{OUT_PREFIX}-{number}"
    # A number being issued or spoiled never verifies: only an issued letter (valid, or revoked since) is shown.
    letter = Letter.get_or_none((Letter.number == number) & Letter.status.in_(("valid", "revoked")))
    typed = (code or "").strip().encode("utf-8", errors="replace")
    if letter is None or not hmac.compare_digest(letter.verify_code.encode("utf-8"), typed):
        return None
    return letter


# --- incoming -----------------------------------------------------------------------------------

def register_incoming(*, stored, sender: str, subject: str, letter_date=None, sender_reference: str = "",
                      beneficiary=None, case=None, notes: str = "", actor=None) -> IncomingLetter:
    today = render.riyadh_today()
    year = dates.hijri_year(today)
    with _issuing_transaction():
        sequence = next_value(f"letters_in_{year}")
        number = f"{IN_PREFIX}-{year}-{sequence:06d}"
        letter = IncomingLetter.create(
            number=number, hijri_year=year, sequence=sequence, sender=sender, sender_reference=sender_reference,
            subject=subject, letter_date=letter_date, beneficiary=beneficiary, case=case, notes=notes,
            file_sha256=stored.sha256, file_name=stored.file_name, content_type=stored.content_type,
            size=stored.size, page_count=stored.pages, registered_by=actor,
            ocr_status="pending" if ocr_available() else "unavailable",
            search_text=normalize_name(f"{number} {sender} {sender_reference} {subject} {notes}"),
        )
        entry = log_entry(
            channel="letters", direction="in", beneficiary=beneficiary, case=case, actor=actor,
            summary=f"خطاب وارد {number} من {sender}: {subject}"[:300],
            data={"letter": "in", "id": letter.id, "number": number, "subject": subject[:300], "sender": sender[:200],
                  "pages": stored.pages},
        )
        IncomingLetter.update(entry=entry).where(IncomingLetter.id == letter.id).execute()
        audit("create", "incoming_letter", letter.id, {"number": number}, actor=actor)
    return letter


# --- OCR ------------------------------------------------------------------------------------------

def tesseract_status() -> dict:
    """What the status page shows: the binary, its version, whether Arabic is installed."""
    binary = shutil.which(current_app.config["LETTERS_TESSERACT"])
    info = {"binary": binary, "version": "", "languages": [], "arabic": False,
            "pdftoppm": shutil.which("pdftoppm")}
    if binary:
        try:
            out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20)
            info["version"] = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""
            langs = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=20)
            info["languages"] = [line.strip() for line in langs.stdout.splitlines()[1:] if line.strip()]
        except (OSError, subprocess.SubprocessError):
            info["binary"] = None
    info["arabic"] = "ara" in info["languages"]
    return info


def ocr_available() -> bool:
    if not current_app.config["LETTERS_OCR"]:
        return False
    status = tesseract_status()
    return bool(status["binary"] and status["arabic"])


def page_images(sha256: str, content_type: str, page_count: int, dpi: int = 200):
    """Yield each page as a PNG file path (in a temporary directory that lives while iterating)."""
    from PIL import Image

    source = path_for(sha256)
    with tempfile.TemporaryDirectory() as tmp:
        if content_type == "application/pdf":
            binary = shutil.which("pdftoppm")
            if binary is None:
                raise RuntimeError("pdftoppm (poppler-utils) is not installed")
            for page in range(1, page_count + 1):
                out = Path(tmp) / f"p{page}"
                subprocess.run([binary, "-png", "-r", str(dpi), "-gray", "-f", str(page), "-l", str(page),
                                "-singlefile", str(source), str(out)], check=True, capture_output=True, timeout=300)
                yield Path(str(out) + ".png")
        else:
            with Image.open(source) as img:
                for index in range(getattr(img, "n_frames", 1)):
                    img.seek(index)
                    out = Path(tmp) / f"p{index + 1}.png"
                    img.convert("L").save(out)
                    yield out


def run_ocr(letter: IncomingLetter) -> str:
    """OCR every page with Tesseract (Arabic + English), one thread (OMP_THREAD_LIMIT=1)."""
    binary = shutil.which(current_app.config["LETTERS_TESSERACT"])
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    texts = []
    for image in page_images(letter.file_sha256, letter.content_type, letter.page_count):
        result = subprocess.run([binary, str(image), "stdout", "-l", "ara+eng", "--psm", "3"], capture_output=True,
                                text=True, env=env, timeout=300, check=True)
        texts.append(result.stdout.strip())
    return "\n\f\n".join(texts)


def ocr_letter(letter_id: int) -> str:
    """Run OCR for one incoming letter and store its text and search form; returns the new status."""
    letter = IncomingLetter.get_or_none(IncomingLetter.id == letter_id)
    if letter is None:
        return "missing"
    if not ocr_available():
        IncomingLetter.update(ocr_status="unavailable").where(IncomingLetter.id == letter.id).execute()
        return "unavailable"
    try:
        text = run_ocr(letter)
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        current_app.logger.warning("OCR of incoming letter %s failed: %s", letter.number, exc)
        IncomingLetter.update(ocr_status="failed").where(IncomingLetter.id == letter.id).execute()
        return "failed"
    with database.atomic():
        IncomingLetter.update(
            ocr_status="done", ocr_text=text,
            search_text=normalize_name(
                f"{letter.number} {letter.sender} {letter.sender_reference} {letter.subject} {letter.notes} {text}"),
        ).where(IncomingLetter.id == letter.id).execute()
    return "done"


# --- batches ------------------------------------------------------------------------------------

def run_batch(batch_id: int, base_url: str | None = None) -> None:
    """Issue one letter per case of the batch, each in its own transaction, updating progress as it
    goes; then merge every issued PDF into one for printing."""
    batch = LetterBatch.get_or_none(LetterBatch.id == batch_id)
    if batch is None or batch.status not in ("queued", "running"):
        return
    try:
        _run_batch(batch, base_url)
    except Exception as exc:  # the batch must end in a state the progress page can show
        current_app.logger.exception("letter batch %s failed", batch.id)
        errors = list(LetterBatch.get_by_id(batch.id).errors or []) + [{"case": "", "message": str(exc)[:300]}]
        LetterBatch.update(status="failed", errors=errors, finished_at=utcnow()).where(
            LetterBatch.id == batch.id).execute()


def _run_batch(batch: LetterBatch, base_url: str | None) -> None:
    """Numbers are taken in the batch's order, each in its own short transaction; the PDFs are drawn by a
    pool of processes (``BatchRenderer``) while this process prepares the next letters and stores the
    finished ones in order. Progress, errors and the merged PDF are as when letters were drawn one by one."""
    from portal.models import Case, User

    settle_stalled()
    LetterBatch.update(status="running").where(LetterBatch.id == batch.id).execute()
    actor = User.get_or_none(User.id == batch.created_by_id) if batch.created_by_id else None
    errors = list(batch.errors or [])
    counts = {"done": 0, "failed": 0}
    parts: dict[int, bytes] = {}
    pending: deque = deque()

    def progress():
        LetterBatch.update(done=counts["done"], failed=counts["failed"], errors=errors).where(
            LetterBatch.id == batch.id).execute()

    def failure(reference, exc: IssueError):
        counts["failed"] += 1
        errors.append({"case": reference, "message": str(exc.message)})

    def finish_oldest():
        index, reference, plan, letter, future = pending.popleft()
        try:
            try:
                pdf, pages = future.result()
            except Exception as exc:
                raise _failed(plan, letter, exc) from None
            parts[index] = letter_pdf(_complete(plan, letter, pdf, pages))
            counts["done"] += 1
        except IssueError as exc:
            failure(reference, exc)
        progress()

    with BatchRenderer(len(batch.case_ids)) as renderer:
        for index, case_id in enumerate(batch.case_ids):
            case = Case.get_or_none(Case.id == case_id)
            reference = case.reference if case else str(case_id)
            try:
                if case is None:
                    raise IssueError(_l("The request no longer exists."))
                already = Letter.get_or_none((Letter.batch == batch) & (Letter.case == case)
                                             & Letter.status.in_(("valid", "revoked")))
                if already is not None:  # a batch run again after a stop: the letters it issued stay
                    parts[index] = letter_pdf(already)
                    counts["done"] += 1
                    progress()
                    continue
                template = batch.template
                if batch.by_decision:
                    template = template_for_purpose(f"decision_{case.status}")
                    if template is None:
                        raise IssueError(_l("The request has no committee decision."))
                plan = _plan(template=template, beneficiary=None, case=case, actor=actor, extra=None, recipient="",
                             replaces=None, batch=batch, base_url=base_url, token=None)
                letter, _fresh = _reserve(plan)
                qr_codes = {} if renderer.pool is not None else None  # the pool draws the QR codes too
                try:
                    html = _final_html(plan, letter, qr_codes)
                except Exception as exc:
                    raise _failed(plan, letter, exc) from None
                pending.append((index, reference, plan, letter, renderer.submit(html, qr_codes)))
            except IssueError as exc:
                failure(reference, exc)
                progress()
            while len(pending) >= renderer.window:
                finish_oldest()
        while pending:
            finish_oldest()
    sha = ""
    if parts:
        merged = render.merge_pdfs([parts[i] for i in sorted(parts)])
        sha = store_bytes(merged, f"batch-{batch.id}.pdf", "pdf").sha256
    LetterBatch.update(status="done", pdf_sha256=sha, finished_at=utcnow()).where(LetterBatch.id == batch.id).execute()


class BatchRenderer:
    """HTML -> PDF bytes for a batch: a pool of ``LETTERS_BATCH_PROCESSES`` processes (0: one per core),
    started from a fork server that has loaded only ``pdfwork`` and WeasyPrint, so no child holds this
    process's database connection or threads; the children never touch the database. With one process
    (or one letter) the PDFs are drawn here. ``window``: letters in flight before the oldest is awaited."""

    def __init__(self, letters: int):
        wanted = int(current_app.config["LETTERS_BATCH_PROCESSES"]) or (os.cpu_count() or 1)
        self.processes = max(1, min(wanted, letters))
        self.window = 2 * self.processes if self.processes > 1 else 1
        self.pool = None
        self.allowed = None

    def __enter__(self):
        if self.processes > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["plugins.letters.pdfwork"])
            self.pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context,
                                            initializer=pdfwork.warm)
        return self

    def submit(self, html: str, qr_codes: dict | None = None):
        if self.allowed is None:
            self.allowed = render._allowed_urls()
        if self.pool is not None:
            return self.pool.submit(pdfwork.render_pdf, html, self.allowed, qr_codes)
        future = Future()
        try:
            future.set_result(pdfwork.render_pdf(html, self.allowed, qr_codes))
        except Exception as exc:  # handed to the caller through the future, as from a child process
            future.set_exception(exc)
        return future

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        return False


# --- page images for the viewer -----------------------------------------------------------------------

PAGE_WIDTHS = {"thumb": 240, "full": 1240}


def page_png(letter: IncomingLetter, page: int, size: str = "full") -> bytes | None:
    """Page ``page`` of a scan as PNG, scaled to the viewer's width; cached beside the uploads."""
    from PIL import Image

    from portal.uploads import upload_root

    cache = upload_root() / ".pages" / letter.file_sha256[:2]
    target = cache / f"{letter.file_sha256}-{page}-{size}.png"
    if target.exists():
        return target.read_bytes()
    width = PAGE_WIDTHS[size]
    try:
        if letter.content_type == "application/pdf":
            png = render.pdf_page_png(read_stored(letter.file_sha256), page, dpi=40 if size == "thumb" else 150)
            if png is None:
                return None
            img = Image.open(io.BytesIO(png))
        else:
            img = Image.open(path_for(letter.file_sha256))
            img.seek(page - 1)
        with img:
            frame = img.convert("RGB") if img.mode not in ("RGB", "L") else img.copy()
        if frame.width > width:
            frame = frame.resize((width, max(1, int(frame.height * width / frame.width))))
        out = io.BytesIO()
        frame.save(out, "PNG", optimize=True)
    except (OSError, ValueError, EOFError):
        return None
    data = out.getvalue()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return data


# --- the committee (the workflow's sessions, when the core has them) ----------------------------------

def workflow_models():
    """The workflow's committee models, or None on a core without them."""
    try:
        from portal.workflow import models
    except ImportError:
        return None
    return models if hasattr(models, "CommitteeSession") else None


DECISION_AR = {"approved": "الموافقة", "rejected": "الاعتذار"}


def minutes_fields(session) -> dict:
    """Merge values of a session's minutes: date, chair, members, and one table row per decided request."""
    from markupsafe import Markup

    from portal.models import Beneficiary, Case, User

    wf = workflow_models()
    members = [u.full_name for u in User.select().join(wf.SessionMember, on=(wf.SessionMember.user == User.id))
               .where(wf.SessionMember.session == session).order_by(User.full_name)]
    votes = {}
    for case_id, vote, count in (wf.Vote.select(wf.Vote.case, wf.Vote.vote, fn_count(wf.Vote.id))
                                 .where(wf.Vote.session == session).group_by(wf.Vote.case, wf.Vote.vote).tuples()):
        votes.setdefault(case_id, {})[vote] = count
    rows = list(wf.AgendaItem.select(wf.AgendaItem, Case, Beneficiary)
                .join(Case, on=(wf.AgendaItem.case == Case.id), attr="case")
                .join(Beneficiary, on=(Case.beneficiary == Beneficiary.id), attr="beneficiary")
                .where(wf.AgendaItem.session == session).order_by(wf.AgendaItem.position))
    cells = []
    for index, item in enumerate(rows, 1):
        case = item.case
        tally = votes.get(case.id, {})
        tally_text = "، ".join(f"{label}: {tally[key]}" for key, label in
                              (("approve", "موافقة"), ("reject", "اعتذار"), ("abstain", "امتناع")) if tally.get(key))
        if item.decision == "approved":
            detail = render.money(Decimal(case.amount)) if case.amount is not None else (
                Markup("<bdi>%s</bdi>") % case.quantity if getattr(case, "quantity", None) else "")
        else:
            detail = case.decision_reasons or ""
        cells.append(Markup(
            "<tr><td><bdi>%s</bdi></td><td><bdi dir=\"ltr\">%s</bdi></td><td>%s</td><td>%s</td><td>%s</td>"
            "<td>%s</td><td>%s</td></tr>") % (
            index, case.reference, case.beneficiary.full_name,
            render.REQUEST_TYPE_AR.get(case.request_type, case.request_type), tally_text or "—",
            DECISION_AR.get(item.decision, "لم يُبتّ فيه"), detail))
    table = Markup(
        '<table class="grid"><thead><tr><th>م</th><th>رقم الطلب</th><th>المستفيد</th><th>نوع الطلب</th>'
        "<th>الأصوات</th><th>القرار</th><th>المبلغ أو الأسباب</th></tr></thead><tbody>") + Markup("").join(cells) + \
        Markup("</tbody></table>")
    values = {"session_date": render.date_words(session.held_on), "chair_name": session.chair.full_name,
              "members": "\n".join(members), "quorum": str(session.quorum), "decisions": table,
              "_session": session.id}  # a reissue draws the table again from the session (``reissue_fields``)
    if session.title:
        values["session_title"] = session.title
    return values


def fn_count(field):
    from peewee import fn

    return fn.COUNT(field)


def issue_minutes(session, *, actor=None, base_url: str | None = None) -> Letter:
    """The session's minutes as a numbered PDF in the outgoing registry."""
    template = template_for_purpose("committee_minutes")
    if template is None:
        raise IssueError(_l("No active template for committee minutes."))
    return issue_letter(template=template, actor=actor, extra=minutes_fields(session),
                        recipient="أعضاء لجنة البحث", base_url=base_url)


def session_decision_cases(session) -> list[int]:
    wf = workflow_models()
    return [item.case_id for item in wf.AgendaItem.select(wf.AgendaItem.case)
            .where((wf.AgendaItem.session == session) & (wf.AgendaItem.decision != ""))
            .order_by(wf.AgendaItem.position)]


# --- the print queue: notices sent as printed letters ----------------------------------------------

def queue_print(beneficiary, text: str, purpose: str, case_reference: str | None = None):
    """Issue a numbered "general" letter carrying a notice's ``text`` and queue it for printing and
    posting (in the caller's transaction). Returns the ``PrintJob``, or None when no letter can be made
    (no active general template, a merge field without data: the notice is then "not sent")."""
    from portal.models import Case
    from portal.text import strip_bidi_controls

    from .models import PrintJob

    case = Case.get_or_none(Case.reference == case_reference) if case_reference else None
    if case is not None:
        # the letter this status already issued by itself (the decision letters): print that one, not a second
        from . import PURPOSE_BY_STATUS

        issued = (Letter.select().join(LetterTemplate)
                  .where((Letter.case == case.id) & (Letter.status == "valid")
                         & (LetterTemplate.purpose == PURPOSE_BY_STATUS.get(case.status, "")))
                  .order_by(Letter.id.desc()).first())
        if issued is not None and not PrintJob.select().where(PrintJob.letter == issued.id).exists():
            return PrintJob.create(letter=issued, purpose=(purpose or "")[:40])
    template = template_for_purpose("general")
    if template is None:
        return None
    subject = f"إشعار بخصوص طلبكم رقم {case_reference}" if case_reference else "إشعار من الجمعية"
    extra = {"subject_text": subject, "body_text": strip_bidi_controls(text)}
    try:
        with database.atomic():
            letter = issue_letter(template=template, beneficiary=beneficiary, case=case, extra=extra)
            return PrintJob.create(letter=letter, purpose=(purpose or "")[:40])
    except IssueError:
        return None


def mark_printed(job_id: int, actor):
    """The letter was printed and posted: it leaves the queue (once). Returns the job or None."""
    from .models import PrintJob

    with database.atomic():
        job = PrintJob.get_or_none(PrintJob.id == job_id)
        if job is None:
            return None
        if PrintJob.update(printed_at=utcnow(), printed_by=actor).where(
                (PrintJob.id == job_id) & PrintJob.printed_at.is_null()).execute():
            audit("print", "letter", job.letter_id, {"print_job": job_id}, actor=actor)
    return PrintJob.get_by_id(job_id)
