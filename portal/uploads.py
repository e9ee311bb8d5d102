"""One upload service for every screen: content sniffing, size cap while streaming, image bomb
checks, content-addressed storage (sha256) outside the static folder."""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

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
    pages: int = 1  # pages of a PDF (0 when not parsed), frames of a TIFF; 1 for other images


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


def _check_pdf(path: Path, max_pages: int, parse: bool) -> int:
    """Byte-level checks (complete file, no active content, not encrypted); with ``parse`` also the
    structure through pypdf: every page reachable, page count within ``max_pages``. Returns the page
    count (0 when not parsed)."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - 2048))
        tail = fh.read()
    if b"%%EOF" not in tail:
        raise UploadError(_l("The PDF file is damaged or incomplete."))
    with open(path, "rb") as fh:
        data = fh.read(4 * 1024 * 1024)
    if b"/JavaScript" in data or b"/JS " in data or b"/Launch" in data:
        raise UploadError(_l("The PDF contains active content and cannot be accepted."))
    def encrypted():
        return UploadError(_l("The PDF is password-protected; please upload an unprotected copy."))

    if b"/Encrypt" in data:
        raise encrypted()
    if not parse:
        return 0
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            raise encrypted()
        pages = len(reader.pages)
        if pages > max_pages:
            raise UploadError(_l("The file has more than %(n)s pages.", n=max_pages))
        for page in reader.pages:
            page.mediabox  # noqa: B018  (resolves each page object: a broken cross-reference fails here)
    except UploadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError):
        raise UploadError(_l("The PDF file is damaged or incomplete.")) from None
    if pages < 1:
        raise UploadError(_l("The PDF file has no pages."))
    return pages


def store_upload(storage, allowed=("pdf", "jpeg", "png", "tiff", "webp"), max_bytes: int | None = None,
                 max_pages: int = 200, parse_pdf: bool = False) -> StoredFile:
    """Validate and store an uploaded file (a werkzeug FileStorage). Nothing is kept on error.

    ``max_bytes`` defaults to ``MAX_UPLOAD_MB``; ``max_pages`` caps PDF pages and TIFF frames;
    ``parse_pdf`` also opens a PDF's structure (pages reachable, page count known) — screens that
    show or OCR the pages ask for it."""
    max_bytes = max_bytes or int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    name = os.path.basename((storage.filename or "").replace("\\", "/"))[:200] or "upload"
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
            pages = _check_pdf(tmp, max_pages, parse_pdf)
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
