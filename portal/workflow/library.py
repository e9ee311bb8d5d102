"""The officer's tools: a library of reference documents (bylaws, research guide, support policy,
request form, ...) with versions, effective dates and Arabic titles, searchable by title and text."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess

from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..dates import parse_date
from ..db import database
from ..models import User
from ..text import clean_text, normalize_name
from ..validators import ValidationError, clean_texts
from .errors import WorkflowError
from .models import LIBRARY_KINDS, LibraryDocument, LibraryVersion

DEFAULT_TOOLS = [
    ("bylaws", "اللائحة الأساسية للجمعية", "The association's basic bylaws"),
    ("research_guide", "دليل خدمات البحث الاجتماعي", "Social research services guide"),
    ("support_policy", "دليل سياسة الدعم للمستفيدين", "Beneficiary support policy guide"),
    ("request_form", "نموذج طلب دعم مستفيد", "Beneficiary support request form"),
]


def ensure_default_tools() -> int:
    """Create the policy's four tools (without versions) when the library is empty of them."""
    created = 0
    with database.atomic():
        for n, (kind, ar, en) in enumerate(DEFAULT_TOOLS, start=1):
            if not LibraryDocument.select().where(LibraryDocument.kind == kind).exists():
                LibraryDocument.create(kind=kind, title_ar=ar, title_en=en, title_search=normalize_name(f"{ar} {en}"),
                                       position=n * 10)
                created += 1
    return created


def create_document(*, kind: str, title_ar: str, title_en: str = "", actor: User | None = None) -> LibraryDocument:
    errors = {}
    if kind not in LIBRARY_KINDS:
        errors["kind"] = _l("Choose the kind of document.")
    titles = clean_texts({"title_ar": title_ar, "title_en": title_en}, (("title_ar", 200, True), ("title_en", 200, False)),
                         errors)
    title_ar, title_en = titles["title_ar"], titles["title_en"]
    if errors:
        raise WorkflowError(_l("The document was not added. Check the fields marked below."), errors)
    with database.atomic():
        doc = LibraryDocument.create(kind=kind, title_ar=title_ar, title_en=title_en,
                                     title_search=normalize_name(f"{title_ar} {title_en}"))
        audit("create", "library_document", doc.id, {"kind": kind}, actor=actor)
    return doc


def pdf_text(path) -> str:
    """The text of a PDF through poppler's ``pdftotext`` (empty when it is not installed)."""
    tool = shutil.which("pdftotext")
    if not tool:
        return ""
    try:
        done = subprocess.run([tool, "-q", "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=60,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.decode("utf-8", "replace")


def add_version(document: LibraryDocument, *, label: str, effective_from, notes: str = "", upload=None,
                actor: User | None = None) -> LibraryVersion:
    """Add a version (label, effective date Hijri or Gregorian, optional PDF); older versions are kept."""
    from ..uploads import UploadError, path_for, store_upload

    label, notes = clean_text(label), clean_text(notes)
    errors = {}
    if not label:
        errors["label"] = _l("This field is required.")
    elif len(label) > 40:
        errors["label"] = _l("Too long: at most %(n)s characters.", n=40)
    effective = effective_from if isinstance(effective_from, dt.date) else None
    if effective is None:
        try:
            effective = parse_date(effective_from)
        except ValidationError as exc:
            errors["effective_from"] = exc.message
        else:
            if effective is None:
                errors["effective_from"] = _l("This field is required.")
    if len(notes) > 5000:
        errors["notes"] = _l("Too long: at most %(n)s characters.", n=5000)
    stored = None
    if not errors and upload is not None and getattr(upload, "filename", ""):
        try:
            stored = store_upload(upload, allowed=("pdf",))
        except UploadError as exc:
            errors["file"] = exc.message
    if not errors and stored is None and not notes:
        errors["file"] = _l("Upload the document (PDF) or type its text in the notes.")
    if errors:
        raise WorkflowError(_l("The version was not added. Check the fields marked below."), errors)
    text = pdf_text(path_for(stored.sha256)) if stored else ""
    with database.atomic():
        version = LibraryVersion.create(
            document=document, label=label, effective_from=effective, notes=notes,
            text_search=normalize_name(f"{notes} {text}")[:200000], sha256=stored.sha256 if stored else "",
            file_name=stored.file_name if stored else "", content_type=stored.content_type if stored else "",
            size=stored.size if stored else 0, uploaded_by=actor)
        audit("create", "library_version", version.id, {"document": document.id, "label": label}, actor=actor)
    return version


def search(q: str) -> list[LibraryDocument]:
    """Documents whose title or any version's text contains every word of ``q`` (Arabic-normalised)."""
    query = LibraryDocument.select().order_by(LibraryDocument.position, LibraryDocument.id)
    words = [w for w in normalize_name(q).split(" ") if w][:8]
    for word in words:
        in_text = LibraryVersion.select(LibraryVersion.document).where(LibraryVersion.text_search.contains(word))
        query = query.where(LibraryDocument.title_search.contains(word) | LibraryDocument.id.in_(in_text))
    return list(query)


def current_version(document: LibraryDocument, on: dt.date | None = None) -> LibraryVersion | None:
    """The version in force on ``on`` (default today): the latest effective date not after it."""
    on = on or dt.date.today()
    return (document.versions.where(LibraryVersion.effective_from <= on)
            .order_by(LibraryVersion.effective_from.desc(), LibraryVersion.id.desc()).first())
