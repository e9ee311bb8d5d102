"""Arabic by default, complete English.

- The Arabic catalogs (core and each plugin's) translate every msgid the code and templates use.
- Every screen renders ``<html lang="ar" dir="rtl">`` with no English left, and after the language switch
  ``lang="en" dir="ltr"`` with no Arabic left except data (names, addresses typed by staff).
- Validation messages follow the language; dates show Hijri beside Gregorian in both.
- The stylesheets use logical properties only.
"""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from conftest import ROLES, luhn_id, text_of

from portal.db import database

ROOT = Path(__file__).resolve().parent.parent
CORE_CATALOG = Path("portal/translations/ar/LC_MESSAGES/messages.po")
CORE_SOURCES = ("portal", "templates")
# The same keywords as `make catalogs` (BABEL_KEYWORDS in the Makefile).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Latin words an Arabic page may show: names of file formats.
LATIN_ALLOWED = {"PDF", "JPEG", "PNG", "CSV"}


# --------------------------------------------------------------------------------------------------
# (a) Catalog completeness
# --------------------------------------------------------------------------------------------------

def _mapping(root: Path):
    with open(root / "babel.cfg", encoding="utf-8") as fh:
        return parse_mapping_cfg(fh, str(root / "babel.cfg"))


def extract_messages(root: Path, sources) -> dict:
    """{(context, msgid): ["path:line", ...]} for every translatable string under ``sources``."""
    method_map, options_map = _mapping(root)
    found: dict = {}
    for source in sources:
        directory = root / source
        if not directory.is_dir():
            continue
        for filename, lineno, message, _comments, context in extract_from_dir(
            str(directory), method_map, options_map, keywords=KEYWORDS
        ):
            msgid = message if isinstance(message, str) else message[0]
            if not msgid:
                continue
            found.setdefault((context, msgid), []).append(f"{Path(source, filename).as_posix()}:{lineno}")
    return found


def _load(path: Path):
    with open(path, "rb") as fh:
        return read_po(fh, locale="ar")


def _translated(message) -> bool:
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return bool(strings) and all(s and s.strip() for s in strings)


def catalog_problems(root: Path) -> list[str]:
    """Everything that keeps the Arabic UI from being complete, one line each, grouped by catalog."""
    problems: list[str] = []
    core_path = root / CORE_CATALOG
    core = _load(core_path) if core_path.exists() else None

    units = [("core", CORE_SOURCES, core_path)]
    plugins_dir = root / "plugins"
    if plugins_dir.is_dir():
        for plugin in sorted(p for p in plugins_dir.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
            units.append((f"plugin {plugin.name}", (f"plugins/{plugin.name}",),
                          plugin / "translations" / "ar" / "LC_MESSAGES" / "messages.po"))

    for unit, sources, po_path in units:
        rel = po_path.relative_to(root).as_posix()
        catalog = _load(po_path) if po_path.exists() else None
        used = extract_messages(root, sources)
        missing = []
        for (context, msgid), where in sorted(used.items(), key=lambda kv: kv[1][0]):
            own = catalog.get(msgid, context) if catalog is not None else None
            # At run time Flask-Babel merges the plugin catalogs over the core one, so a plugin may
            # reuse a msgid the core already translates.
            if _translated(own) or (unit != "core" and core is not None and _translated(core.get(msgid, context))):
                continue
            missing.append(f"    msgid {msgid!r}  ({', '.join(where[:3])})")
        if missing:
            hint = "" if catalog is not None else " (the catalog does not exist yet)"
            problems.append(
                f"{unit}: {len(missing)} msgid(s) without an Arabic translation in {rel}{hint}:\n" + "\n".join(missing)
            )
        if catalog is None:
            continue
        fuzzy = [f"    msgid {m.id!r}" for m in catalog if m.id and m.fuzzy]
        if fuzzy:
            problems.append(f"{unit}: fuzzy entries in {rel} (check the translation, then remove '#, fuzzy'):\n"
                            + "\n".join(fuzzy))
        errors = [f"    msgid {m.id!r}: {err}" for m, errs in catalog.check() for err in errs]
        if errors:
            problems.append(f"{unit}: broken entries in {rel}:\n" + "\n".join(errors))
        not_arabic = [f"    msgid {m.id!r} -> {m.string!r}" for m in catalog
                      if m.id and _translated(m) and not all(ARABIC.search(s) for s in
                                                             (m.string if isinstance(m.string, (list, tuple))
                                                              else [m.string]))]
        if not_arabic:
            problems.append(f"{unit}: translations in {rel} with no Arabic in them:\n" + "\n".join(not_arabic))
        if catalog.num_plurals != 6:
            problems.append(f"{unit}: {rel} must declare Arabic's six plural forms (nplurals=6), "
                            f"not {catalog.num_plurals}")
    return problems


def test_arabic_catalogs_are_complete():
    problems = catalog_problems(ROOT)
    assert not problems, (
        "The Arabic UI is incomplete. Run `make catalogs`, translate the entries below, run it again.\n\n"
        + "\n\n".join(problems)
    )


def test_completeness_check_reports_missing_fuzzy_and_broken_entries(tmp_path):
    """The check above is only worth something if it can fail: try it on a small tree."""
    (tmp_path / "babel.cfg").write_text((ROOT / "babel.cfg").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "views.py").write_text(
        "from flask_babel import gettext as _, lazy_gettext as _l, ngettext\n"
        "A = _('Translated')\nB = _l('Lazy and missing')\nC = ngettext('%(num)s file', '%(num)s files', 3)\n"
        "D = _('Needs review')\nE = _('Bad placeholder %(n)s', n=1)\n",
        encoding="utf-8",
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text('<p>{{ _("From a template") }}</p>\n', encoding="utf-8")
    plugin = tmp_path / "plugins" / "demo"
    (plugin / "translations" / "ar" / "LC_MESSAGES").mkdir(parents=True)
    (plugin / "__init__.py").write_text("from flask_babel import gettext as _\nX = _('Translated')\n"
                                        "Y = _('Plugin string')\n", encoding="utf-8")
    (tmp_path / "plugins" / "bare").mkdir()
    (tmp_path / "plugins" / "bare" / "__init__.py").write_text(
        "from flask_babel import gettext as _\nZ = _('No catalog at all')\n", encoding="utf-8")
    header = ('msgid ""\nmsgstr ""\n"Language: ar\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n'
              '"Plural-Forms: nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 '
              ': n%100>=11 ? 4 : 5);\\n"\n\n')
    core_po = tmp_path / CORE_CATALOG
    core_po.parent.mkdir(parents=True)
    core_po.write_text(
        header
        + 'msgid "Translated"\nmsgstr "مترجم"\n\n'
        + 'msgid "%(num)s file"\nmsgid_plural "%(num)s files"\nmsgstr[0] "لا ملفات"\nmsgstr[1] "ملف واحد"\n'
          'msgstr[2] "ملفان"\nmsgstr[3] "%(num)s ملفات"\nmsgstr[4] ""\nmsgstr[5] "%(num)s ملف"\n\n'
        + '#, fuzzy\nmsgid "Needs review"\nmsgstr "يحتاج مراجعة"\n\n'
        + '#, python-format\nmsgid "Bad placeholder %(n)s"\nmsgstr "عنصر %(x)s"\n\n'
        + 'msgid "From a template"\nmsgstr "From a template"\n',
        encoding="utf-8",
    )
    # A plugin catalog declaring English plural rules would give every plural message the wrong form.
    (plugin / "translations" / "ar" / "LC_MESSAGES" / "messages.po").write_text(
        header.replace("nplurals=6", "nplurals=2").replace(
            "plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5)", "plural=(n != 1)"),
        encoding="utf-8")

    report = "\n".join(catalog_problems(tmp_path))
    core_part = report.split("plugin demo")[0]
    assert "'Lazy and missing'  (portal/views.py:3)" in core_part
    assert "'%(num)s file'" in core_part  # one plural form is empty
    assert "'Needs review'" in core_part and "fuzzy" in core_part  # fuzzy: missing and listed as fuzzy
    assert "'Bad placeholder %(n)s': unknown named placeholder 'x'" in core_part
    assert "msgid 'From a template' -> 'From a template'" in report  # English pasted as the translation
    assert "'Translated'" not in report  # the plugin reuses the core's translation
    assert "plugin demo: 1 msgid(s)" in report and "'Plugin string'  (plugins/demo/__init__.py:3)" in report
    assert "plugin demo: plugins/demo/translations/ar/LC_MESSAGES/messages.po must declare Arabic's six plural " \
        "forms (nplurals=6), not 2" in report
    assert "plugin bare" in report and "'No catalog at all'" in report and "does not exist yet" in report


def test_the_core_catalog_uses_arabic_plural_forms():
    catalog = _load(ROOT / CORE_CATALOG)
    assert catalog.num_plurals == 6
    plurals = [m for m in catalog if m.id and m.pluralizable]
    assert plurals, "the result count is a plural message"
    for message in plurals:
        assert len(message.string) == 6 and all(message.string), message.id


# --------------------------------------------------------------------------------------------------
# Screens in both languages
# --------------------------------------------------------------------------------------------------

class _UIText(HTMLParser):
    """Text a user reads or hears: visible text plus placeholder/title/aria-label/alt and button values.

    Skips scripts, styles, ``<code>`` (identifiers) and any element marked with another language
    (the language switch says "English" in English on an Arabic page, as it should)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")

    def __init__(self, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.stack: list[tuple[str, bool]] = []
        self.skipping = 0
        self.parts: list[str] = []

    def _open(self, tag, attrs, void):
        attrs = dict(attrs)
        skip = tag in ("script", "style", "code") or (tag != "html" and attrs.get("lang") not in (None, self.lang))
        if not void:
            self.stack.append((tag, skip))
            self.skipping += skip
        if self.skipping or skip:
            return
        self.parts.extend(attrs[name] for name in self.ATTRIBUTES if attrs.get(name))
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_starttag(self, tag, attrs):
        self._open(tag, attrs, tag in self.VOID)

    def handle_startendtag(self, tag, attrs):
        self._open(tag, attrs, True)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                for _tag, skip in self.stack[index:]:
                    self.skipping -= skip
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def ui_text(html: str, lang: str, data=()) -> str:
    parser = _UIText(lang)
    parser.feed(html)
    parser.close()
    text = " ".join(parser.parts)
    # A web address or path in a message (a rating link) is not UI text: tokens with two slashes or more.
    text = re.sub(r"\S*/\S*/\S*", " ", text)
    for value in sorted({d for d in data if d}, key=len, reverse=True):
        text = text.replace(value, " ")
    return re.sub(r"\s+", " ", text).strip()


def foreign_words(html: str, lang: str, data=()) -> list[str]:
    """UI words in the wrong language: Latin words on an Arabic page, Arabic on an English one."""
    text = ui_text(html, lang, data)
    words = text.split()
    if lang == "ar":
        return sorted({w for word in words for w in LATIN_WORD.findall(word) if w not in LATIN_ALLOWED})
    return sorted({word for word in words if ARABIC.search(word)})


def test_ui_text_helper_sees_what_a_user_sees():
    html = ('<html lang="ar" dir="rtl"><head><title>صلة</title><style>.a{}</style></head><body>'
            '<button lang="en">English</button><input placeholder="Search here" value="typed by user">'
            '<code>plugins.phone</code><p title="Hello">مرحبا <b>Save</b></p><br>'
            '<input type="submit" value="Send"><script>var x = "y";</script></body></html>')
    assert ui_text(html, "ar") == "صلة Search here Hello مرحبا Save Send"
    assert foreign_words(html, "ar") == ["Hello", "Save", "Search", "Send", "here"]
    assert foreign_words('<html lang="en"><p>Save <span>حفظ</span> أحمد</p></html>', "en", data=["أحمد"]) == ["حفظ"]


@pytest.fixture
def world(app, users):
    """A beneficiary with a household, an expired document, an open request, contacts on several
    channels (one with an attachment, one with a follow-up due), and the Arabic data strings."""
    from portal import beneficiaries_service as service
    from portal.models import Attachment, Branch, Case, Document, HouseholdMember, TimelineEntry, User
    from portal.timeline import log_entry

    today = dt.date.today()
    with app.test_request_context(), database.connection_context():
        officer = User.get_by_id(users["officer"])
        res = service.validate({
            "first_name": "نورة", "father_name": "سعد", "grandfather_name": "عبدالرحمن", "family_name": "القحطاني",
            "national_id": luhn_id("104455667"), "gender": "f", "mobile": "0551234567", "birth_date": "1401-07-15",
            "id_expiry": (today - dt.timedelta(days=40)).isoformat(), "city": "الطائف", "district": "الشهداء",
            "national_address": "RQAA1234", "category": "widow", "branch": "TAIF", "consent_data": "1",
            "notes": "تحتاج متابعة شهرية",
        })
        assert res.ok, res.errors
        ben = service.create(res.values, actor=officer)
        other = service.create(service.validate({
            "first_name": "فهد", "father_name": "علي", "family_name": "الزهراني", "national_id": luhn_id("204455667"),
            "gender": "m", "mobile": "0559876543", "category": "elderly", "branch": "MKK",
        }).values, actor=officer)
        HouseholdMember.create(beneficiary=ben, name="ريم سعد القحطاني", relation="daughter",
                               birth_date=dt.date(2012, 3, 1), gender="f")
        Document.create(beneficiary=ben, kind="national_id", number="1044556677",
                        issue_date=today - dt.timedelta(days=3700), expiry_date=today - dt.timedelta(days=40))
        Document.create(beneficiary=ben, kind="lease", expiry_date=today + dt.timedelta(days=200))
        case = Case.create(reference="1448-000007", beneficiary=ben, request_type="food_basket",
                           status="awaiting_committee", created_by=officer)
        summaries = {
            "interview": "حضرت للمقر وسلمت صورة الهوية", "phone": "اتصلت تسأل عن موعد السلة",
            "social": "رسالة واتساب بخصوص الطلب", "letters": "خطاب تعريف من العمدة",
        }
        entries = {}
        for channel, summary in summaries.items():
            entries[channel] = log_entry(channel=channel, beneficiary=ben, summary=summary, actor=officer,
                                         body="تفاصيل المكالمة" if channel == "phone" else "",
                                         direction="out" if channel == "letters" else "in",
                                         case=case if channel == "phone" else None,
                                         follow_up_due=today - dt.timedelta(days=1) if channel == "phone" else None)
        Attachment.create(entry=entries["letters"], sha256="0" * 64, file_name="خطاب_العمدة.pdf",
                          content_type="application/pdf", size=48_000)
        log_entry(channel="phone", summary="رقم غير معروف اتصل", direction="in")
        # Two roles: the staff list joins them with the language's list separator.
        User.create(username="salma", full_name="سلمى الحارثي", roles="officer,researcher", password_hash="-")
        names = [ben.full_name, other.full_name, "ريم سعد القحطاني"]
        branches = [b for row in Branch.select() for b in (row.name_ar, row.name_en)]
        staff = [u for row in User.select() for u in (row.full_name, row.username)]
    data = names + branches + staff + list(summaries.values()) + [
        "الطائف", "الشهداء", "RQAA1234", "تحتاج متابعة شهرية", "تفاصيل المكالمة", "خطاب_العمدة.pdf",
        "رقم غير معروف اتصل", "غيرموجود", "سعد", "نورة", "القحطاني", "عبدالرحمن", "فهد", "علي", "الزهراني",
    ]
    return {"ben": ben.id, "other": other.id, "case": case.id, "data": data, "users": users}


def _bad_beneficiary():
    return {"first_name": "", "father_name": "سعد", "family_name": "ب" * 61, "national_id": "1000000009",
            "gender": "f", "mobile": "+201001234567", "birth_date": "1447-02-30"}


# (name, role, method, url, form data, expected status); {ben}, {other}, {officer} are filled from `world`.
PAGES = [
    ("login", None, "GET", "/login", None, 200),
    ("login error", None, "POST", "/login", {"username": "nobody", "password": "wrong-password"}, 401),
    ("dashboard", "officer", "GET", "/", None, 200),
    ("beneficiary list", "officer", "GET", "/beneficiaries/", None, 200),
    ("search results", "officer", "GET", "/beneficiaries/?q=القحطاني", None, 200),
    ("search fragment", "officer", "GET", "/beneficiaries/?q=0551234567", "htmx", 200),
    ("search without match", "officer", "GET", "/beneficiaries/?q=غيرموجود", None, 200),
    ("profile", "officer", "GET", "/beneficiaries/{ben}", None, 200),
    ("profile read-only", "committee", "GET", "/beneficiaries/{ben}", None, 200),
    ("timeline page", "officer", "GET", "/beneficiaries/{ben}/timeline?channel=phone", None, 200),
    ("new beneficiary form", "officer", "GET", "/beneficiaries/new", None, 200),
    ("form errors", "officer", "POST", "/beneficiaries/new", "bad-beneficiary", 422),
    ("duplicate warning", "officer", "POST", "/beneficiaries/new", "same-mobile", 200),
    ("edit form", "officer", "GET", "/beneficiaries/{ben}/edit", None, 200),
    ("household errors", "officer", "POST", "/beneficiaries/{ben}/household",
     {"name": "", "relation": "cousin", "national_id": "123", "birth_date": "31/02/2020"}, 422),
    ("document errors", "officer", "POST", "/beneficiaries/{ben}/documents",
     {"kind": "", "issue_date": "2026-05-01", "expiry_date": "2026-01-01"}, 422),
    ("contact errors", "officer", "POST", "/beneficiaries/{ben}/contacts",
     {"channel": "fax", "direction": "in", "summary": "", "occurred_at": "tomorrow", "follow_up_due": "1447-13-01"},
     422),
    ("contact errors fragment", "officer", "POST", "/beneficiaries/{ben}/contacts",
     {"channel": "interview", "direction": "in", "summary": "س" * 301}, 422),
    ("contact logged fragment", "officer", "POST", "/beneficiaries/{ben}/contacts",
     {"channel": "interview", "direction": "in", "summary": "راجعت المكتب بخصوص السلة", "follow_up_due": "1448-07-01"},
     200),
    ("edit conflict", "officer", "POST", "/beneficiaries/{ben}/edit", "stale-edit", 409),
    ("staff accounts", "admin", "GET", "/admin/users", None, 200),
    ("new account", "admin", "GET", "/admin/users/new", None, 200),
    ("account errors", "admin", "POST", "/admin/users/new",
     {"username": "X Y", "full_name": "", "roles": ["delegate", "king"], "password": "short", "phone": "12"}, 422),
    ("edit account", "admin", "GET", "/admin/users/{officer}", None, 200),
    ("plugins", "admin", "GET", "/admin/plugins", None, 200),
    ("change password", "officer", "GET", "/account/password", None, 200),
    ("password errors", "officer", "POST", "/account/password",
     {"current_password": "wrong-password", "new_password": "qwerty123456", "confirm_password": "x"}, 422),
    ("two-step setup", "admin", "GET", "/account/two-step", None, 200),
    ("data protection", "manager", "GET", "/beneficiaries/{ben}/privacy", None, 200),
    ("data protection officer", "officer", "GET", "/beneficiaries/{ben}/privacy", None, 200),
    ("consent errors", "officer", "POST", "/beneficiaries/{ben}/consent", {"kind": "x", "note": "س" * 301}, 422),
    ("correction errors", "officer", "POST", "/beneficiaries/{ben}/corrections",
     {"field": "birth_date", "requested_value": "1447-02-30", "channel": "phone"}, 422),
    ("erase confirmation wrong", "admin", "POST", "/beneficiaries/{ben}/erase", {"confirm": "1"}, 422),
    ("audit log", "admin", "GET", "/admin/audit", None, 200),
    ("audit log errors", "manager", "GET", "/admin/audit?date_from=1447-02-30&user=nobody", None, 422),
    ("not found", "officer", "GET", "/beneficiaries/999999", None, 404),
    ("forbidden", "officer", "GET", "/admin/users", None, 403),
    ("other branch", "delegate", "GET", "/beneficiaries/{other}", None, 403),
    ("wrong method", "officer", "GET", "/logout", None, 405),
]


def _fetch(client, world, page, lang):
    name, role, method, url, form, status = page
    if role:
        assert client.post("/login", data={"username": role, "password": "correct-horse-battery"}).status_code == 302
    if lang == "en":
        switched = client.post("/language", data={"lang": "en", "next": "/"})
        assert switched.status_code == 302
    url = url.format(ben=world["ben"], other=world["other"], officer=world["users"]["officer"])
    headers = {}
    if form == "htmx" or name.endswith("fragment"):
        headers["HX-Request"] = "true"
        form = None if form == "htmx" else form
    if form == "bad-beneficiary":
        form = _bad_beneficiary()
    elif form == "same-mobile":
        form = {"first_name": "هند", "father_name": "سعد", "family_name": "القحطاني", "national_id": luhn_id("109988776"),
                "gender": "f", "mobile": "0551234567"}
        world = dict(world, data=world["data"] + ["هند", "هند سعد القحطاني"])
    elif form == "stale-edit":
        form = {"first_name": "نورة", "father_name": "سعد", "family_name": "القحطاني", "gender": "f",
                "national_id": luhn_id("104455667"), "mobile": "0551234567", "city": "جدة", "version": "0"}
    if name == "contact logged fragment":
        world = dict(world, data=world["data"] + [form["summary"]])
    response = client.open(url, method=method, data=form, headers=headers)
    assert response.status_code == status, (name, response.status_code)
    return response, world


# Each language: its direction, what its words look like, and the name of the other one.
PAGE_LANGUAGES = {"ar": ("rtl", ARABIC, "English", "Arabic"), "en": ("ltr", LATIN_WORD, "Arabic", "English")}


@pytest.mark.parametrize("lang", ["ar", "en"], ids=["arabic_by_default", "english_after_the_switch"])
@pytest.mark.parametrize("page", PAGES, ids=[p[0] for p in PAGES])
def test_pages_speak_the_chosen_language_only(client, world, page, lang):
    direction, words, other, name = PAGE_LANGUAGES[lang]
    response, world = _fetch(client, world, page, lang)
    html = response.get_data(as_text=True)
    if "<html" in html:
        assert f'<html lang="{lang}" dir="{direction}">' in html
    leftovers = foreign_words(html, lang, world["data"])
    assert not leftovers, f"{other} left on the {name} page {page[0]!r}: {leftovers}"
    assert words.search(ui_text(html, lang, world["data"])), f"the page says nothing in {name}"


def test_key_screens_say_the_expected_things_in_each_language(client, world):
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    profile = f"/beneficiaries/{world['ben']}"
    expected = {
        "ar": {
            "/": ["لوحة المتابعة", "اتصالات اليوم", "الطلبات المفتوحة", "المتابعات المستحقة", "بانتظار لجنة البحث"],
            "/beneficiaries/?q=القحطاني": ["المستفيدون", "نتيجة واحدة للبحث عن «القحطاني»", "أرملة"],
            profile: ["البيانات الشخصية", "منتهية الصلاحية", "أفراد الأسرة", "ابنة", "طلبات الدعم", "سلة غذائية",
                      "تسجيل تواصل", "سجل التواصل", "وارد من المستفيد", "صادر إلى المستفيد", "بطاقة الهوية الوطنية",
                      "المقابلة الشخصية", "الاتصالات الهاتفية", "كيلوبايت"],
            "/beneficiaries/new": ["تسجيل مستفيد", "الاسم الرباعي", "رقم الهوية الوطنية أو الإقامة", "حفظ"],
        },
        "en": {
            "/": ["Dashboard", "Today's contacts", "Open requests", "Follow-ups due", "Awaiting the committee"],
            "/beneficiaries/?q=القحطاني": ["Beneficiaries", "1 result for “القحطاني”", "Widow"],
            profile: ["Personal details", "Expired", "Household", "Daughter", "Requests", "Food basket",
                      "Log a contact", "Timeline", "From the beneficiary", "To the beneficiary", "National ID card",
                      "In-person interview", "Phone calls", "47 KB"],
            "/beneficiaries/new": ["Register a beneficiary", "Name (four parts)", "National ID or iqama number", "Save"],
        },
    }
    for lang, pages in expected.items():
        client.post("/language", data={"lang": lang, "next": "/"})
        for url, phrases in pages.items():
            text = text_of(client.get(url))
            missing = [p for p in phrases if p not in text]
            assert not missing, (lang, url, missing)


def test_flashed_messages_follow_the_language(client, users, beneficiary_data):
    prompt = client.get("/beneficiaries/", follow_redirects=True)
    assert "يرجى تسجيل الدخول للمتابعة." in text_of(prompt)
    client.post("/language", data={"lang": "en", "next": "/"})
    assert "Please sign in to continue." in text_of(client.get("/beneficiaries/", follow_redirects=True))
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    saved = client.post("/beneficiaries/new", data=beneficiary_data, follow_redirects=True)
    assert "The beneficiary was registered with file number 000001." in text_of(saved)
    client.post("/language", data={"lang": "ar", "next": "/"})
    signed_out = client.post("/logout", follow_redirects=True)
    assert "تم تسجيل خروجك." in text_of(signed_out)


def test_result_count_uses_arabic_plural_forms(client, auth, make_beneficiary):
    for index in range(3):
        make_beneficiary(family_name="العمري")
    make_beneficiary(family_name="السبيعي")
    make_beneficiary(family_name="السبيعي")
    auth.login()
    assert "نتيجتان للبحث عن «السبيعي»" in text_of(client.get("/beneficiaries/?q=السبيعي"))
    assert "3 نتائج للبحث عن «العمري»" in text_of(client.get("/beneficiaries/?q=العمري"))
    assert "2 results for “السبيعي”" in text_of(client.get("/beneficiaries/?q=السبيعي&lang=en"))


def test_eleven_to_ninety_nine_take_the_singular_in_arabic(app):
    with app.test_request_context("/"):
        from flask_babel import ngettext

        one, many = "%(num)s result for “%(q)s”", "%(num)s results for “%(q)s”"
        assert ngettext(one, many, 11, q="x") == "11 نتيجة للبحث عن «x»"
        assert ngettext(one, many, 10, q="x") == "10 نتائج للبحث عن «x»"
        assert ngettext(one, many, 1, q="x") == "نتيجة واحدة للبحث عن «x»"
    with app.test_request_context("/?lang=en"):
        assert ngettext(one, many, 11, q="x") == "11 results for “x”"


# --------------------------------------------------------------------------------------------------
# (c) The language switch
# --------------------------------------------------------------------------------------------------

def test_language_switch_sets_a_cookie_and_returns_to_the_page(client, auth, world):
    auth.login()
    page = f"/beneficiaries/{world['ben']}"
    assert '<html lang="ar" dir="rtl">' in client.get(page).get_data(as_text=True)
    response = client.post("/language", data={"lang": "en", "next": page + "?channel=phone"})
    assert response.status_code == 302
    assert response.headers["Location"] == page + "?channel=phone"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    english = client.get(page).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english
    # The switch offers the way back, labelled in Arabic and marked as Arabic.
    assert '<button type="submit" class="link" lang="ar">العربية</button>' in english
    assert '<input type="hidden" name="lang" value="ar">' in english
    client.post("/language", data={"lang": "ar", "next": page})
    assert '<html lang="ar" dir="rtl">' in client.get(page).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/login", "/site/", "/site/appointments"])
def test_every_layouts_language_switch_is_a_full_page_load(client, path):
    """A boosted swap would keep <html lang dir> of the old language: the switch of the staff layout and of the
    public layout (the website, the appointments, the survey) is never boosted."""
    html = client.get(path).get_data(as_text=True)
    switch = re.search(r'<form method="post" action="/language"[^>]*>', html)
    assert switch and 'hx-boost="false"' in switch.group(0), path


@pytest.mark.parametrize("value", ["fr", "", "ar-SA", "<script>"])
def test_unknown_language_falls_back_to_arabic(client, auth, value):
    auth.login()
    response = client.post("/language", data={"lang": value, "next": "/"})
    assert response.headers["Set-Cookie"].startswith("lang=ar")
    assert '<html lang="ar" dir="rtl">' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/steal", "//evil.example/x", "javascript:alert(1)"])
def test_language_switch_stays_on_this_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil.example" not in location


def test_language_switch_needs_the_csrf_token(app_config, tmp_path, monkeypatch):
    from portal import create_app

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance-csrf"))
    app = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    refused = client.post("/language", data={"lang": "en", "next": "/"})
    assert refused.status_code == 400
    assert "انتهت صلاحية النموذج أو أُرسل من مصدر آخر" in text_of(refused)
    assert "Set-Cookie" not in refused.headers or "lang=" not in refused.headers["Set-Cookie"]
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    accepted = client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert accepted.status_code == 302
    assert '<html lang="en" dir="ltr">' in client.get("/login").get_data(as_text=True)


def test_api_errors_follow_the_language(client, users):
    assert client.get("/api/v1/beneficiaries").get_json()["error"] == "يلزم رمز وصول (Bearer token)."
    assert client.get("/api/v1/beneficiaries?lang=en").get_json()["error"] == "A bearer token is required."


# --------------------------------------------------------------------------------------------------
# (d) Validation messages in the user's language
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("field", "value", "arabic", "english"),
    [
        ("national_id", "1000000009", "رقم الهوية غير صحيح: رقم التحقق", "its check digit does not match"),
        ("national_id", "100000000", "10 أرقام بالضبط (عدد ما أدخلته: 9)", "exactly 10 digits (you entered 9)"),
        ("national_id", "3000000005", "يبدأ بالرقم 1 للمواطن أو 2 للمقيم", "starts with 1 for a citizen"),
        ("national_id", "10000O0008", "من أرقام فقط", "digits only"),
        ("mobile", "+201001234567", "رقم جوال سعودي", "Saudi mobile number"),
        ("mobile", "12345", "رقم الهاتف هذا غير صحيح", "This phone number is not valid"),
        ("birth_date", "2999-01-01", "لا يمكن أن يكون تاريخ الميلاد في المستقبل", "cannot be in the future"),
        ("birth_date", "1447-02-30", "هذا التاريخ الهجري غير موجود", "This Hijri date does not exist"),
        ("birth_date", "31/02/2020", "هذا التاريخ غير موجود", "This date does not exist"),
        ("birth_date", "12-2020", "أدخل التاريخ بالصيغة", "Enter the date as YYYY-MM-DD"),
        ("first_name", "", "هذا الحقل مطلوب", "This field is required"),
        ("family_name", "ب" * 61, "الحد الأقصى لعدد الأحرف 60", "at most 60 characters"),
        ("gender", "x", "اختر ذكر أو أنثى", "Choose male or female"),
        ("email", "not-an-email", "ليس بريدًا إلكترونيًا", "not an email address"),
    ],
)
def test_validation_messages_follow_the_language(client, auth, app, beneficiary_data, field, value, arabic, english):
    auth.login()
    beneficiary_data[field] = value
    arabic_page = client.post("/beneficiaries/new", data=beneficiary_data)
    assert arabic_page.status_code == 422
    assert arabic in text_of(arabic_page)
    assert "يرجى تصحيح الحقول المميّزة." in text_of(arabic_page)
    english_page = client.post("/beneficiaries/new?lang=en", data=beneficiary_data)
    assert english in text_of(english_page)
    assert "Please correct the highlighted fields." in text_of(english_page)


def test_form_library_messages_are_arabic_too(client, world):
    """WTForms' own messages (required, choice, date) and our length message on the contact form."""
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    response = client.post(f"/beneficiaries/{world['ben']}/contacts",
                           data={"channel": "fax", "summary": "", "occurred_at": "tomorrow"})
    text = text_of(response)
    assert "هذا الحقل مطلوب." in text and "اختيار غير صحيح." in text and "قيمة الوقت والتاريخ غير صالحة." in text
    response = client.post(f"/beneficiaries/{world['ben']}/contacts",
                           data={"channel": "interview", "summary": "س" * 301, "follow_up_due": "1447-13-01"})
    text = text_of(response)
    assert "الحد الأقصى لعدد الأحرف 300" in text and "هذا التاريخ الهجري غير موجود" in text


def test_upload_errors_are_arabic(client, world):
    import io

    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    response = client.post(
        f"/beneficiaries/{world['ben']}/documents",
        data={"kind": "lease", "file": (io.BytesIO(b"MZ\x90\x00 not a document"), "lease.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "نوع الملف غير مقبول" in text_of(response)


# --------------------------------------------------------------------------------------------------
# (4) Logical CSS properties only
# --------------------------------------------------------------------------------------------------

PHYSICAL_PROPERTIES = re.compile(
    r"^(?:margin|padding|border)-(?:left|right)(?:-\w+)?$|^border-(?:top|bottom)-(?:left|right)-radius$"
    r"|^(?:left|right)$|^scroll-(?:margin|padding)-(?:left|right)$"
)
SIDE_VALUES = {"float", "clear", "text-align", "caption-side", "resize"}


def css_problems(css: str) -> list[str]:
    """Declarations that name a physical side (left/right) instead of a logical one."""
    problems = []
    css = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), css, flags=re.S)
    for match in re.finditer(r"([a-zA-Z-]+)\s*:\s*([^;{}]+)", css):
        prop, value = match.group(1).lower(), match.group(2).strip().lower()
        line = css.count("\n", 0, match.start()) + 1
        if PHYSICAL_PROPERTIES.match(prop):
            problems.append(f"line {line}: {prop}: {value}")
        elif prop in SIDE_VALUES and re.search(r"\b(left|right)\b", value):
            problems.append(f"line {line}: {prop}: {value}")
    return problems


def test_css_check_finds_physical_properties():
    sample = """
    .a { margin-left: 1rem; padding-inline-start: 2px; }
    .b { float: right; text-align: start; }
    /* margin-right: 3px in a comment is fine */
    .c { right: 0; inset-inline-end: 0; border-top-left-radius: 4px; }
    .d { text-align: left; border-right-width: 1px; margin-inline: auto; }
    .e:hover { color: red; }
    """
    assert css_problems(sample) == [
        "line 2: margin-left: 1rem", "line 3: float: right", "line 5: right: 0",
        "line 5: border-top-left-radius: 4px", "line 6: text-align: left", "line 6: border-right-width: 1px",
    ]


def test_stylesheets_use_logical_properties_only():
    sheets = sorted((ROOT / "portal" / "static").rglob("*.css")) + sorted((ROOT / "plugins").rglob("*.css"))
    sheets = [s for s in sheets if "vendor" not in s.parts]
    assert sheets, "no stylesheet found"
    found = [f"{sheet.relative_to(ROOT)} {problem}" for sheet in sheets
             for problem in css_problems(sheet.read_text(encoding="utf-8"))]
    assert not found, "Use logical properties (margin-inline-start, inset-inline-end, text-align: start ...):\n" + \
        "\n".join(found)


# --------------------------------------------------------------------------------------------------
# (5) Hijri beside Gregorian, in both languages
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "arabic", "english"),
    [
        (dt.date(2026, 11, 27), ("17 جمادى الآخرة 1448 هـ", "27 نوفمبر 2026 م"), ("17 Jumada al-Akhirah 1448 AH", "27 Nov 2026")),
        (dt.date(2026, 2, 18), ("1 رمضان 1447 هـ", "18 فبراير 2026 م"), ("1 Ramadan 1447 AH", "18 Feb 2026")),
        (dt.date(2026, 3, 20), ("1 شوال 1447 هـ", "20 مارس 2026 م"), ("1 Shawwal 1447 AH", "20 Mar 2026")),
    ],
)
def test_date_filter_shows_hijri_beside_gregorian(app, value, arabic, english):
    for lang, (hijri, greg) in (("ar", arabic), ("en", english)):
        with app.test_request_context(f"/?lang={lang}"):
            html = str(app.jinja_env.from_string("{{ d|date }}").render(d=value))
        assert f'<time datetime="{value.isoformat()}">' in html
        assert f'<bdi class="hijri">{hijri}</bdi>' in html and f'<bdi class="greg">{greg}</bdi>' in html
        assert html.index(hijri) < html.index(greg)
        if lang == "en":
            assert not ARABIC.search(html), html


def test_datetime_filter_shows_saudi_time(app):
    moment = dt.datetime(2026, 11, 27, 21, 30)  # stored in UTC: 00:30 on the 28th in Riyadh
    for lang, hijri in (("ar", "18 جمادى الآخرة 1448 هـ"), ("en", "18 Jumada al-Akhirah 1448 AH")):
        with app.test_request_context(f"/?lang={lang}"):
            html = str(app.jinja_env.from_string("{{ d|datetime }}").render(d=moment))
            aware = str(app.jinja_env.from_string("{{ d|datetime }}").render(d=moment.replace(tzinfo=dt.UTC)))
        assert hijri in html
        assert '<time datetime="2026-11-28T00:30:00+03:00">' in html and "<bdi>00:30</bdi>" in html
        assert aware == html


def test_dates_on_pages_show_both_calendars_in_both_languages(client, world):
    from portal.dates import format_gregorian, format_hijri

    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    page = f"/beneficiaries/{world['ben']}"
    birth = dt.date(1981, 5, 19)  # 1401-07-15 AH, typed as Hijri in the fixture
    for lang in ("ar", "en"):
        client.post("/language", data={"lang": lang, "next": "/"})
        text = text_of(client.get(page))
        assert f"{format_hijri(birth, lang)} · {format_gregorian(birth, lang)}" in text
    assert format_hijri(birth, "ar") == "15 رجب 1401 هـ"
    assert format_hijri(birth, "en") == "15 Rajab 1401 AH"


# --------------------------------------------------------------------------------------------------
# A plugin's own catalog is merged with the core's
# --------------------------------------------------------------------------------------------------

PROBE_PLUGIN = '''
from flask import url_for
from flask_babel import gettext as _

from portal import hookimpl


@hookimpl
def menu_links(user, request):
    return [{"href": url_for("dashboard.index"), "label": _("Probe reports"), "active": False}]
'''


def test_plugin_catalog_is_merged_with_the_core_catalog(app_config, tmp_path, monkeypatch, users):
    """A plugin ships ``translations/ar/LC_MESSAGES/messages.po`` beside its ``__init__.py``; its msgids are
    translated on screen while the core's stay translated."""
    import importlib

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from portal import create_app

    package = tmp_path / "site" / "sila_probe_plugin"
    messages = package / "translations" / "ar" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (package / "__init__.py").write_text(PROBE_PLUGIN, encoding="utf-8")
    catalog = Catalog(locale="ar")
    catalog.add("Probe reports", "تقارير التجربة")
    with open(messages / "messages.mo", "wb") as fh:
        write_mo(fh, catalog)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    module = importlib.import_module("sila_probe_plugin")
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance-probe"))
    client = create_app(dict(app_config, EXTRA_PLUGINS=[module])).test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    arabic = text_of(client.get("/"))
    assert "تقارير التجربة" in arabic and "لوحة المتابعة" in arabic
    english = text_of(client.get("/?lang=en"))
    assert "Probe reports" in english and "Dashboard" in english
