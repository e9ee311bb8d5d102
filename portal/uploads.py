"""One upload service for every screen: content sniffing, size cap while streaming, image bomb
checks, PDFs parsed whole and refused with active content, content-addressed storage (sha256) outside
the static folder."""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from .text import strip_controls

CHUNK = 64 * 1024
MAX_IMAGE_PIXELS = 60_000_000  # about 7,700 x 7,700: any real scan fits, a bomb does not

KINDS = {
    "pdf": ("application/pdf", (".pdf",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "png": ("image/png", (".png",)),
    "tiff": ("image/tiff", (".tif", ".tiff")),
    "webp": ("image/webp", (".webp",)),
}


class UploadError(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class StoredFile:
    sha256: str
    file_name: str
    content_type: str
    size: int
    kind: str
    pages: int = 1  # pages of a PDF, frames of a TIFF; 1 for other images


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def upload_root() -> Path:
    root = Path(current_app.config["UPLOAD_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256")
    return upload_root() / sha256[:2] / sha256[2:4] / sha256


def read_stored(sha256: str) -> bytes | None:
    """The bytes of a stored upload, or None when the name is not a sha256 or the file is gone (erased)."""
    try:
        path = path_for(sha256)
    except ValueError:
        return None
    return path.read_bytes() if path.is_file() else None


def _check_image(path: Path, max_pages: int) -> int:
    """Header-only checks first (dimensions of every frame, before any pixel is decoded), then a
    full decode of each frame so that truncated or corrupt data is caught. Returns the frame count."""
    import warnings

    from PIL import Image

    def too_large():
        return UploadError(_l("The image is too large to process."))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                frames = getattr(img, "n_frames", 1)
                if frames > max_pages:
                    raise UploadError(_l("The file has more than %(n)s pages.", n=max_pages))
                pixels = 0
                for index in range(frames):
                    img.seek(index)
                    width, height = img.size
                    pixels += width * height
                    if pixels > MAX_IMAGE_PIXELS:
                        raise too_large()
                for index in range(frames):
                    img.seek(index)
                    img.load()
            return frames
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large() from None
    except Exception:
        raise UploadError(_l("The image file is damaged or not an image.")) from None


# Names that make a PDF more than a document: scripts, launch actions, embedded files, fillable forms
# (AcroForm is judged on its own: a form whose only fields are digital signatures is a signed document).
ACTIVE_NAMES = frozenset({
    "JS", "JavaScript", "Launch", "EmbeddedFile", "EmbeddedFiles", "EF", "FileAttachment", "GoToE",
    "RichMedia", "XFA", "SubmitForm", "ImportData",
})
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM_START = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f\x80-\xff]")
MAX_PDF_OBJECTS = 500_000


def decode_name(raw: bytes) -> str:
    """A PDF name as a reader sees it: ``#xx`` escapes decoded (``Java#53cript`` is ``JavaScript``)."""
    return _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw).decode("latin-1")


def raw_names(data: bytes):
    """Every name written in the clear in ``data``, decoded. Binary stream bodies (images, compressed
    streams) are skipped: bytes there are not PDF syntax, and the structural check reads the compressed
    object streams decoded."""
    pos = 0
    while pos < len(data):
        start = _STREAM_START.search(data, pos)
        text_end = start.start() if start else len(data)
        for match in _NAME.finditer(data, pos, text_end):
            yield decode_name(match.group(1))
        if start is None:
            return
        body_end = data.find(b"endstream", start.end())
        body_end = len(data) if body_end < 0 else body_end
        if _BINARY.search(data, start.end(), body_end) is None:
            for match in _NAME.finditer(data, start.end(), body_end):
                yield decode_name(match.group(1))
        pos = body_end


def _signature_only_form(form, reader_objects) -> bool:
    """True when an /AcroForm holds no XFA and every terminal field is a signature field."""
    from pypdf.generic import ArrayObject, DictionaryObject

    form = form.get_object() if hasattr(form, "get_object") else form
    if not isinstance(form, DictionaryObject) or "/XFA" in form:
        return False
    seen = set()

    def fields_ok(fields, inherited_type) -> bool:
        fields = fields.get_object() if hasattr(fields, "get_object") else fields
        if not isinstance(fields, ArrayObject):
            return fields is None
        for ref in fields:
            key = (getattr(ref, "idnum", None), getattr(ref, "generation", None))
            if key[0] is not None:
                if key in seen or len(seen) > reader_objects:
                    continue
                seen.add(key)
            field = ref.get_object() if hasattr(ref, "get_object") else ref
            if not isinstance(field, DictionaryObject):
                continue
            field_type = field.get("/FT", inherited_type)
            kids = field.get("/Kids")
            if kids is not None:
                if not fields_ok(kids, field_type):
                    return False
            elif field_type != "/Sig":
                return False
        return True

    return fields_ok(form.get("/Fields"), None)


def active_content(reader) -> str | None:
    """Walk every object of a parsed PDF (cross-reference table, object streams, the trailer) and
    return the first active name found, or None. Names are compared after pypdf decoded their
    ``#xx`` escapes; the decoded body of each object stream is also scanned for names in the clear."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

    stack: list = [reader.trailer]
    for generation, table in reader.xref.items():
        stack.extend(IndirectObject(number, generation, reader) for number in table)
    stack.extend(IndirectObject(number, 0, reader) for number in getattr(reader, "xref_objStm", {}))
    seen: set = set()
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            return "too-many-objects"
        if isinstance(item, DictionaryObject):
            for name, value in item.items():
                bare = str(name)[1:]
                if bare in ACTIVE_NAMES:
                    return bare
                if bare == "AcroForm" and not _signature_only_form(value, MAX_PDF_OBJECTS):
                    return bare
                stack.append(value)
            if isinstance(item, StreamObject) and item.get("/Type") == "/ObjStm":
                for name in raw_names(item.get_data()):
                    if name in ACTIVE_NAMES:
                        return name
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, NameObject) and str(item)[1:] in ACTIVE_NAMES:
            return str(item)[1:]
    return None


def active_content_error():
    return UploadError(_l("The PDF contains active content (scripts, launch actions, embedded files or fillable "
                          "forms) and cannot be accepted. Print it to a new PDF or scan it, then upload the copy."))


def _check_pdf(path: Path, max_pages: int) -> int:
    """The whole file, two ways. First the bytes: complete (``%%EOF``), no active name in the clear
    (``#xx`` escapes decoded), not encrypted. Then the structure through pypdf: it must parse, every
    object (object streams included) is free of active content, every page is reachable and the
    page count is within ``max_pages``. Returns the page count."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    data = path.read_bytes()
    if b"%%EOF" not in data[-2048:]:
        raise UploadError(_l("The PDF file is damaged or incomplete."))

    def encrypted():
        return UploadError(_l("The PDF is password-protected; please upload an unprotected copy."))

    names = set(raw_names(data))
    if names & ACTIVE_NAMES:
        raise active_content_error()
    if "Encrypt" in names:
        raise encrypted()
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise encrypted()
        if active_content(reader) is not None:
            raise active_content_error()
        pages = len(reader.pages)
        if pages > max_pages:
            raise UploadError(_l("The file has more than %(n)s pages.", n=max_pages))
        for page in reader.pages:
            page.mediabox  # noqa: B018  (resolves each page object: a broken cross-reference fails here)
    except UploadError:
        raise
    # pypdf raises all of these on malformed input (NotImplementedError for a filter it does not support,
    # ZeroDivisionError or AssertionError on nonsense numbers): each means a file it cannot vouch for.
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError, IndexError,
            AssertionError, ZeroDivisionError, NotImplementedError):
        raise UploadError(_l("The PDF file is damaged or incomplete.")) from None
    if pages < 1:
        raise UploadError(_l("The PDF file has no pages."))
    return pages


def store_upload(storage, allowed=("pdf", "jpeg", "png", "tiff", "webp"), max_bytes: int | None = None,
                 max_pages: int = 200) -> StoredFile:
    """Validate and store an uploaded file (a werkzeug FileStorage). Nothing is kept on error.

    ``max_bytes`` defaults to ``MAX_UPLOAD_MB``; ``max_pages`` caps PDF pages and TIFF frames. Every PDF is
    parsed whole (``_check_pdf``): one that cannot be parsed or carries active content is refused."""
    max_bytes = max_bytes or int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    name = strip_controls(os.path.basename((storage.filename or "").replace("\\", "/")))[:200] or "upload"
    declared = storage.content_length or 0
    if declared and declared > max_bytes:
        raise UploadError(_l("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    root = upload_root()
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            head = b""
            while True:
                chunk = storage.stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError(_l("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadError(_l("The file is empty."))
        kind = sniff(head)
        if kind is None or kind not in allowed:
            raise UploadError(_l("This file type is not accepted. Upload a PDF or a photo (JPEG, PNG)."))
        ext = os.path.splitext(name)[1].lower()
        if ext and ext not in KINDS[kind][1]:
            raise UploadError(_l("The file's content does not match its name (%(ext)s).", ext=ext))
        if kind == "pdf":
            pages = _check_pdf(tmp, max_pages)
        else:
            pages = _check_image(tmp, max_pages)
        sha = digest.hexdigest()
        final = path_for(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
        return StoredFile(sha256=sha, file_name=name, content_type=KINDS[kind][0], size=size, kind=kind,
                          pages=pages)
    finally:
        if tmp.exists():
            tmp.unlink()


def store_bytes(data: bytes, file_name: str, kind: str, pages: int = 1) -> StoredFile:
    """Store content the portal produced itself (a generated PDF, a merged batch) in the same
    content-addressed place as uploads. Writes through a temporary file, so readers never see half a file."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    sha = hashlib.sha256(data).hexdigest()
    final = path_for(sha)
    if not final.exists():
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".store-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp_name, final)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
    return StoredFile(sha256=sha, file_name=file_name, content_type=KINDS[kind][0], size=len(data), kind=kind,
                      pages=pages)


def read_stored(sha256: str) -> bytes:
    """The bytes of a stored file, checked against its address (a changed file raises ValueError)."""
    data = path_for(sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError(f"stored file {sha256} does not match its hash")
    return data
