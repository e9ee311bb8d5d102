"""Beneficiaries brought in from the spreadsheets charities keep (XLSX or CSV).

The steps, shared by the screens (``portal.imports_views``), the command line (``portal import beneficiaries``)
and the API (``POST /api/v1/imports``):

1. :func:`read_upload` checks the file by its content (an XLSX is a zip holding a workbook; a CSV is text
   with no binary bytes; a PNG renamed ``.xlsx`` is refused), its size, that it has a header row and rows;
2. :func:`guess_mapping` maps each column to a field from its Arabic or English header ("الاسم",
   "رقم الهوية", "السجل المدني", "الجوال", "تاريخ الميلاد", "Name", "ID", "Mobile"...);
3. :func:`check` validates every row (the ID's check digit, the mobile in any of its usual forms, Hijri or
   Gregorian dates, required fields, duplicates within the file and against the files on record by ID,
   mobile and normalised name) and returns a report;
4. :func:`run` imports what is valid in batches, each batch one transaction (a bad row never stops the good
   ones), keyed by national ID: importing the same file again changes nothing. Each new file gets a timeline
   entry "imported from FILE" through ``portal.timeline.create_entries`` (``timeline_entries_created``).

Household members are rows that name their head of family's ID ("هوية رب الأسرة") and a relation; the head
is on the same sheet or already on record.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from . import labels, name_index
from .audit import audit
from .dates import parse_date
from .db import bulk_insert, database, is_postgres, utcnow
from .models import CATEGORIES, Beneficiary, Branch, Counter, HouseholdMember, ImportRun
from .scope import can_see_beneficiary, registers_in_branch
from .text import clean_text, fold_digits, isolate, normalize_name, search_key, strip_controls
from .uploads import sniff, upload_root
from .validators import ValidationError, clean_mobile, clean_national_id, id_kind

BATCH = 500
MAX_ROWS = 200_000
STATUSES = ("uploaded", "checking", "checked", "importing", "done", "failed")
RELATIONS = ("spouse", "son", "daughter", "father", "mother", "brother", "sister", "other")

# The fields a column can fill, in the order the mapping screen shows them.
FIELDS = {
    "national_id": _l("ID number"),
    "full_name": _l("Full name (split into its parts)"),
    "first_name": _l("First name"),
    "father_name": _l("Father's name"),
    "grandfather_name": _l("Grandfather's name"),
    "family_name": _l("Family name"),
    "mobile": _l("Mobile"),
    "gender": _l("Gender"),
    "birth_date": _l("Birth date"),
    "id_expiry": _l("ID expiry"),
    "nationality": _l("Nationality"),
    "category": _l("Category"),
    "city": _l("City"),
    "district": _l("District"),
    "national_address": _l("National address"),
    "email": _l("Email"),
    "branch": _l("Branch"),
    "notes": _l("Notes"),
    "head_national_id": _l("Head of family's ID (household member rows)"),
    "relation": _l("Relation to the head of family"),
}
# Headers as charities write them, normalised with ``_key`` when compared.
ALIASES = {
    "national_id": ["رقم الهوية", "الهوية", "رقم الهوية الوطنية", "الهوية الوطنية", "السجل المدني",
                    "رقم السجل المدني", "رقم السجل", "رقم الإقامة", "الإقامة", "رقم الهوية/الإقامة",
                    "رقم الهوية / الإقامة", "هوية المستفيد", "ID", "ID number", "national ID", "national_id",
                    "iqama", "iqama number", "civil ID", "civil registry"],
    "full_name": ["الاسم", "الاسم الكامل", "الاسم الرباعي", "اسم المستفيد", "الاسم الثلاثي", "اسم المستفيدة",
                  "Name", "full name", "beneficiary name", "beneficiary"],
    "first_name": ["الاسم الأول", "الاسم الاول", "first name", "first_name", "given name"],
    "father_name": ["اسم الأب", "اسم الاب", "الأب", "father name", "father's name", "father_name"],
    "grandfather_name": ["اسم الجد", "الجد", "grandfather name", "grandfather's name", "grandfather_name"],
    "family_name": ["اسم العائلة", "العائلة", "اللقب", "القبيلة", "family name", "last name", "surname",
                    "family_name"],
    "mobile": ["الجوال", "رقم الجوال", "جوال", "رقم الهاتف", "الهاتف", "هاتف", "رقم التواصل", "الجوال 1",
               "Mobile", "mobile number", "phone", "phone number", "mobile_number"],
    "gender": ["الجنس", "النوع", "gender", "sex"],
    "birth_date": ["تاريخ الميلاد", "الميلاد", "تاريخ الولادة", "birth date", "date of birth", "birth_date", "DOB"],
    "id_expiry": ["تاريخ انتهاء الهوية", "انتهاء الهوية", "تاريخ الانتهاء", "ID expiry", "id_expiry", "expiry date"],
    "nationality": ["الجنسية", "nationality"],
    "category": ["الفئة", "التصنيف", "فئة المستفيد", "category"],
    "city": ["المدينة", "city"],
    "district": ["الحي", "district", "neighbourhood", "neighborhood"],
    "national_address": ["العنوان الوطني", "العنوان", "national address", "address"],
    "email": ["البريد الإلكتروني", "البريد", "الايميل", "email", "e-mail"],
    "branch": ["الفرع", "المكتب", "branch", "office"],
    "notes": ["ملاحظات", "ملاحظة", "notes", "note", "remarks"],
    "head_national_id": ["هوية رب الأسرة", "رقم هوية رب الأسرة", "هوية رب الاسرة", "رقم هوية العائل",
                         "هوية العائل", "head of family ID", "head ID", "head_national_id", "family head ID"],
    "relation": ["صلة القرابة", "القرابة", "الصلة", "relation", "relationship"],
}
REQUIRED = ("national_id", "mobile", "gender")  # and a name: full_name or first, father and family names
TEXT_LIMITS = {"first_name": 60, "father_name": 60, "grandfather_name": 60, "family_name": 60,
               "nationality": 60, "city": 80, "district": 80, "national_address": 120, "email": 200,
               "notes": 2000}
GENDER_WORDS = {"m": ("m", "male", "ذكر", "ذ", "م"), "f": ("f", "female", "انثي", "انثى", "أنثى", "ث", "ن")}


class ImportFileError(ValueError):
    """The file as a whole cannot be read; ``message`` is shown to the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _key(text) -> str:
    """Headers and values compared loosely: normalised Arabic, folded case, no punctuation or spaces."""
    return _key_of(str(text or ""))


@functools.lru_cache(maxsize=4096)  # a column of genders or categories repeats a few values
def _key_of(text: str) -> str:
    return re.sub(r"[\W_]+", "", normalize_name(text))


_ALIAS_INDEX = {_key(a): f for f, names in ALIASES.items() for a in names}


# --- reading -------------------------------------------------------------------------------------------

@dataclass
class Table:
    kind: str  # xlsx | csv
    headers: list[str]
    rows: list[list]  # the cells of each data row, as read (str, int, float, date, None)
    header_row: int = 1  # the spreadsheet row number of the header row


def max_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def detect_kind(data: bytes) -> str:
    """``xlsx`` or ``csv`` from the content alone, or ImportFileError."""
    if not data or not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ImportFileError(_l("The file is empty."))
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            raise ImportFileError(_l("The file is damaged: it cannot be opened as an Excel workbook.")) from None
        if "xl/workbook.xml" not in names:
            raise ImportFileError(_l("This is not an Excel workbook (.xlsx) or a CSV file."))
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError(_l("This is an old Excel file (.xls): save it as .xlsx or CSV and upload it again."))
    if sniff(data[:16]) is not None or b"\x00" in data[:8192]:
        raise ImportFileError(_l("This is not an Excel workbook (.xlsx) or a CSV file."))
    return "csv"


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1256"):  # cp1256: CSV saved by Excel on Arabic Windows
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_l("This is not an Excel workbook (.xlsx) or a CSV file."))


def _blank(row) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def read_table(data: bytes, file_name: str = "") -> Table:
    """The header row and the data rows of the first sheet (XLSX) or of the CSV file."""
    if len(data) > max_bytes():
        raise ImportFileError(_l("The file is larger than %(mb)s MB.", mb=max_bytes() // (1024 * 1024)))
    kind = detect_kind(data)
    ext = os.path.splitext(file_name or "")[1].lower()
    if ext in (".xlsx", ".xlsm") and kind != "xlsx" or ext in (".csv", ".txt") and kind != "csv":
        raise ImportFileError(_l("The file's content does not match its name (%(ext)s).", ext=ext))
    if kind == "xlsx":
        raw_rows = _xlsx_rows(data)
    else:
        text = _decode(data)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        raw_rows = csv.reader(io.StringIO(text), dialect)
    header, header_row, rows = None, 0, []
    for number, row in enumerate(raw_rows, start=1):
        row = list(row)
        if header is None:
            if _blank(row):
                continue
            header, header_row = row, number
            continue
        if _blank(row):
            continue
        rows.append((number, row))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(_l("The file has more than %(n)s rows: split it.", n=MAX_ROWS))
    if header is None:
        raise ImportFileError(_l("The file is empty."))
    headers = [clean_text(strip_controls(str(h))) if h is not None else "" for h in header]
    if not any(_ALIAS_INDEX.get(_key(h)) for h in headers) and _looks_like_data(header):
        raise ImportFileError(_l("The first row must hold the column names (for example الاسم، رقم الهوية، "
                                 "الجوال); this file starts with data."))
    if not rows:
        raise ImportFileError(_l("The file has a header row but no data rows."))
    width = len(headers)
    table = Table(kind=kind, headers=headers, rows=[], header_row=header_row)
    table.rows = [(n, (list(r) + [None] * width)[:max(width, len(r))]) for n, r in rows]
    return table


def _looks_like_data(row) -> bool:
    for value in row:
        if isinstance(value, (int, float, dt.date)) and not isinstance(value, bool):
            return True
        if isinstance(value, str) and len(re.sub(r"\D", "", fold_digits(value))) >= 5:
            return True
    return False


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken workbook
        raise ImportFileError(_l("The file is damaged: it cannot be opened as an Excel workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield row
    finally:
        workbook.close()


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """``{column index (str): field}`` for the headers recognised; each field at most once."""
    mapping, used = {}, set()
    for index, header in enumerate(headers):
        found = _ALIAS_INDEX.get(_key(header))
        if found and found not in used:
            mapping[str(index)] = found
            used.add(found)
    return mapping


def mapping_errors(mapping: dict) -> list:
    fields = list(mapping.values())
    problems = []
    for name in set(fields):
        if fields.count(name) > 1:
            problems.append(_l("Two columns are mapped to “%(f)s”.", f=FIELDS[name]))
    if "national_id" not in fields:
        problems.append(_l("Choose the column that holds the ID number."))
    if "full_name" not in fields and not {"first_name", "father_name", "family_name"} <= set(fields):
        problems.append(_l("Choose the name column (or the first, father's and family name columns)."))
    if "mobile" not in fields:
        problems.append(_l("Choose the column that holds the mobile number."))
    return problems


# --- checking one row ------------------------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    return clean_text(str(value))


def normalize_mobile(value) -> str:
    """A mobile typed as 05…, 5…, +9665…, 009665… or 9665…, with spaces, dashes, brackets or Eastern
    Arabic digits, in E.164 (ValidationError otherwise)."""
    raw = re.sub(r"[\s\-().]", "", fold_digits(_text(value)))
    fast = _SAUDI_MOBILE.fullmatch(raw)
    if fast:  # the common case, without a full parse (the same answer clean_mobile gives)
        return "+966" + fast.group(1)
    if raw.startswith("966") and len(raw) == 12:
        raw = "+" + raw
    return clean_mobile(raw)


# Saudi mobile numbers: 05x with x in 0, 3-9 (051 and 052 are not mobile ranges), as 05…, 5…, +9665…,
# 009665… or 9665….
_SAUDI_MOBILE = re.compile(r"(?:\+966|00966|966|0)?(5[03-9]\d{7})")


def _date(value):
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return parse_date(_text(value))


def split_name(full: str) -> tuple[str, str, str, str] | None:
    """First, father's, grandfather's and family names of a full name ("عبد الله" is one name)."""
    words = full.split()
    parts = []
    for word in words:
        if parts and parts[-1] in ("عبد", "ابو", "أبو", "بن", "ابن") and len(parts[-1]) <= 3:
            parts[-1] = parts[-1] + " " + word
        else:
            parts.append(word)
    if len(parts) < 3:
        return None
    first, father, family = parts[0], parts[1], parts[-1]
    grandfather = " ".join(parts[2:-1])
    return first, father, grandfather, family


def _choice(value, table: dict, codes) -> str | None:
    """A code of ``codes`` from its code, Arabic or English label; None when unknown."""
    key = _key(value)
    if not key:
        return ""
    for code in codes:
        if key == _key(code):
            return code
        label = table.get(code)
        if label is not None:
            for lang in ("ar", "en"):
                with force_locale(lang):
                    if key == _key(str(label)):
                        return code
    return None


class _Lookups:
    """Category, relation and branch look-ups, built once per check (not per row)."""

    def __init__(self):
        self.categories = {}
        self.relations = {}
        for codes, table, target in ((CATEGORIES, labels.CATEGORY, self.categories),
                                     (RELATIONS, labels.RELATION, self.relations)):
            for code in codes:
                target[_key(code)] = code
                for lang in ("ar", "en"):
                    with force_locale(lang):
                        target[_key(str(table.get(code, code)))] = code
        self.branches = {}
        for branch in Branch.select():
            for name in (branch.code, branch.name_ar, branch.name_en, str(branch.id)):
                if name:
                    self.branches[_key(name)] = branch.id
        self.genders = {_key(w): code for code, words in GENDER_WORDS.items() for w in words}


@dataclass
class Row:
    number: int  # the row's number in the spreadsheet
    cells: list
    values: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # (field or "", message)
    warnings: list = field(default_factory=list)
    status: str = "new"  # new | existing | member | member_existing | error
    existing_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def check_row(row: Row, mapping: dict, look: _Lookups, own_branch: int | None) -> None:
    """Clean the cells of ``row`` by ``mapping`` into ``row.values``; problems go to ``row.errors``."""
    raw = {}
    for index, name in mapping.items():
        i = int(index)
        raw[name] = row.cells[i] if i < len(row.cells) else None
    text = {name: _text(value) for name, value in raw.items()}  # each cell cleaned once
    values = row.values
    errors = row.errors
    member = bool(text.get("head_national_id", ""))
    if member:
        try:
            values["head_national_id"] = clean_national_id(text["head_national_id"])
        except ValidationError as exc:
            errors.append(("head_national_id", exc.message))
        name = text.get("full_name", "") or " ".join(
            p for p in (text.get(k, "") for k in ("first_name", "father_name", "grandfather_name", "family_name"))
            if p)
        if not name:
            errors.append(("full_name", _l("This field is required.")))
        values["name"] = name[:200]
        relation = look.relations.get(_key(text.get("relation")))
        if relation is None:
            errors.append(("relation", _l("Choose the relation.")))
        values["relation"] = relation or "other"
        if text.get("national_id", ""):
            try:
                values["national_id"] = clean_national_id(text["national_id"])
            except ValidationError as exc:
                errors.append(("national_id", exc.message))
        else:
            values["national_id"] = ""
        try:
            values["birth_date"] = _date(raw.get("birth_date"))
        except ValidationError as exc:
            errors.append(("birth_date", exc.message))
        values["gender"] = look.genders.get(_key(text.get("gender")), "")
        row.status = "member"
        return
    if "full_name" in raw and text.get("full_name", ""):
        parts = split_name(text["full_name"])
        if parts is None:
            errors.append(("full_name", _l("Write the name in at least three parts (first, father's, family).")))
        else:
            values.update(zip(("first_name", "father_name", "grandfather_name", "family_name"), parts))
    for key in ("first_name", "father_name", "grandfather_name", "family_name"):
        if key in raw and _text(raw.get(key)):
            values[key] = text[key]
    for key in ("first_name", "father_name", "family_name"):
        if not values.get(key) and not any(f == "full_name" for f, _m in errors):
            errors.append((key if key in raw else "full_name", _l("This field is required.")))
            break
    for key, limit in TEXT_LIMITS.items():
        if key in raw and key not in values:
            values[key] = text[key]
        if len(values.get(key, "")) > limit:
            errors.append((key, _l("Too long: at most %(n)s characters.", n=limit)))
    try:
        values["national_id"] = clean_national_id(text.get("national_id", ""))
        values["id_kind"] = id_kind(values["national_id"])
    except ValidationError as exc:
        errors.append(("national_id", exc.message))
    try:
        values["mobile"] = normalize_mobile(raw.get("mobile"))
    except ValidationError as exc:
        errors.append(("mobile", exc.message))
    gender = look.genders.get(_key(text.get("gender")))
    if not text.get("gender", ""):
        errors.append(("gender", _l("This field is required.")))
    elif gender is None:
        errors.append(("gender", _l("Choose male or female.")))
    else:
        values["gender"] = gender
    for key in ("birth_date", "id_expiry"):
        try:
            values[key] = _date(raw.get(key))
        except ValidationError as exc:
            errors.append((key, exc.message))
    today = dt.date.today()
    if values.get("birth_date") and values["birth_date"] > today:
        errors.append(("birth_date", _l("The birth date cannot be in the future.")))
    elif values.get("birth_date") and values["birth_date"].year < 1900:
        errors.append(("birth_date", _l("The birth date is too far in the past.")))
    category = text.get("category", "")
    values["category"] = look.categories.get(_key(category), None) if category else "other"
    if values["category"] is None:
        errors.append(("category", _l("Unknown category.")))
    branch = text.get("branch", "")
    values["branch"] = look.branches.get(_key(branch)) if branch else own_branch
    if branch and values["branch"] is None:
        errors.append(("branch", _l("Unknown branch.")))
    elif own_branch is not None and values["branch"] != own_branch:
        errors.append(("branch", _l("You can register files only in your own branch.")))
    if values.get("email") and "@" not in values["email"]:
        errors.append(("email", _l("This is not an email address.")))
    values["nationality"] = values.get("nationality") or "SA"
    values["name_search"] = normalize_name(" ".join(
        values.get(k, "") for k in ("first_name", "father_name", "grandfather_name", "family_name")
        if values.get(k)))


# --- checking the file -----------------------------------------------------------------------------------

@dataclass
class Report:
    file_name: str
    dry_run: bool
    rows: list = field(default_factory=list)  # Row
    created: int = 0
    members_created: int = 0

    def counts(self) -> dict:
        c = {"rows": len(self.rows), "new": 0, "existing": 0, "members": 0, "members_existing": 0, "rejected": 0,
             "warnings": 0}
        for row in self.rows:
            if row.errors:
                c["rejected"] += 1
            elif row.status == "new":
                c["new"] += 1
            elif row.status == "existing":
                c["existing"] += 1
            elif row.status == "member":
                c["members"] += 1
            elif row.status == "member_existing":
                c["members_existing"] += 1
            if row.warnings:
                c["warnings"] += 1
        return c

    def as_dict(self, limit: int | None = None) -> dict:
        problems = [row_dict(r) for r in self.rows if r.errors or r.warnings]
        body = {"file": self.file_name, "dry_run": self.dry_run, **self.counts(),
                "created": self.created, "members_created": self.members_created,
                "problems": problems[:limit] if limit else problems}
        if limit and len(problems) > limit:
            body["problems_truncated"] = len(problems) - limit
        return body


def row_dict(row: Row) -> dict:
    return {"row": row.number, "national_id": row.values.get("national_id", ""),
            "status": "rejected" if row.errors else row.status,
            "errors": [{"field": f, "message": str(m)} for f, m in row.errors],
            "warnings": [str(m) for m in row.warnings]}


def check(table: Table, mapping: dict, *, file_name: str = "", actor=None) -> Report:
    """Validate every row: per-row errors and warnings, and each row's fate (new, existing, member)."""
    look = _Lookups()
    own_branch = registers_in_branch(actor)
    report = Report(file_name=file_name, dry_run=True)
    seen_ids, seen_mobiles, seen_names = {}, {}, {}
    for number, cells in table.rows:
        row = Row(number=number, cells=cells)
        check_row(row, mapping, look, own_branch)
        report.rows.append(row)
        if row.status == "member":
            continue
        nid = row.values.get("national_id")
        if nid and not any(f == "national_id" for f, _m in row.errors):
            if nid in seen_ids:
                row.errors.append(("national_id", _l("The same ID number is on row %(n)s.", n=seen_ids[nid])))
            else:
                seen_ids[nid] = number
        if row.errors:
            continue
        mobile, name = row.values.get("mobile"), row.values.get("name_search")
        if mobile in seen_mobiles:
            row.warnings.append(_l("Same mobile number as row %(n)s.", n=seen_mobiles[mobile]))
        else:
            seen_mobiles[mobile] = number
        if name in seen_names:
            row.warnings.append(_l("Same name as row %(n)s.", n=seen_names[name]))
        else:
            seen_names[name] = number
    _against_records(report, actor)
    _members(report, seen_ids)
    return report


def _chunks(items, size=BATCH):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _against_records(report: Report, actor) -> None:
    """Rows whose ID is on record are "existing" (left unchanged); the same mobile or name as a file on
    record is a warning. One query per 500 rows and per kind, never one per row."""
    heads = [r for r in report.rows if r.status == "new" and r.ok]
    for chunk in _chunks(heads):
        ids = [r.values["national_id"] for r in chunk]
        found = {b.national_id: b for b in Beneficiary.select(
            Beneficiary.id, Beneficiary.national_id, Beneficiary.file_number, Beneficiary.branch)
            .where(Beneficiary.national_id.in_(ids))}
        mobiles = {}
        for b in (Beneficiary.select(Beneficiary.mobile, Beneficiary.file_number, Beneficiary.national_id)
                  .where(Beneficiary.mobile.in_([r.values["mobile"] for r in chunk]))):
            mobiles.setdefault(b.mobile, []).append(b)
        names = {}
        for b in (Beneficiary.select(Beneficiary.name_search, Beneficiary.file_number, Beneficiary.national_id)
                  .where(Beneficiary.name_search.in_([r.values["name_search"] for r in chunk]))):
            names.setdefault(b.name_search, []).append(b)
        for row in chunk:
            nid = row.values["national_id"]
            ben = found.get(nid)
            if ben is not None:
                if actor is not None and not can_see_beneficiary(ben, actor):
                    row.errors.append(("national_id", _l(
                        "This ID number cannot be registered from your branch. Contact the main office.")))
                else:
                    row.status, row.existing_id = "existing", ben.id
                continue
            others = [b for b in mobiles.get(row.values["mobile"], []) if b.national_id != nid]
            if others:
                row.warnings.append(_l("Another file has the same mobile number (file %(f)s).",
                                       f=others[0].file_number))
            others = [b for b in names.get(row.values["name_search"], []) if b.national_id != nid]
            if others:
                row.warnings.append(_l("Another file has the same name (file %(f)s).", f=others[0].file_number))


def _members(report: Report, heads_in_file: dict) -> None:
    members = [r for r in report.rows if r.status == "member" and r.ok]
    valid_heads = {r.values["national_id"] for r in report.rows if r.status in ("new", "existing") and r.ok}
    for chunk in _chunks(members):
        wanted = {r.values["head_national_id"] for r in chunk} - valid_heads
        on_record = {b.national_id: b.id for b in Beneficiary.select(Beneficiary.id, Beneficiary.national_id)
                     .where(Beneficiary.national_id.in_(list(wanted)))} if wanted else {}
        by_head = {r.values["national_id"]: r.existing_id for r in report.rows if r.status == "existing"}
        by_head.update(on_record)
        head_ids = [i for i in by_head.values() if i]
        known = set()
        if head_ids:
            for m in HouseholdMember.select(HouseholdMember.beneficiary, HouseholdMember.national_id,
                                            HouseholdMember.name).where(HouseholdMember.beneficiary.in_(head_ids)):
                known.add((m.beneficiary_id, m.national_id or normalize_name(m.name)))
        for row in chunk:
            head = row.values["head_national_id"]
            if head not in valid_heads and head not in on_record:
                row.errors.append(("head_national_id", _l(
                    "The head of family's ID is neither on this sheet nor on record.")))
                continue
            head_id = by_head.get(head)
            row.values["head_id"] = head_id
            if head_id and (head_id, row.values["national_id"] or normalize_name(row.values["name"])) in known:
                row.status = "member_existing"


# --- importing ---------------------------------------------------------------------------------------------

def _summary(file_name: str) -> str:
    locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "ar")
    with force_locale(locale):
        return _("Imported from the spreadsheet %(name)s", name=isolate(file_name))


_BEN_COLUMNS = ("file_number", "first_name", "father_name", "grandfather_name", "family_name", "name_search",
                "national_id", "id_kind", "id_expiry", "nationality", "gender", "birth_date", "mobile", "email",
                "preferred_channel", "district", "city", "national_address", "category", "branch", "consent_data",
                "consent_contact", "status", "notes", "version", "created_at", "updated_at", "created_by")


def _file_numbers(n: int) -> list[str]:
    """``n`` file numbers from the ``beneficiary_file`` counter in one update (inside the caller's
    transaction: a rollback gives them back)."""
    Counter.insert(name="beneficiary_file", value=0).on_conflict_ignore().execute()
    Counter.update(value=Counter.value + n).where(Counter.name == "beneficiary_file").execute()
    last = Counter.select(Counter.value).where(Counter.name == "beneficiary_file").scalar()
    return [f"{number:06d}" for number in range(last - n + 1, last + 1)]


def _day(value):
    """A date as the driver takes it: SQLite gets the ISO text peewee stores (its date adapter is deprecated)."""
    if value is None or is_postgres():
        return value
    return value.isoformat()


def _insert_heads(rows: list[Row], file_name: str, actor) -> dict[str, int]:
    """One batch of new files in one transaction: the files, one audit event, their timeline entries."""
    from .timeline import create_entries

    now = utcnow()
    channel = current_app.config.get("DEFAULT_CHANNEL", "")
    actor_id = actor.id if actor is not None else None
    with database.atomic():
        numbers = _file_numbers(len(rows))
        records = []
        for number, row in zip(numbers, rows):
            v = row.values
            records.append({
                "file_number": number, "first_name": v["first_name"], "father_name": v["father_name"],
                "grandfather_name": v.get("grandfather_name", ""), "family_name": v["family_name"],
                "name_search": v["name_search"], "search_key": search_key(v["name_search"]),
                "national_id": v["national_id"], "id_kind": v["id_kind"],
                "id_expiry": _day(v.get("id_expiry")), "nationality": v.get("nationality") or "SA",
                "gender": v["gender"], "birth_date": _day(v.get("birth_date")), "mobile": v["mobile"],
                "email": v.get("email", ""), "preferred_channel": channel, "district": v.get("district", ""),
                "city": v.get("city", ""), "national_address": v.get("national_address", ""),
                "category": v["category"], "branch": v.get("branch"), "consent_data": False,
                "consent_contact": False, "status": "active", "notes": v.get("notes", ""), "version": 1,
                "created_at": now, "updated_at": now, "created_by": actor_id,
            })
        returned = bulk_insert(Beneficiary, records, returning=("id", "national_id"))
        ids = {nid: ben_id for ben_id, nid in returned}
        keys = {r["national_id"]: r["search_key"] for r in records}
        name_index.store([(ben_id, keys[nid]) for nid, ben_id in ids.items()])
        summary = _summary(file_name)
        create_entries([{"beneficiary": ben_id, "channel": "system", "direction": "internal", "summary": summary,
                         "occurred_at": now, "actor": actor_id, "data": {"import": file_name}}
                        for ben_id in ids.values()], actor=actor)
        audit("import", "beneficiary", "", {"file": file_name, "count": len(ids),
                                             "file_numbers": [numbers[0], numbers[-1]]}, actor=actor)
    return ids


def _insert_members(rows: list[Row], actor) -> int:
    with database.atomic():
        records = [{"beneficiary": r.values["head_id"], "name": r.values["name"], "relation": r.values["relation"],
                    "national_id": r.values["national_id"], "birth_date": _day(r.values.get("birth_date")),
                    "gender": r.values.get("gender", ""), "has_income": False, "notes": ""} for r in rows]
        bulk_insert(HouseholdMember, records)
        audit("import", "household_member", "", {"count": len(records)}, actor=actor)
    return len(records)


def run(table: Table, mapping: dict, *, file_name: str, actor=None, dry_run: bool = False,
        progress=None) -> Report:
    """Check, then (unless ``dry_run``) import every valid row in batches of ``BATCH``, each in its own
    transaction. A batch the database refuses (a file registered meanwhile) is retried row by row, and only
    the rows it refuses are rejected. ``progress(done, total)`` is called after each batch."""
    report = check(table, mapping, file_name=file_name, actor=actor)
    report.dry_run = dry_run
    total = len(report.rows)
    if dry_run:
        return report
    heads = [r for r in report.rows if r.ok and r.status == "new"]
    done = 0
    for chunk in _chunks(heads):
        try:
            ids = _insert_heads(chunk, file_name, actor)
        except IntegrityError:
            ids = {}
            for row in chunk:
                try:
                    ids.update(_insert_heads([row], file_name, actor))
                except IntegrityError:
                    row.errors.append(("national_id", _l("A beneficiary with this ID number was registered "
                                                         "meanwhile.")))
        report.created += len(ids)
        for row in chunk:
            if row.values["national_id"] in ids:
                row.existing_id = ids[row.values["national_id"]]
        done += len(chunk)
        if progress:
            progress(done, total)
    new_ids = {r.values["national_id"]: r.existing_id for r in heads if r.ok}
    members = [r for r in report.rows if r.ok and r.status == "member"]
    for row in members:
        row.values["head_id"] = row.values.get("head_id") or new_ids.get(row.values["head_national_id"])
    members = [r for r in members if r.values.get("head_id")]
    for chunk in _chunks(members):
        report.members_created += _insert_members(chunk, actor)
    if progress:
        progress(total, total)
    return report


# --- stored runs (the screens, the jobs) ------------------------------------------------------------------

def safe_name(file_name: str) -> str:
    return strip_controls(os.path.basename((file_name or "").replace("\\", "/")))[:200] or "import"


def store_file(data: bytes, file_name: str, actor=None) -> ImportRun:
    """Check ``data`` and keep it under the upload directory for the next steps; an ImportRun row."""
    name = safe_name(file_name)
    table = read_table(data, name)
    sha = hashlib.sha256(data).hexdigest()
    path = _path(sha, table.kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    with database.atomic():
        run_row = ImportRun.create(file_name=name, file_sha256=sha, kind=table.kind, headers=table.headers,
                                   mapping=guess_mapping(table.headers), total_rows=len(table.rows),
                                   created_by=actor)
        audit("upload", "import_run", run_row.id, {"file": name, "rows": len(table.rows)}, actor=actor)
    return run_row


def _path(sha: str, kind: str):
    return upload_root() / "imports" / f"{sha}.{kind}"


def load_table(run_row: ImportRun) -> Table:
    data = _path(run_row.file_sha256, run_row.kind).read_bytes()
    return read_table(data, run_row.file_name)


def execute(run_id: int, *, dry_run: bool) -> None:
    """Check (``dry_run``) or import a stored file, keeping its progress and report on the ImportRun row."""
    from .models import User

    run_row = ImportRun.get_by_id(run_id)
    actor = User.get_or_none(User.id == run_row.created_by_id) if run_row.created_by_id else None
    ImportRun.update(status="checking" if dry_run else "importing", processed_rows=0).where(
        ImportRun.id == run_id).execute()

    def progress(done, total):
        ImportRun.update(processed_rows=done).where(ImportRun.id == run_id).execute()

    try:
        table = load_table(run_row)
        report = run(table, run_row.mapping or {}, file_name=run_row.file_name, actor=actor, dry_run=dry_run,
                     progress=progress)
    except Exception as exc:  # a failed job is shown on its page, not lost in the worker's log
        ImportRun.update(status="failed", error=str(exc)[:2000], finished_at=utcnow()).where(
            ImportRun.id == run_id).execute()
        raise
    counts = report.counts()
    rejected = [{"row": r.number, "cells": [_text(c) for c in r.cells],
                 "reason": "; ".join(str(m) for _f, m in r.errors)} for r in report.rows if r.errors]
    body = report.as_dict(limit=2000)
    body["rejected_rows"] = rejected
    ImportRun.update(status="checked" if dry_run else "done", report=body, processed_rows=len(report.rows),
                     created_count=report.created, existing_count=counts["existing"],
                     member_count=report.members_created, rejected_count=counts["rejected"],
                     finished_at=None if dry_run else utcnow()).where(ImportRun.id == run_id).execute()
    if not dry_run:
        audit("import", "import_run", run_id, {"file": run_row.file_name, "created": report.created,
                                                "members": report.members_created, "rejected": counts["rejected"]},
              actor=actor)


def rejected_xlsx(run_row: ImportRun, target) -> int:
    """The rejected rows of a run, as read, with a reason column."""
    from flask_babel import get_locale

    from .exports import Column, write_xlsx

    headers = list(run_row.headers or [])
    columns = [Column("row", _l("Row"), lambda r: r["row"], "number")]
    columns += [Column(str(i), h or f"#{i + 1}", (lambda r, i=i: r["cells"][i] if i < len(r["cells"]) else ""))
                for i, h in enumerate(headers)]
    columns.append(Column("reason", _l("Reason"), lambda r: r["reason"]))
    rows = (run_row.report or {}).get("rejected_rows", [])
    locale = get_locale()
    return write_xlsx(columns, iter(rows), target, rtl=(locale.language if locale else "ar") == "ar",
                      title="rejected")


def format_report(report: Report) -> str:
    """The report as text (the command line): the counts, then one line per rejected or warned row."""
    c = report.counts()
    lines = []
    head = [f"{c['rows']} rows"]
    if report.dry_run:
        head += [f"{c['new']} new", f"{c['members']} household members"]
    else:
        head += [f"{report.created} created", f"{report.members_created} household members added"]
    head += [f"{c['existing'] + c['members_existing']} already on record (unchanged)", f"{c['rejected']} rejected",
             f"{c['warnings']} with warnings"]
    lines.append(("Dry run: " if report.dry_run else "Imported: ") + ", ".join(head) + ".")
    for row in report.rows:
        for name, message in row.errors:
            lines.append(f"row {row.number}: rejected: {name}: {message}")
        for message in row.warnings:
            lines.append(f"row {row.number}: warning: {message}")
    return "\n".join(lines)
