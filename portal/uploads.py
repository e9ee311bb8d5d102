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
    # Sound and video (voice notes, videos and stickers from the messaging channels): accepted only where a
    # caller lists them in ``allowed``; each is checked by its container's structure, not by its name.
    "ogg": ("audio/ogg", (".ogg", ".oga", ".opus")),
    "amr": ("audio/amr", (".amr", ".3ga")),
    "mp4": ("video/mp4", (".mp4", ".m4a", ".m4v", ".3gp", ".3gpp", ".3g2", ".mov", ".aac")),
    "mpeg": ("audio/mpeg", (".mp3", ".mpga", ".mpeg")),
    "aac": ("audio/aac", (".aac", ".adts")),
}
AUDIO_KINDS = ("ogg", "amr", "mp4", "mpeg", "aac")
VIDEO_KINDS = ("mp4",)
# What a kind of media may weigh at most (bytes), after WhatsApp's own limits (audio and video 16 MB, a
# sticker 500 KB animated, an image 5 MB); ``store_upload(limits=...)`` applies them by the sniffed kind.
MEDIA_LIMITS = {"ogg": 16 << 20, "amr": 16 << 20, "mp4": 16 << 20, "mpeg": 16 << 20, "aac": 16 << 20,
                "webp": 1 << 20, "jpeg": 5 << 20, "png": 5 << 20}


class UploadError(ValueError):
    """``message`` is for the user; ``code`` says which rule refused the file (``"type"``: its content is
    none of the kinds allowed; ``"size"``; ``None``: damaged or unsafe content)."""

    def __init__(self, message, code=None):
        super().__init__(str(message))
        self.message = message
        self.code = code


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
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return "amr"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"ID3") or _mpeg_frame(head) is not None:
        return "mpeg"
    if len(head) >= 7 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac"
    return None


# --- sound and video containers ----------------------------------------------------------------------
# Each check walks the whole container (every OGG page, AMR frame, MP4 top-level box, MPEG or ADTS frame
# header), so that a file that only starts like audio (a renamed photo with four bytes in front, a
# truncated download) is refused. They check the structure, they do not decode the sound.

def _media_error():
    return UploadError(_l("The file is not a sound or video file that can be played, or it is damaged."))


def _check_ogg(data: bytes) -> str:
    """Every page: "OggS", version 0, a segment table whose lengths stay inside the file. The first page
    must open an Opus or Vorbis stream (a voice note is Opus)."""
    pos, pages = 0, 0
    first_payload = b""
    while pos < len(data):
        if data[pos:pos + 4] != b"OggS" or len(data) < pos + 27 or data[pos + 4] != 0:
            raise _media_error()
        segments = data[pos + 26]
        table_end = pos + 27 + segments
        if table_end > len(data):
            raise _media_error()
        body = sum(data[pos + 27:table_end])
        if table_end + body > len(data):
            raise _media_error()
        if pages == 0:
            first_payload = data[table_end:table_end + body]
        pos = table_end + body
        pages += 1
    if pages < 2 or not first_payload.startswith((b"OpusHead", b"\x01vorbis")):
        raise _media_error()
    return "audio/ogg"


_AMR_NB = {0: 12, 1: 13, 2: 15, 3: 17, 4: 19, 5: 20, 6: 26, 7: 31, 8: 5, 15: 0}
_AMR_WB = {0: 17, 1: 23, 2: 32, 3: 36, 4: 40, 5: 46, 6: 50, 7: 58, 8: 60, 9: 5, 14: 0, 15: 0}


def _check_amr(data: bytes) -> str:
    """The single-channel AMR file format (RFC 4867 section 5): the magic line, then frames whose header
    byte gives their size."""
    wide = data.startswith(b"#!AMR-WB\n")
    sizes = _AMR_WB if wide else _AMR_NB
    pos = 9 if wide else 6
    frames = 0
    while pos < len(data):
        header = data[pos]
        size = sizes.get((header >> 3) & 0x0F)
        if size is None or header & 0x83:
            raise _media_error()
        pos += 1 + size
        frames += 1
    if pos != len(data) or frames == 0:
        raise _media_error()
    return "audio/amr-wb" if wide else "audio/amr"


_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ")
_3GP_BRANDS = (b"3gp", b"3g2", b"3ge", b"3gg", b"3gs")


def _check_mp4(data: bytes) -> str:
    """ISO base media (MP4, 3GPP, M4A): the top-level boxes cover the file exactly, the first is ``ftyp``
    and one is the ``moov`` that says what the file holds."""
    pos, types = 0, []
    while pos < len(data):
        if pos + 8 > len(data):
            raise _media_error()
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        header = 8
        if size == 1:
            if pos + 16 > len(data):
                raise _media_error()
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        elif size == 0:
            size = len(data) - pos
        if size < header or pos + size > len(data) or not all(32 <= c < 127 for c in kind):
            raise _media_error()
        types.append(kind)
        pos += size
        if len(types) > 10_000:
            raise _media_error()
    if not types or types[0] != b"ftyp" or b"moov" not in types:
        raise _media_error()
    brand = data[8:12]
    if brand in _AUDIO_BRANDS:
        return "audio/mp4"
    if brand[:3] in _3GP_BRANDS:
        return "video/3gpp"
    return "video/mp4"


_MPEG_BITRATES = {  # kbit/s by (version is MPEG-1, layer) and bitrate index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame(head: bytes) -> int | None:
    """The length in bytes of the MPEG audio frame whose header starts ``head``, or None."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate_index, rate_index, padding = head[2] >> 4, (head[2] >> 2) & 3, (head[2] >> 1) & 1
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    layer = 4 - layer_bits
    table = (True, layer) if version == 3 else (False, 1 if layer == 1 else 2)
    bitrate = _MPEG_BITRATES[table][bitrate_index - 1] * 1000
    rate = _MPEG_RATES[version][rate_index]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    factor = 72 if (layer == 3 and version != 3) else 144
    return factor * bitrate // rate + padding


def _check_mpeg(data: bytes) -> str:
    """MP3 (MPEG audio): an optional ID3v2 tag, then frames, each header giving the next one's place."""
    pos = 0
    if data.startswith(b"ID3"):
        if len(data) < 10 or any(b & 0x80 for b in data[6:10]):
            raise _media_error()
        pos = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    frames = 0
    while pos + 4 <= len(data):
        length = _mpeg_frame(data[pos:pos + 4])
        if length is None:
            if frames >= 2 and data[pos:pos + 3] == b"TAG":  # an ID3v1 tag at the end
                break
            raise _media_error()
        pos += length
        frames += 1
    if frames < 2:
        raise _media_error()
    return "audio/mpeg"


def _check_aac(data: bytes) -> str:
    """AAC in ADTS frames: each frame's header gives its length (13 bits) and the next starts there."""
    pos, frames = 0, 0
    while pos < len(data):
        if pos + 7 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:
            raise _media_error()
        length = ((data[pos + 3] & 0x03) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        if length < 7:
            raise _media_error()
        pos += length
        frames += 1
    if pos != len(data) or frames == 0:
        raise _media_error()
    return "audio/aac"


MEDIA_CHECKS = {"ogg": _check_ogg, "amr": _check_amr, "mp4": _check_mp4, "mpeg": _check_mpeg, "aac": _check_aac}


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
                 max_pages: int = 200, limits: dict | None = None, refused_message=None) -> StoredFile:
    """Validate and store an uploaded file (a werkzeug FileStorage). Nothing is kept on error.

    ``max_bytes`` defaults to ``MAX_UPLOAD_MB``; ``max_pages`` caps PDF pages and TIFF frames. Every PDF is
    parsed whole (``_check_pdf``): one that cannot be parsed or carries active content is refused. Sound and
    video kinds (``AUDIO_KINDS``, ``VIDEO_KINDS``) are checked by their container's structure. ``limits``
    (kind -> bytes, e.g. ``MEDIA_LIMITS``) caps each kind below ``max_bytes``; ``refused_message`` replaces
    the message for a file whose content is none of ``allowed``."""
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
            raise UploadError(refused_message or _l("This file type is not accepted. Upload a PDF or a photo "
                                                    "(JPEG, PNG)."), code="type")
        ext = os.path.splitext(name)[1].lower()
        if ext and ext not in KINDS[kind][1]:
            raise UploadError(_l("The file's content does not match its name (%(ext)s).", ext=ext))
        limit = (limits or {}).get(kind)
        if limit and size > limit:
            raise UploadError(_l("The file is larger than %(mb)s MB.", mb=round(limit / (1024 * 1024), 1)), code="size")
        content_type = KINDS[kind][0]
        if kind == "pdf":
            pages = _check_pdf(tmp, max_pages)
        elif kind in MEDIA_CHECKS:
            content_type = MEDIA_CHECKS[kind](tmp.read_bytes())
            pages = 1
        else:
            pages = _check_image(tmp, max_pages)
        sha = digest.hexdigest()
        final = path_for(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
        return StoredFile(sha256=sha, file_name=name, content_type=content_type, size=size, kind=kind,
                          pages=pages)
    finally:
        if tmp.exists():
            tmp.unlink()


def store_form_file(field: str, errors: dict, missing_message, **options) -> StoredFile | None:
    """The file a form sent as ``field``, stored by ``store_upload`` (with ``options``) when the form has no
    error so far. No file is ``errors[field] = missing_message``; a file ``store_upload`` refuses puts its
    message there. None when nothing was stored."""
    from flask import request

    upload = request.files.get(field)
    if not upload or not upload.filename:
        errors[field] = missing_message
    if errors:
        return None
    try:
        return store_upload(upload, **options)
    except UploadError as exc:
        errors[field] = str(exc.message)
        return None


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
