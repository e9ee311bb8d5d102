"""What the letters registry holds about a beneficiary, for the data-protection export and erasure."""
from __future__ import annotations

from playhouse.shortcuts import model_to_dict

from portal import hookimpl
from portal.audit import audit
from portal.db import utcnow
from portal.uploads import read_stored as _read

from .models import IncomingLetter, Letter



@hookimpl
def beneficiary_data(beneficiary) -> dict | None:
    outgoing = list(Letter.select().where(Letter.beneficiary == beneficiary).order_by(Letter.id))
    incoming = list(IncomingLetter.select().where(IncomingLetter.beneficiary == beneficiary).order_by(IncomingLetter.id))
    if not outgoing and not incoming:
        return None
    files = []
    for row in outgoing:
        if row.pdf_sha256 and (content := _read(row.pdf_sha256)) is not None:
            files.append({"name": f"{row.number}.pdf", "content": content})
    for row in incoming:
        if row.file_sha256 and (content := _read(row.file_sha256)) is not None:
            extension = row.file_name.rsplit(".", 1)[-1] if "." in row.file_name else "bin"
            files.append({"name": f"{row.number}.{extension}", "content": content})
    return {
        "name": "letters",
        "data": {
            "outgoing": [model_to_dict(r, recurse=False, exclude=[Letter.verify_code]) for r in outgoing],
            "incoming": [model_to_dict(r, recurse=False, exclude=[IncomingLetter.search_text]) for r in incoming],
        },
        "files": files,
    }


ERASED_WHILE_ISSUING = "مُسح ملف المستفيد أثناء إصدار الخطاب"


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until) -> dict | None:
    """Registry numbers, dates, subjects and statuses stay; recipients, merge fields, notes and OCR text go.
    The PDF copies and scans stay while decision evidence is retained, otherwise they are deleted."""
    outgoing = list(Letter.select().where(Letter.beneficiary == beneficiary))
    incoming = list(IncomingLetter.select().where(IncomingLetter.beneficiary == beneficiary))
    if not outgoing and not incoming:
        return None
    shas = set()
    for row in (r for r in outgoing if r.status == "issuing"):  # its PDF must not be stored after the erasure
        Letter.update(status="spoiled", revoked_at=utcnow(), revoked_reason=ERASED_WHILE_ISSUING, issue_token=None
                      ).where((Letter.id == row.id) & (Letter.status == "issuing")).execute()
        audit("update", "letter", row.id, {"status": "spoiled", "number": row.number, "reason": ERASED_WHILE_ISSUING})
    if outgoing:
        ids = [r.id for r in outgoing]
        updates = {"recipient": "", "recipient_initials": "", "fields": None}
        if retain_until is None:
            shas.update(r.pdf_sha256 for r in outgoing if r.pdf_sha256)
            updates["pdf_sha256"] = ""
        Letter.update(**updates).where(Letter.id.in_(ids)).execute()
    if incoming:
        ids = [r.id for r in incoming]
        updates = {"sender": "", "sender_reference": "", "notes": "", "ocr_text": "", "search_text": ""}
        if retain_until is None:
            shas.update(r.file_sha256 for r in incoming if r.file_sha256)
            updates["file_sha256"] = ""
        IncomingLetter.update(**updates).where(IncomingLetter.id.in_(ids)).execute()
    unused = [sha for sha in shas
              if not Letter.select().where(Letter.pdf_sha256 == sha).exists()
              and not IncomingLetter.select().where(IncomingLetter.file_sha256 == sha).exists()]
    kept = [r.number for r in outgoing] + [r.number for r in incoming]
    return {"name": "letters", "anonymised": len(outgoing) + len(incoming), "kept": kept, "delete_files": unused}
