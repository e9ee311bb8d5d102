"""Data protection (Saudi PDPL) services: the export of everything held about a beneficiary, consent
changes with their time and channel, correction requests reviewed by an officer, and erasure as
anonymisation with retention rules. Each change is one transaction and is audited."""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from playhouse.shortcuts import model_to_dict

from . import beneficiaries_service as service
from . import name_index
from .audit import audit
from .db import database, utcnow
from .models import (
    CONSENT_CHANNELS, CONSENT_KINDS, Attachment, Beneficiary, Case, ConsentChange, CorrectionRequest, Document,
    Erasure, HouseholdMember, TimelineEntry,
)
from .plugins import channel_map, hook
from .text import clean_text
from .timeline import update_entries

# Fields a beneficiary may ask to correct (the rest are the charity's own records).
CORRECTABLE = (
    "first_name", "father_name", "grandfather_name", "family_name", "national_id", "id_expiry", "nationality",
    "gender", "birth_date", "mobile", "email", "district", "city", "national_address", "preferred_channel",
)
MAX_VALUE = 2000
MAX_REASON = 1000


class PrivacyError(Exception):
    """A refused privacy action; ``errors`` maps form fields to messages (``__all__`` for the whole form)."""

    def __init__(self, errors: dict, status: int = 422):
        super().__init__(str(errors))
        self.errors = errors
        self.status = status


def _erased_error():
    return PrivacyError({"__all__": _l("This file was erased; its data can no longer be changed.")}, 409)


# ---------------------------------------------------------------- consent

def record_consent(ben: Beneficiary, data: dict, actor) -> ConsentChange:
    """Record a consent given or withdrawn (kind, granted, channel, note) and set it on the file."""
    errors = {}
    kind = data.get("kind", "")
    if kind not in CONSENT_KINDS:
        errors["kind"] = _l("Choose which consent.")
    granted = data.get("granted", "")
    if granted not in ("yes", "no"):
        errors["granted"] = _l("Choose whether the consent is given or withdrawn.")
    channel = data.get("channel", "")
    if channel not in CONSENT_CHANNELS:
        errors["channel"] = _l("Choose how the beneficiary told us.")
    note = clean_text(data.get("note"))
    if len(note) > 300:
        errors["note"] = _l("Too long: at most %(n)s characters.", n=300)
    if errors:
        raise PrivacyError(errors)
    if ben.erased_at:
        raise _erased_error()
    field = f"consent_{kind}"
    with database.atomic():
        rows = (Beneficiary.update({field: granted == "yes", Beneficiary.version: Beneficiary.version + 1,
                                    Beneficiary.updated_at: utcnow()})
                .where((Beneficiary.id == ben.id) & Beneficiary.erased_at.is_null()).execute())
        if rows != 1:
            raise _erased_error()
        change = ConsentChange.create(beneficiary=ben, kind=kind, granted=granted == "yes", channel=channel,
                                      note=note, recorded_by=actor)
        audit("consent", "beneficiary", ben.id, {"kind": kind, "granted": granted == "yes", "channel": channel},
              actor=actor)
    return change


# ---------------------------------------------------------------- corrections

def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(getattr(value, "code", value))


def request_correction(ben: Beneficiary, data: dict, actor) -> CorrectionRequest:
    """Record the beneficiary's request to correct one field; checked now, applied only after review."""
    errors = {}
    field = data.get("field", "")
    if field not in CORRECTABLE:
        errors["field"] = _l("Choose the field to correct.")
    value = clean_text(data.get("requested_value"))
    if not value and field not in ("grandfather_name", "id_expiry", "birth_date", "email", "district",
                                   "national_address"):
        errors["requested_value"] = _l("This field is required.")
    elif len(value) > MAX_VALUE:
        errors["requested_value"] = _l("Too long: at most %(n)s characters.", n=MAX_VALUE)
    reason = clean_text(data.get("reason"))
    if len(reason) > MAX_REASON:
        errors["reason"] = _l("Too long: at most %(n)s characters.", n=MAX_REASON)
    channel = data.get("channel", "")
    if channel not in CONSENT_CHANNELS:
        errors["channel"] = _l("Choose how the beneficiary told us.")
    if not errors:
        limit = getattr(Beneficiary._meta.fields[field], "max_length", None)
        if limit and len(value) > limit:
            errors["requested_value"] = _l("Too long: at most %(n)s characters.", n=limit)
        elif field == "preferred_channel" and value not in channel_map():
            errors["requested_value"] = _l("Unknown channel.")
    if not errors:
        res = service.validate({field: value}, existing=ben, partial=True)
        if res.errors:
            errors["requested_value"] = res.errors.get(field) or next(iter(res.errors.values()))
        elif _shown(res.values.get(field)) == _shown(getattr(ben, field)):
            errors["requested_value"] = _l("The file already holds this value.")
    if errors:
        raise PrivacyError(errors)
    if ben.erased_at:
        raise _erased_error()
    with database.atomic():
        req = CorrectionRequest.create(
            beneficiary=ben, field=field, current_value=_shown(getattr(ben, field)), requested_value=value,
            reason=reason, channel=channel, requested_by=actor,
        )
        audit("correction_request", "beneficiary", ben.id, {"request": req.id, "field": field}, actor=actor)
    return req


def review_correction(req: CorrectionRequest, data: dict, actor) -> CorrectionRequest:
    """Apply (through the beneficiary update service) or refuse a pending correction request."""
    decision = data.get("decision", "")
    note = clean_text(data.get("review_note"))
    errors = {}
    if decision not in ("apply", "reject"):
        errors["decision"] = _l("Choose whether to apply or refuse the correction.")
    if decision == "reject" and not note:
        errors["review_note"] = _l("Say why the correction is refused.")
    if len(note) > MAX_REASON:
        errors["review_note"] = _l("Too long: at most %(n)s characters.", n=MAX_REASON)
    if errors:
        raise PrivacyError(errors)
    with database.atomic():
        status = "applied" if decision == "apply" else "rejected"
        rows = (CorrectionRequest.update(status=status, reviewed_by=actor, reviewed_at=utcnow(), review_note=note)
                .where((CorrectionRequest.id == req.id) & (CorrectionRequest.status == "pending")).execute())
        if rows != 1:
            raise PrivacyError({"__all__": _l("This correction request was already reviewed.")}, 409)
        ben = Beneficiary.get_by_id(req.beneficiary_id)
        if ben.erased_at:
            raise _erased_error()
        if decision == "apply":
            res = service.validate({req.field: req.requested_value}, existing=ben, partial=True)
            if res.errors:
                raise PrivacyError({"__all__": res.errors.get(req.field) or next(iter(res.errors.values()))})
            service.update(ben, res.values, ben.version, actor=actor)
        audit(f"correction_{status}", "beneficiary", ben.id, {"request": req.id, "field": req.field}, actor=actor)
    return CorrectionRequest.get_by_id(req.id)


# ---------------------------------------------------------------- export

def _json_default(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return str(value)


def _row(model, exclude=()) -> dict:
    return model_to_dict(model, recurse=False, exclude=list(exclude))


_SAFE_NAME = re.compile(r"[^\w.\-]+", re.UNICODE)


def _file_name(prefix: str, name: str) -> str:
    name = _SAFE_NAME.sub("_", (name or "file").replace("\\", "/").rsplit("/", 1)[-1])[:120] or "file"
    return f"{prefix}-{name}"


def _read(sha: str) -> bytes | None:
    from .uploads import read_stored

    return read_stored(sha)


def collect(ben: Beneficiary) -> tuple[dict, list[tuple[str, bytes]]]:
    """Everything the core and the plugins hold about ``ben``: (JSON document, [(path in ZIP, bytes)])."""
    from .workflow.models import Declaration, Delivery, Enrolment, OutreachTask, ResearchAttachment, ResearchReport

    files: list[tuple[str, bytes]] = []
    cases = list(Case.select().where(Case.beneficiary == ben).order_by(Case.id))
    case_ids = [c.id for c in cases]
    reports = list(ResearchReport.select().where(ResearchReport.case.in_(case_ids)).order_by(ResearchReport.id)) \
        if case_ids else []
    entries = list(TimelineEntry.select().where(TimelineEntry.beneficiary == ben)
                   .order_by(TimelineEntry.occurred_at, TimelineEntry.id))
    attachments = list(Attachment.select().where(Attachment.entry.in_([e.id for e in entries]))) if entries else []
    documents = list(Document.select().where(Document.beneficiary == ben).order_by(Document.id))
    for doc in documents:
        if doc.file_sha256 and (content := _read(doc.file_sha256)) is not None:
            files.append((f"files/documents/{_file_name(str(doc.id), doc.file_name)}", content))
    for att in attachments:
        if (content := _read(att.sha256)) is not None:
            files.append((f"files/timeline/{_file_name(f'{att.entry_id}-{att.id}', att.file_name)}", content))
    research_files = list(ResearchAttachment.select().where(ResearchAttachment.report.in_([r.id for r in reports]))) \
        if reports else []
    for att in research_files:
        if (content := _read(att.sha256)) is not None:
            files.append((f"files/research/{_file_name(str(att.id), att.file_name)}", content))
    deliveries = list(Delivery.select().where(Delivery.case.in_(case_ids)).order_by(Delivery.id)) if case_ids else []
    for delivery in deliveries:
        if delivery.receipt_sha256 and (content := _read(delivery.receipt_sha256)) is not None:
            files.append((f"files/receipts/{_file_name(str(delivery.id), delivery.receipt_name)}", content))
    by_entry: dict[int, list] = {}
    for att in attachments:
        by_entry.setdefault(att.entry_id, []).append(_row(att))
    erasure = Erasure.get_or_none(Erasure.beneficiary == ben)
    document = {
        "format": "sila-beneficiary-export/1",
        "exported_at": utcnow().isoformat(),
        "organisation": current_app.config["ORG_NAME_AR"],
        "beneficiary": _row(ben, exclude=[Beneficiary.name_search, Beneficiary.search_key]),
        "household": [_row(m) for m in HouseholdMember.select().where(HouseholdMember.beneficiary == ben)
                      .order_by(HouseholdMember.id)],
        "requests": [_row(c) for c in cases],
        "declarations": [_row(d) for d in Declaration.select().where(Declaration.beneficiary == ben)],
        "research_reports": [_row(r) for r in reports],
        "research_attachments": [_row(a) for a in research_files],
        "enrolments": [_row(e) for e in Enrolment.select().where(Enrolment.beneficiary == ben)],
        "deliveries": [_row(d) for d in deliveries],
        "documents": [_row(d) for d in documents],
        "timeline": [dict(_row(e), attachments=by_entry.get(e.id, [])) for e in entries],
        "outreach_tasks": [_row(t) for t in OutreachTask.select().where(OutreachTask.beneficiary == ben)],
        "consent_changes": [_row(c) for c in ConsentChange.select().where(ConsentChange.beneficiary == ben)
                            .order_by(ConsentChange.at, ConsentChange.id)],
        "correction_requests": [_row(c) for c in CorrectionRequest.select()
                                .where(CorrectionRequest.beneficiary == ben).order_by(CorrectionRequest.id)],
        "erasure": _row(erasure) if erasure else None,
        "plugins": {},
    }
    for answer in hook().beneficiary_data(beneficiary=ben):
        if not answer:
            continue
        name = _SAFE_NAME.sub("_", str(answer["name"]))[:40]
        document["plugins"][name] = answer.get("data")
        for item in answer.get("files") or []:
            files.append((f"files/{name}/{_file_name(str(len(files)), item['name'])}", item["content"]))
    return document, files


def timeline_pdf(ben: Beneficiary, document: dict) -> bytes:
    """The timeline as an Arabic PDF (Hijri beside Gregorian), from the collected entries."""
    from .pdf import font_faces, html_to_pdf

    channels = channel_map()
    entries = []
    for item in document["timeline"]:
        occurred = item["occurred_at"]
        if isinstance(occurred, str):
            occurred = dt.datetime.fromisoformat(occurred)
        info = channels.get(item["channel"])
        entries.append({"occurred_at": occurred, "channel": info["label_ar"] if info else item["channel"],
                        "direction": item["direction"], "summary": item["summary"], "body": item["body"],
                        "attachments": [a["file_name"] for a in item.get("attachments", [])]})
    with force_locale("ar"):
        html = render_template("privacy/timeline_pdf.html", ben=ben, entries=entries, fonts=font_faces(),
                               org_name=current_app.config["ORG_NAME_AR"], exported_at=utcnow())
    return html_to_pdf(html)


def export_zip(ben: Beneficiary, actor) -> bytes:
    """The ZIP of everything held: ``beneficiary.json``, ``timeline.pdf``, ``files/...``. Audited."""
    document, files = collect(ben)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("beneficiary.json", json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True,
                                                        default=_json_default))
        archive.writestr("timeline.pdf", timeline_pdf(ben, document))
        seen = set()
        for path, content in files:
            while path in seen:
                path = path.replace("files/", "files/_", 1)
            seen.add(path)
            archive.writestr(path, content)
    audit("export", "beneficiary", ben.id, {"files": len(files), "entries": len(document["timeline"])}, actor=actor)
    return buffer.getvalue()


# ---------------------------------------------------------------- erasure

def retain_until(ben: Beneficiary, years: int) -> dt.date | None:
    """Until when decision evidence must be kept: the last decision or delivery plus ``years``."""
    from .workflow.models import Delivery

    last = (Case.select(Case.decided_at).where((Case.beneficiary == ben) & Case.decided_at.is_null(False))
            .order_by(Case.decided_at.desc()).scalar())
    delivered = (Delivery.select(Delivery.delivered_on).join(Case).where(Case.beneficiary == ben)
                 .order_by(Delivery.delivered_on.desc()).scalar())
    stamps = [d.date() if isinstance(d, dt.datetime) else d for d in (last, delivered) if d]
    if not stamps:
        return None
    latest = max(stamps)
    try:
        return latest.replace(year=latest.year + years)
    except ValueError:  # 29 February
        return latest.replace(year=latest.year + years, day=28)


def pseudonymous_id(ben: Beneficiary) -> str:
    """What replaces the national ID: unique (the column is), never a valid ID (starts with a letter)."""
    return f"X{ben.id:09d}"


def erase(ben: Beneficiary, actor) -> Erasure:
    """Anonymise the file in one transaction; delete the files no longer referred to after it commits.

    Kept: file number, requests with their references, statuses, decisions and amounts, deliveries,
    declarations (when, how), timeline dates and channels, consent history (without notes), the audit
    trail, registry numbers kept by plugins. Removed: names, ID number, phone, email, address, birth date,
    free text (notes, summaries, bodies, research narratives, requests' typed answers), uploads not
    retained. Uploads tied to a decided request stay until ``retain_until``."""
    from .workflow.models import Declaration, Enrolment, OutreachTask, ResearchAttachment, ResearchReport

    years = int(current_app.config["PRIVACY_RETENTION_YEARS"])
    keep_until = retain_until(ben, years)
    retaining = keep_until is not None and keep_until >= dt.date.today()
    now = utcnow()
    delete_files: set[str] = set()
    summary: dict = {"retain_until": keep_until.isoformat() if keep_until else None, "plugins": {}}
    with database.atomic():
        claimed = (Beneficiary.update(erased_at=now).where((Beneficiary.id == ben.id) & Beneficiary.erased_at.is_null())
                   .execute())
        if claimed != 1:
            raise PrivacyError({"__all__": _l("This file was already erased.")}, 409)
        cases = list(Case.select(Case.id, Case.decision).where(Case.beneficiary == ben))
        decided = {c.id for c in cases if c.decision}
        case_ids = [c.id for c in cases]
        # Plugins first: they see the file as it was (numbers, names) to find their own rows.
        for answer in hook().anonymise_beneficiary(beneficiary=ben, retain_until=keep_until if retaining else None,
                                                   actor=actor):
            if answer:
                summary["plugins"][str(answer.get("name", "?"))] = {
                    "anonymised": answer.get("anonymised", 0), "kept": answer.get("kept", [])}
                delete_files.update(answer.get("delete_files") or [])
        declared_docs = {d.document_id for d in Declaration.select(Declaration.document, Declaration.case)
                         .where(Declaration.beneficiary == ben) if d.document_id and d.case_id in decided}
        kept_docs, dropped_docs = [], []
        for doc in Document.select().where(Document.beneficiary == ben):
            if retaining and (doc.case_id in decided or doc.id in declared_docs):
                kept_docs.append(doc.id)
            else:
                dropped_docs.append(doc.id)
                if doc.file_sha256:
                    delete_files.add(doc.file_sha256)
        if kept_docs:
            Document.update(number="").where(Document.id.in_(kept_docs)).execute()
        if dropped_docs:
            Declaration.update(document=None).where(Declaration.document.in_(dropped_docs)).execute()
            Document.delete().where(Document.id.in_(dropped_docs)).execute()
        entry_ids = TimelineEntry.select(TimelineEntry.id).where(TimelineEntry.beneficiary == ben)
        delete_files.update(a.sha256 for a in Attachment.select(Attachment.sha256).where(Attachment.entry.in_(entry_ids)))
        Attachment.delete().where(Attachment.entry.in_(entry_ids)).execute()
        entries = update_entries(TimelineEntry.beneficiary == ben, by=actor, summary="", body="", data=None)
        if case_ids:
            reports = ResearchReport.select(ResearchReport.id, ResearchReport.case).where(ResearchReport.case.in_(case_ids))
            for report in reports:
                if not (retaining and report.case_id in decided):
                    for att in ResearchAttachment.select().where(ResearchAttachment.report == report.id):
                        delete_files.add(att.sha256)
                    ResearchAttachment.delete().where(ResearchAttachment.report == report.id).execute()
            ResearchReport.update(household_situation="", housing="", needs="", recommendation_notes="") \
                .where(ResearchReport.case.in_(case_ids)).execute()
            Case.update(summary="", answers=None, referral_reason="", withdrawn_reason="") \
                .where(Case.id.in_(case_ids)).execute()
        Enrolment.update(notes="").where(Enrolment.beneficiary == ben).execute()
        OutreachTask.update(reason="", outcome="", source=None).where(OutreachTask.beneficiary == ben).execute()
        HouseholdMember.update(name="", national_id="", birth_date=None, notes="") \
            .where(HouseholdMember.beneficiary == ben).execute()
        ConsentChange.update(note="").where(ConsentChange.beneficiary == ben).execute()
        CorrectionRequest.update(status="rejected", reviewed_by=actor, reviewed_at=now) \
            .where((CorrectionRequest.beneficiary == ben) & (CorrectionRequest.status == "pending")).execute()
        CorrectionRequest.update(current_value="", requested_value="", reason="", review_note="") \
            .where(CorrectionRequest.beneficiary == ben).execute()
        Beneficiary.update(
            first_name=ben.file_number, father_name="", grandfather_name="", family_name="", name_search="",
            search_key="",
            national_id=pseudonymous_id(ben), id_expiry=None, birth_date=None, mobile="", email="", district="",
            national_address="", notes="", consent_data=False, consent_contact=False, status="inactive",
            version=Beneficiary.version + 1, updated_at=now,
        ).where(Beneficiary.id == ben.id).execute()
        name_index.store([(ben.id, "")])  # the erased name is no longer found
        summary.update({"documents_kept": len(kept_docs), "documents_deleted": len(dropped_docs),
                        "timeline_entries": entries})
        erasure = Erasure.create(beneficiary=ben, actor=actor, at=now, retain_until=keep_until if retaining else None,
                                 summary=summary)
        audit("erase", "beneficiary", ben.id, summary, actor=actor)
    summary["files_deleted"] = delete_unreferenced(delete_files)
    return erasure


def delete_unreferenced(shas) -> int:
    """Delete stored files no core row refers to any more (plugins listed only files none of theirs uses)."""
    from .uploads import path_for
    from .workflow.models import Delivery, LibraryVersion, ResearchAttachment

    deleted = 0
    for sha in sorted(shas):
        if not sha:
            continue
        if (Document.select().where(Document.file_sha256 == sha).exists()
                or Attachment.select().where(Attachment.sha256 == sha).exists()
                or ResearchAttachment.select().where(ResearchAttachment.sha256 == sha).exists()
                or Delivery.select().where(Delivery.receipt_sha256 == sha).exists()
                or LibraryVersion.select().where(LibraryVersion.sha256 == sha).exists()):
            continue
        try:
            path = path_for(sha)
        except ValueError:
            continue
        if path.is_file():
            path.unlink()
            deleted += 1
    return deleted
