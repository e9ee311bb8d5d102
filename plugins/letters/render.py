"""Letter rendering: merge fields, the sandboxed Jinja templates admins edit, the A4 layout
(letterhead, page numbers, signature, QR code) and WeasyPrint. Arabic letters are always rendered in
Arabic, whatever the interface language of the person issuing them."""
from __future__ import annotations

import base64
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import fontpkg
from flask import current_app
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from portal import dates
from portal.text import strip_bidi_controls
from portal.workflow.research import expected_reply_date

from . import pdfwork

FONTS = {
    "Amiri": [("amiri", 400, "normal"), ("amiri", 700, "bold")],
    "IBM Plex Sans Arabic": [("ibm-plex-sans-arabic", 400, "normal"), ("ibm-plex-sans-arabic", 600, "bold")],
    "Noto Sans": [("noto-sans", 400, "normal")],
}

# Merge fields every template may use, with a short description shown in the editor.
FIELD_HELP = {
    "beneficiary_name": "الاسم الرباعي للمستفيد",
    "beneficiary_first_name": "الاسم الأول",
    "national_id_masked": "رقم الهوية مقنّعًا (آخر أربعة أرقام)",
    "file_number": "رقم الملف",
    "beneficiary_city": "المدينة",
    "salutation": "السيد / السيدة",
    "honorific": "المحترم / المحترمة",
    "case_reference": "رقم الطلب",
    "request_type": "نوع الطلب",
    "case_status": "حالة الطلب",
    "decision_reasons": "أسباب القرار",
    "amount": "المبلغ المعتمد",
    "submitted_date": "تاريخ تقديم الطلب (هجري وميلادي)",
    "expected_reply_date": "الموعد المتوقع للرد",
    "quantity": "الكمية المعتمدة",
    "conditions": "شروط الموافقة",
    "researcher_name": "اسم الباحث الاجتماعي",
    "officer_name": "اسم الموظف المصدر للخطاب",
    "letter_number": "رقم الخطاب الصادر",
    "letter_date": "تاريخ الخطاب (هجري وميلادي)",
    "org_name": "اسم الجمعية",
}


# The committee minutes' own merge fields (``service.minutes_fields``).
MINUTES_FIELDS = ("session_date", "chair_name", "members", "quorum", "decisions", "session_title")


# Letters are Arabic documents whatever the interface language: the request types and statuses
# they name are spelled here, so a letter never depends on a catalog being compiled.
REQUEST_TYPE_AR = {
    "general": "طلب عام", "financial_aid": "مساعدة مالية", "food_basket": "سلة غذائية", "rent": "إيجار",
    "medical": "علاج", "education": "تعليم", "seasonal": "برنامج موسمي", "ramadan_basket": "سلة رمضان",
}
CASE_STATUS_AR = {
    "draft": "مسودة", "submitted": "مقدَّم", "incomplete": "ناقص المستندات", "in_research": "قيد البحث الاجتماعي",
    "awaiting_committee": "بانتظار اللجنة", "approved": "معتمد", "rejected": "معتذر عنه", "registered": "مسجل",
    "served": "قُدمت الخدمة", "closed": "مغلق", "withdrawn": "مسحوب",
}


class MissingField(Exception):
    """A merge field the template uses has no data for this letter."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class TemplateProblem(Exception):
    """The template cannot be compiled or run (syntax error, forbidden operation)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class _Missing(StrictUndefined):
    def _fail_with_undefined_error(self, *args, **kwargs):
        raise MissingField(self._undefined_name or "?")

    __str__ = __html__ = __iter__ = __len__ = __bool__ = _fail_with_undefined_error  # type: ignore[assignment]


def _lines(value) -> Markup:
    items = [line.strip(" -•\t") for line in str(value).splitlines() if line.strip(" -•\t")]
    return Markup("<ul>") + Markup("").join(Markup("<li>%s</li>") % item for item in items) + Markup("</ul>")


def _paragraphs(value) -> Markup:
    blocks = [b.strip() for b in str(value).replace("\r\n", "\n").split("\n\n") if b.strip()]
    return Markup("").join(
        Markup("<p>%s</p>") % Markup("<br>").join(escape(line) for line in block.split("\n")) for block in blocks
    )


def make_env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=True, undefined=_Missing)
    env.filters["lines"] = _lines
    env.filters["paragraphs"] = _paragraphs
    return env


_ENV = make_env()


def check_syntax(source: str, label: str) -> None:
    """Raise TemplateProblem with the line number when ``source`` does not compile."""
    try:
        _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"{label}: {exc.message}", exc.lineno) from None


def used_fields(source: str) -> set[str]:
    """Names a template reads (for the editor's field list)."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError:
        return set()
    return {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}


def unknown_fields(source: str, known: set[str]) -> set[str]:
    """Names ``source`` reads that are neither ``known`` merge fields nor its own variables (a loop's
    target, ``set``) nor the sandbox's globals. Empty when the source does not compile."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError:
        return set()
    own = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    return used_fields(source) - set(known) - own - set(_ENV.globals) - {"loop"}


def render_fragment(source: str, context: dict, label: str) -> Markup:
    try:
        return Markup(_ENV.from_string(source).render(**context))  # nosec B704 # output of the sandboxed environment with autoescape on
    except MissingField:
        raise
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"{label}: {exc.message}", exc.lineno) from None
    except (SecurityError, UndefinedError, TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateProblem(f"{label}: {exc}") from None


# --- merge fields -------------------------------------------------------------------------------

def date_words(value: dt.date) -> Markup:
    """Hijri beside Gregorian, each isolated for bidi: ``<bdi>12 جمادى الأولى 1448 هـ</bdi> الموافق <bdi>…</bdi>``."""
    return Markup('<bdi class="date">%s</bdi> الموافق <bdi class="date">%s</bdi>') % (
        dates.format_hijri(value, "ar"), dates.format_gregorian(value, "ar"))


def date_numeric(value: dt.date) -> Markup:
    return Markup('<bdi dir="ltr" class="date">%s</bdi> هـ الموافق <bdi dir="ltr" class="date">%s</bdi> م') % (
        dates.hijri_numeric(value), f"{value.year}/{value.month:02d}/{value.day:02d}")


def riyadh_today() -> dt.date:
    return dates.saudi_today()


def money(value: Decimal) -> Markup:
    return Markup('<bdi dir="ltr">%s</bdi> ريال') % f"{value:,.2f}"


def initials(*names: str) -> str:
    """First letter of the first and last name, skipping the article: "أحمد … الغامدي" -> "أ. غ."."""
    letters = []
    for name in names:
        name = (name or "").strip()
        if name.startswith("ال") and len(name) > 3:
            name = name[2:]
        if name:
            letters.append(name[0] + ".")
    return " ".join(letters)


def merge_fields(*, beneficiary=None, case=None, officer=None, extra: dict | None = None) -> dict:
    """Every merge field that has data for this letter. A field without data is left out, so a template
    that uses it fails with ``MissingField`` naming it."""
    from portal.labels import CASE_STATUS, REQUEST_TYPE, label

    values: dict = {}

    def put(key, value):
        if value is None or value == "":
            return
        values[key] = strip_bidi_controls(value) if isinstance(value, str) and not isinstance(value, Markup) else value

    if beneficiary is not None:
        put("beneficiary_name", beneficiary.full_name)
        put("beneficiary_first_name", beneficiary.first_name)
        put("national_id_masked", Markup('<bdi dir="ltr">%s</bdi>') % beneficiary.masked_id)
        put("file_number", Markup("<bdi>%s</bdi>") % beneficiary.file_number)
        put("beneficiary_city", beneficiary.city)
        put("salutation", "السيدة" if beneficiary.gender == "f" else "السيد")
        put("honorific", "المحترمة" if beneficiary.gender == "f" else "المحترم")
    if case is not None:
        put("case_reference", Markup('<bdi dir="ltr">%s</bdi>') % case.reference)
        with _arabic():
            put("request_type", REQUEST_TYPE_AR.get(case.request_type) or str(label(REQUEST_TYPE, case.request_type)))
            put("case_status", CASE_STATUS_AR.get(case.status) or str(label(CASE_STATUS, case.status)))
        put("decision_reasons", case.decision_reasons)
        if case.amount is not None:
            put("amount", money(Decimal(case.amount)))
        if getattr(case, "quantity", None):
            put("quantity", Markup("<bdi>%s</bdi>") % case.quantity)
        put("conditions", getattr(case, "conditions", ""))
        # The day the charity received the request (an incomplete one has no submission time yet), and
        # the reply it promised: the committee's due date, else received + the committee's days. Saudi days.
        received = case.submitted_at or case.created_at
        if received:
            put("submitted_date", date_words(dates.saudi_date(received)))
        reply_day = expected_reply_date(case)
        if reply_day is not None:
            put("expected_reply_date", date_words(reply_day))
        if case.assigned_researcher_id:
            put("researcher_name", case.assigned_researcher.full_name)
    if officer is not None:
        put("officer_name", officer.full_name)
    put("org_name", current_app.config["ORG_NAME_AR"])
    for key, value in (extra or {}).items():
        put(key, value)
    return values


class _arabic:
    """Translate labels into Arabic while building a letter, whatever the request's language."""

    def __enter__(self):
        from flask_babel import force_locale

        self._ctx = force_locale("ar")
        self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


# --- the document -------------------------------------------------------------------------------

@dataclass
class LetterDocument:
    subject: str
    subject_html: Markup
    body: Markup
    css: str
    number: str
    issued_on: dt.date
    recipient: str
    salutation: str = ""
    honorific: str = ""
    verify_url: str = ""
    signatory: str = ""
    signatory_title: str = ""
    officer: str = ""
    draft: bool = False
    custom_recipient: bool = False
    watermark: str = "مسودة للمعاينة"
    survey_url: str = ""  # the satisfaction survey's link (core ``document_extras``), printed as a second QR code

    @property
    def verify_display(self) -> str:
        from urllib.parse import unquote

        return unquote(self.verify_url)

    @property
    def verify_code(self) -> str:
        return self.verify_display.rsplit("c=", 1)[-1]


def compose(version, context: dict, *, number: str, issued_on: dt.date, recipient: str = "",
            verify_url: str = "", draft: bool = False) -> LetterDocument:
    """Run the version's subject and body with the merge fields; raises MissingField / TemplateProblem."""
    context = dict(context)
    context["letter_number"] = Markup("<bdi>%s</bdi>") % number
    context["letter_date"] = date_words(issued_on)
    subject_html = render_fragment(version.subject, context, "subject")
    body = render_fragment(version.body, context, "body")
    config = current_app.config
    return LetterDocument(
        subject=Markup(subject_html).striptags(), subject_html=Markup(subject_html.strip()), body=body, css=version.css or "", number=number, issued_on=issued_on,  # nosec B704 # subject_html is already the autoescaped output of render_fragment
        recipient=recipient or context.get("beneficiary_name", ""), salutation=context.get("salutation", ""),
        honorific=context.get("honorific", ""), verify_url=verify_url,
        signatory=config["LETTERS_SIGNATORY"],
        signatory_title=config["LETTERS_SIGNATORY_TITLE"], officer=context.get("officer_name", ""),
        draft=draft, custom_recipient=bool(recipient),
    )


def qr_data_uri(url: str) -> str:
    return pdfwork.qr_data_uri(url)


_logo_memo: dict = {}


def logo_data_uri() -> str:
    """The letterhead's logo as a data: URL, read once per process (again when the file changes)."""
    path = current_app.config.get("LETTERS_LOGO")
    if not path or not Path(path).is_file():
        return ""
    stat = Path(path).stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _logo_memo:
        data = Path(path).read_bytes()
        kind = {b"\x89PNG": "image/png", b"<svg": "image/svg+xml", b"<?xm": "image/svg+xml"}.get(data[:4], "image/jpeg")
        _logo_memo.clear()
        _logo_memo[key] = f"data:{kind};base64,{base64.b64encode(data).decode()}"
    return _logo_memo[key]


# --- fonts ------------------------------------------------------------------------------------------
# A variable font (Noto Sans ships as one, 2 MB with its width and weight axes) is instanced and subset again
# by WeasyPrint for every PDF. Letters use one weight of it, so it is instanced once into a static font, kept
# in a cache folder of the user (shared by every process, kept across restarts, named by the source's size and
# time; the instance folder when that cannot be written) and by each process in memory.

_variable: dict = {}
_static_memo: dict = {}
_faces_memo: dict = {}


def font_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sila-letter-fonts"


def _is_variable(source: Path) -> bool:
    if source not in _variable:
        from fontTools.ttLib import TTFont

        font = TTFont(str(source), lazy=True)
        _variable[source] = "fvar" in font
        font.close()
    return _variable[source]


def static_font(source: Path, weight: int) -> Path:
    """``source`` when it is a static font, else its instance at ``weight`` (default width) from the cache,
    made there the first time (a few seconds, once)."""
    if not _is_variable(source):
        return source
    stat = source.stat()
    stem = re.sub(r"[^A-Za-z0-9-]", "", source.stem)
    name = f"{stem}-{weight}-{stat.st_size}-{stat.st_mtime_ns}.ttf"
    for folder in (font_cache_dir(), Path(current_app.instance_path) / "letter-fonts"):
        target = folder / name
        if target.is_file():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            data = _static_memo.get(name)
            if data is None:
                data = _static_memo[name] = _instance_bytes(source, weight)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            return target
        except OSError:  # a folder that cannot be written: the next one, else the variable font itself
            continue
    return source


def _instance_bytes(source: Path, weight: int) -> bytes:
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(str(source))
    limits = {axis.axisTag: (weight if axis.axisTag == "wght" else axis.defaultValue) for axis in font["fvar"].axes}
    instancer.instantiateVariableFont(font, limits, inplace=True, optimize=False)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def font_files() -> list[tuple[str, str, str]]:
    """(family, CSS weight, file URI) of each installed face of the letter stack, a variable font as its
    static instance; worked out once per process (and instance folder)."""
    key = current_app.instance_path
    if key not in _faces_memo:
        files = []
        for family, faces in FONTS.items():
            for package, weight, style in faces:
                try:
                    path = Path(fontpkg.path(package, weight))
                except Exception:  # a missing font package: the family falls back to the next in the stack
                    continue
                files.append((family, style, static_font(path, weight).as_uri()))
        _faces_memo[key] = files
    return _faces_memo[key]


def font_faces() -> Markup:
    return Markup("\n".join(  # nosec B704 # font family names and file URIs from the font table, nothing typed
        f'@font-face {{ font-family: "{family}"; font-weight: {style}; src: url("{uri}"); }}'
        for family, style, uri in font_files()))


def document_html(doc: LetterDocument, qr_codes: dict | None = None) -> str:
    """The letter as one HTML document. With ``qr_codes`` (a dict), the QR codes are left as placeholders
    recorded there (placeholder -> URL) for ``pdfwork.render_pdf`` to draw: a batch's pool draws them."""
    config = current_app.config

    def qr(url: str, key: str) -> str:
        if not url:
            return ""
        if qr_codes is None:
            return qr_data_uri(url)
        qr_codes[pdfwork.QR_PLACEHOLDER + key] = url
        return pdfwork.QR_PLACEHOLDER + key

    with _arabic():
        # The Jinja environment directly, not render_template: the page context processors need a
        # signed-in request, and letters are also rendered by background jobs.
        return current_app.jinja_env.get_template("letters/document.html").render(
            doc=doc, fonts=font_faces(), date=date_numeric(doc.issued_on),
            qr=qr(doc.verify_url, "verify"), logo=logo_data_uri(),
            org_name=config["ORG_NAME_AR"], org_name_en=config["ORG_NAME_EN"],
            org_registration=config.get("ORG_REGISTRATION", ""), org_address=config["LETTERS_ADDRESS"],
            org_contact=config["LETTERS_CONTACT"],
            survey_qr=qr(doc.survey_url, "survey"),
        )


def _fetcher_allowing(allowed: set[str] | frozenset[str]):
    """WeasyPrint URL fetcher limited to our font files and inline data: a template's CSS cannot read
    other local files or reach the network (one per process: ``pdfwork.fetcher``)."""
    return pdfwork.fetcher(frozenset(allowed))


def _allowed_urls() -> frozenset[str]:
    return frozenset(uri for _family, _style, uri in font_files())


def html_to_pdf(html: str) -> tuple[bytes, int]:
    """PDF bytes and the page count (fonts, fetcher and font configuration kept per process: ``pdfwork``)."""
    return pdfwork.render_pdf(html, _allowed_urls())


def pdf_page_png(pdf: bytes, page: int = 1, dpi: int = 60) -> bytes | None:
    """One page of a PDF as PNG through poppler's pdftoppm; None where poppler is not installed."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(pdf)
        result = subprocess.run(
            [binary, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(source),
             str(Path(tmp) / "out")],
            capture_output=True, timeout=60,
        )
        out = Path(tmp) / "out.png"
        if result.returncode != 0 or not out.exists():
            return None
        return out.read_bytes()


def merge_pdfs(parts: list[bytes]) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for data in parts:
        writer.append(io.BytesIO(data))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def font_status() -> list[dict]:
    """Each font of the letter stack and whether its package is installed (for the status page)."""
    rows = []
    for family, faces in FONTS.items():
        for package, weight, _style in faces:
            try:
                path = str(fontpkg.path(package, weight))
            except Exception:
                path = ""
            rows.append({"family": family, "package": f"fontpkg-{package}", "weight": weight, "path": path})
    return rows
