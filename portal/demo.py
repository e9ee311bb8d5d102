"""Realistic Arabic demo data, built with bulk inserts so that 50,000 beneficiaries and a million
timeline entries take minutes. The same seed gives the same data."""
from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from pathlib import Path

import click

from . import name_index, stats
from .dates import saudi_date
from .db import bulk_insert, database, utcnow
from .models import Beneficiary, Branch, Case, Counter, Document, HouseholdMember, User
from .plugins import channels
from .text import normalize_name, search_key
from .workflow.machine import DECIDED_STATUSES, SURVEYED_STATUSES

MALE = ["محمد", "أحمد", "عبدالله", "عبد الرحمن", "خالد", "فهد", "سعد", "علي", "عمر", "يوسف", "إبراهيم",
        "سلطان", "ماجد", "ناصر", "حسن", "حسين", "عبدالعزيز", "سعود", "فيصل", "تركي", "بندر", "مشعل",
        "إحمد", "أحمد", "صالح", "سليمان", "منصور", "هاني", "طلال", "وليد"]
FEMALE = ["فاطمة", "نورة", "سارة", "مريم", "عائشة", "هند", "ريم", "منى", "أمل", "خديجة", "حصة", "لطيفة",
          "جواهر", "أسماء", "هيفاء", "دلال", "شيخة", "ليلى", "رقية", "زينب"]
FAMILIES = ["الحربي", "العتيبي", "الغامدي", "الزهراني", "القحطاني", "الشهري", "المالكي", "السلمي", "الثقفي",
            "الجهني", "اللحياني", "المطيري", "الشمري", "الدوسري", "الهذلي", "البقمي", "الصبحي", "الأحمدي",
            "العمري", "الفيفي", "باعشن", "الهاشمي", "القرشي", "بن لادن", "الشريف"]
DISTRICTS = ["العزيزية", "الشوقية", "النسيم", "الزاهر", "العوالي", "الشرائع", "الرصيفة", "الكعكية", "المعابدة",
             "الششة", "الهجرة", "العتيبية", "جرول", "النوارية", "بطحاء قريش", "الخالدية"]
BRANCHES = [("MKK", "مكتب مكة المكرمة", "Makkah office", "مكة المكرمة"),
            ("TAIF", "مكتب الطائف", "Taif office", "الطائف"),
            ("JED", "مكتب جدة", "Jeddah office", "جدة"),
            ("QNF", "مكتب القنفذة", "Al-Qunfudhah office", "القنفذة")]
CATEGORIES = ["widow", "orphan", "elderly", "disability", "low_income", "divorced", "sick", "unemployed"]
SUMMARIES = {
    "in": ["استفسار عن موعد صرف السلة الغذائية", "طلب مساعدة في سداد الإيجار", "استفسار عن حالة الطلب",
           "تحديث بيانات الجوال", "شكر على الخدمة", "طلب مساعدة علاجية", "السؤال عن المستندات المطلوبة",
           "بلاغ عن انتهاء الهوية", "طلب زيارة منزلية", "استفسار عن برنامج الحقيبة المدرسية"],
    "out": ["إبلاغ بموعد المقابلة", "تذكير بإحضار صك الإعالة", "إشعار باستلام الطلب", "تهنئة بالعيد",
            "متابعة بعد صرف المساعدة", "طلب تحديث المستندات", "إبلاغ بقرار اللجنة", "دعوة لبرنامج رمضان"],
}
BODIES = ["تم التواصل مع المستفيد وشرح الإجراءات المطلوبة بالتفصيل.", "أفاد المستفيد بأن الوضع المعيشي صعب.",
          "سيتم رفع الطلب إلى لجنة البحث بعد اكتمال المستندات.", "تم تحديث البيانات في الملف.", ""]
ROLE_USERS = [
    ("admin", "admin", "مدير النظام"),
    ("officer", "officer", "موظف علاقات المستفيدين"),
    ("researcher", "researcher", "باحثة اجتماعية"),
    ("committee", "committee", "عضو لجنة البحث"),
    ("delegate", "delegate", "مندوب مكتب الطائف"),
    ("manager", "manager", "مدير الجمعية"),
    # A session needs PORTAL_COMMITTEE_MIN_MEMBERS (3) active members and a majority quorum: the demo's
    # committee can meet it.
    ("committee2", "committee", "عضوة لجنة البحث"),
    ("committee3", "committee", "رئيس لجنة البحث"),
]
LIBRARY_FIRST_VERSIONS = {
    "bylaws": "اللائحة الأساسية للجمعية: أهدافها وخدماتها وجمعيتها العمومية ومجلس إدارتها، المعتمدة من الوزارة "
              "برقم التسجيل ٢٦٢.",
    "research_guide": "دليل خدمات البحث الاجتماعي: الزيارة المنزلية، ونموذج تقرير الباحث، والمستندات المطلوبة لكل "
                      "فئة، ومدة دراسة الحالة.",
    "support_policy": "دليل سياسة الدعم: فئات المستفيدين، وأنواع الدعم وحدوده، ورفع الطلب إلى لجنة البحث للرد خلال "
                      "أسبوعين تقريبًا، وإقرار المستفيد بصحة بياناته.",
    "request_form": "نموذج طلب دعم مستفيد: بيانات المستفيد والأسرة، والمستندات المرفقة، ونوع الدعم المطلوب، والإقرار "
                    "والتوقيع.",
}
REPORT_SITUATIONS = ["أسرة من خمسة أفراد تسكن شقة مستأجرة، والعائل بلا عمل ثابت.",
                     "أرملة تعول ثلاثة أطفال في المدارس، ودخلها الوحيد الضمان الاجتماعي.",
                     "مسن يعيش وحده ويحتاج إلى علاج دوري، وإيجاره متأخر شهرين."]
REPORT_NEEDS = ["سداد إيجار ثلاثة أشهر", "سلة غذائية شهرية", "مساعدة في شراء الأدوية", "الحقيبة المدرسية للأبناء"]


def luhn_complete(nine: str) -> str:
    for check in "0123456789":
        digits = nine + check
        total = 0
        for index, char in enumerate(reversed(digits)):
            n = int(char)
            if index % 2 == 1:
                n = n * 2 - 9 if n * 2 > 9 else n * 2
            total += n
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def _logins_path(app) -> Path:
    return Path(app.instance_path) / "demo-logins.txt"


def print_logins(app) -> None:
    path = _logins_path(app)
    if path.exists():
        click.echo("Demo logins (username / password):")
        click.echo(path.read_text().rstrip())


def _users(app_instance_path: str) -> list[User]:
    from .auth import hash_password

    lines, users = [], []
    branch_taif = Branch.get(Branch.code == "TAIF")
    for username, role, name in ROLE_USERS:
        user = User.get_or_none(User.username == username)
        if user is None:
            password = secrets.token_urlsafe(9)
            user = User.create(username=username, full_name=name, roles=role, password_hash=hash_password(password),
                               branch=branch_taif if role == "delegate" else None,
                               phone="+9661255500%02d" % (len(users) + 1))
            lines.append(f"  {role:<11} {username} / {password}" if username == role
                         else f"  {role:<11} {username} / {password}  ({name})")
        users.append(user)
    if lines:
        path = Path(app_instance_path) / "demo-logins.txt"
        # A new database (every demo user created now) starts the list again: the logins of an earlier database
        # in the same instance folder no longer work and must not be printed first.
        with open(path, "w" if len(lines) == len(ROLE_USERS) else "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    return users


# Each request's steps in order; a request in a state has lived through the steps before it.
STEPS_BEFORE = {
    "submitted": 0, "incomplete": 0, "in_research": 1, "awaiting_committee": 2, "approved": 3, "rejected": 3,
    "registered": 4, "served": 5, "closed": 5,
}
AFTER_COMMITTEE = DECIDED_STATUSES


def _case_rows(rnd, now, ben_ids, year, start_case, types, officer, researcher, keys) -> list[dict]:
    """Requests whose dates follow their steps and are never later than now (a due date may be ahead)."""
    rows = []
    statuses = list(STEPS_BEFORE)
    for n, ben_id in enumerate(ben_ids):
        status = rnd.choice(statuses)
        steps = STEPS_BEFORE[status]
        created = now - dt.timedelta(days=rnd.randint(steps * 9, 60 + steps * 9), minutes=rnd.randint(0, 600))
        at = created
        times = []
        for step in range(steps):  # referral, committee, decision (now and then after the 14 days), ...
            days = rnd.randint(2, 17) if step == 2 else rnd.randint(1, 5)
            at = min(now, at + dt.timedelta(days=days, minutes=rnd.randint(0, 600)))
            times.append(at)
        referred = times[0] if steps >= 1 else None
        awaiting = times[1] if steps >= 2 else None
        decided = times[2] if steps >= 3 else None
        registered = times[3] if steps >= 4 else None
        closed = times[-1] if status == "closed" else None
        if status == "awaiting_committee":  # some are still within the 14 days, some are overdue
            awaiting = now - dt.timedelta(days=rnd.randint(1, 20), minutes=rnd.randint(0, 600))
            awaiting = max(awaiting, referred)
            times[-1] = awaiting
        approved = status in DECIDED_STATUSES and status != "rejected"
        rows.append({
            "reference": f"{year}-{start_case + n + 1:06d}", "beneficiary": ben_id, "request_type": rnd.choice(types),
            "channel": rnd.choice(keys), "status": status,
            "submitted_at": created, "status_changed_at": times[-1] if times else created,
            "referred_at": referred, "referral_reason": "التحقق من الوضع المعيشي بزيارة منزلية" if referred else "",
            "awaiting_committee_at": awaiting,
            "committee_due_at": awaiting + dt.timedelta(days=14) if awaiting else None,
            "decided_at": decided, "decision": ("approved" if approved else "rejected") if decided else "",
            "registered_at": registered, "closed_at": closed,
            "assigned_researcher": researcher.id if referred else None,
            "created_by": officer.id, "created_at": created, "updated_at": times[-1] if times else created,
            "version": 1 + steps, "summary": "",
            "decision_reasons": "لا تنطبق شروط البرنامج" if status == "rejected" else "",
        })
    return rows


def _declarations_and_reports(rnd, references, officer, researcher) -> None:
    """Every request that went to the committee has the applicant's declaration and the research report."""
    from .workflow.intake import current_declaration_text
    from .workflow.models import Declaration, ResearchReport

    text = current_declaration_text()
    declarations, reports = [], []
    cases = (Case.select(Case.id, Case.beneficiary, Case.channel, Case.status, Case.referred_at, Case.decision,
                         Case.awaiting_committee_at)
             .where(Case.reference.in_(references) & Case.awaiting_committee_at.is_null(False)))
    for case in cases:
        given = case.referred_at
        declarations.append({"case": case.id, "beneficiary": case.beneficiary_id, "text": text.id, "given_at": given,
                             "channel": case.channel, "method": "paper_scan", "witness": officer.id,
                             "created_at": given})
        visit = case.referred_at + (case.awaiting_committee_at - case.referred_at) / 2
        reports.append({"case": case.id, "researcher": researcher.id, "visit_date": saudi_date(visit),
                        "household_situation": rnd.choice(REPORT_SITUATIONS),
                        "monthly_income": rnd.choice([0, 1500, 2400, 3100]), "housing": "شقة مستأجرة",
                        "needs": rnd.choice(REPORT_NEEDS),
                        "recommendation": "reject" if case.decision == "rejected" else "approve",
                        "recommendation_notes": "", "created_at": visit})
    for chunk in range(0, len(declarations), 500):
        Declaration.insert_many(declarations[chunk:chunk + 500]).execute()
        ResearchReport.insert_many(reports[chunk:chunk + 500]).execute()


def _library_versions(today: dt.date) -> None:
    """The policy's four tools each get a first version (its text in the notes) when they have none."""
    from .workflow.models import LibraryDocument, LibraryVersion

    for doc in LibraryDocument.select().where(LibraryDocument.kind.in_(list(LIBRARY_FIRST_VERSIONS))):
        if not LibraryVersion.select().where(LibraryVersion.document == doc).exists():
            notes = LIBRARY_FIRST_VERSIONS[doc.kind]
            LibraryVersion.create(document=doc, label="1", effective_from=today - dt.timedelta(days=365), notes=notes,
                                  text_search=normalize_name(notes))


def build(beneficiaries: int = 300, entries: int = 3000, seed: int = 1448, progress=None) -> dict:
    """Write the demo data; ``progress(done, total)`` (if given) is called as the timeline entries, which are
    most of the work, are written."""
    from flask import current_app

    started = time.perf_counter()
    rnd = random.Random(seed)
    now = utcnow()
    keys = [c["key"] for c in channels()] or ["system"]  # every enabled channel
    today = saudi_date(now)
    with database.atomic():
        for code, ar, en, city in BRANCHES:
            Branch.insert(code=code, name_ar=ar, name_en=en, city=city).on_conflict_ignore().execute()
        users = _users(current_app.instance_path)
    branches = list(Branch.select())
    officer = next(u for u in users if u.has_role("officer"))
    researcher = next(u for u in users if u.has_role("researcher"))

    start_file = (Counter.get_or_none(Counter.name == "beneficiary_file") or Counter(value=0)).value
    used_ids = {r[0] for r in Beneficiary.select(Beneficiary.national_id).tuples()}
    rows = []
    for i in range(beneficiaries):
        female = rnd.random() < 0.55
        first = rnd.choice(FEMALE if female else MALE)
        father, grand = rnd.choice(MALE), rnd.choice(MALE)
        family = rnd.choice(FAMILIES)
        while True:
            kind = "1" if rnd.random() < 0.85 else "2"
            nid = luhn_complete(kind + "".join(rnd.choice("0123456789") for _ in range(8)))
            if nid not in used_ids:
                used_ids.add(nid)
                break
        # Some mobiles are shared by relatives, as in real files.
        mobile = "+9665" + "".join(rnd.choice("0123456789") for _ in range(8))
        expiry = today + dt.timedelta(days=rnd.randint(-200, 1500))
        created = now - dt.timedelta(days=rnd.randint(1, 900), minutes=rnd.randint(0, 1440))
        branch = rnd.choice(branches)
        rows.append({
            "file_number": f"{start_file + i + 1:06d}", "first_name": first, "father_name": father,
            "grandfather_name": grand, "family_name": family,
            "name_search": normalize_name(f"{first} {father} {grand} {family}"),
            "search_key": search_key(f"{first} {father} {grand} {family}"),
            "national_id": nid, "id_kind": "citizen" if kind == "1" else "resident", "id_expiry": expiry,
            "nationality": "SA" if kind == "1" else rnd.choice(["YE", "EG", "PK", "SD", "MM"]),
            "gender": "f" if female else "m",
            "birth_date": today - dt.timedelta(days=rnd.randint(18 * 365, 85 * 365)),
            "mobile": mobile, "preferred_channel": rnd.choice(keys),
            "district": rnd.choice(DISTRICTS), "city": branch.city, "category": rnd.choice(CATEGORIES),
            "branch": branch.id, "consent_data": True, "consent_contact": rnd.random() < 0.9, "status": "active",
            "created_at": created, "updated_at": created, "created_by": officer.id, "version": 1,
        })
    with database.atomic():
        name_keys = {}
        for chunk in range(0, len(rows), 2000):
            part = rows[chunk:chunk + 2000]
            returned = bulk_insert(Beneficiary, part, returning=("id", "file_number"))
            by_number = {row["file_number"]: row["search_key"] for row in part}
            name_keys.update({ben_id: by_number[number] for ben_id, number in returned})
        name_index.store(name_keys.items())
        Counter.insert(name="beneficiary_file", value=0).on_conflict_ignore().execute()
        Counter.update(value=start_file + beneficiaries).where(Counter.name == "beneficiary_file").execute()

    ben_ids = [r[0] for r in Beneficiary.select(Beneficiary.id).where(
        Beneficiary.file_number > f"{start_file:06d}").order_by(Beneficiary.id).tuples()]

    # Household members and documents for the first few hundred files.
    household, documents = [], []
    id_expiry = {ben_id: row["id_expiry"] for ben_id, row in zip(ben_ids, rows)}
    for ben_id in ben_ids[:2000]:
        for _ in range(rnd.randint(0, 4)):
            household.append({"beneficiary": ben_id, "name": f"{rnd.choice(MALE + FEMALE)} {rnd.choice(FAMILIES)}",
                              "relation": rnd.choice(["son", "daughter", "spouse", "mother"]),
                              "gender": rnd.choice("mf"), "national_id": "",
                              "birth_date": today - dt.timedelta(days=rnd.randint(365, 60 * 365)),
                              "has_income": False, "notes": ""})
        expiry = id_expiry[ben_id]  # one ID expiry per file: the scan of the ID is the ID on the file
        documents.append({"beneficiary": ben_id, "kind": "national_id", "number": "",
                          "issue_date": expiry - dt.timedelta(days=3650), "expiry_date": expiry,
                          "uploaded_by": officer.id, "uploaded_at": now, "file_sha256": "", "file_name": "",
                          "content_type": "", "size": 0})
    with database.atomic():
        for chunk in range(0, len(household), 500):
            HouseholdMember.insert_many(household[chunk:chunk + 500]).execute()
        for chunk in range(0, len(documents), 500):
            Document.insert_many(documents[chunk:chunk + 500]).execute()

    # Requests (one for roughly every third file), references per Hijri year.
    from .dates import hijri_year

    year = hijri_year(today)
    counter_name = f"case_{year}"
    start_case = (Counter.get_or_none(Counter.name == counter_name) or Counter(value=0)).value
    from .workflow.defaults import ensure_default_request_types
    from .workflow.library import ensure_default_tools

    ensure_default_request_types()
    ensure_default_tools()
    types = ["financial_aid", "food_basket", "rent", "medical", "education", "ramadan_basket"]
    case_rows = _case_rows(rnd, now, ben_ids[: max(1, beneficiaries // 3)], year, start_case, types, officer,
                           researcher, keys)
    with database.atomic():
        for chunk in range(0, len(case_rows), 2000):
            bulk_insert(Case, case_rows[chunk:chunk + 2000])
        stats.add_cases(stats.case_tally((r["created_at"], r["status"], r.get("decided_at"), r.get("committee_due_at"))
                                         for r in case_rows))
        Counter.insert(name=counter_name, value=0).on_conflict_ignore().execute()
        Counter.update(value=start_case + len(case_rows)).where(Counter.name == counter_name).execute()
        _declarations_and_reports(rnd, [r["reference"] for r in case_rows], officer, researcher)
        _library_versions(today)

    _outbox_notices(case_rows)
    _satisfaction(rnd, now, case_rows, [u for u in users if u.has_role("officer", "delegate", "researcher")])
    _complaints(rnd, ben_ids, keys, officer)

    # Timeline entries across every enabled channel, spread over the files; the first files get more.
    from .timeline import create_entries

    actors = [u.id for u in users if not u.has_role("admin", "manager", "committee")]
    written = 0
    batch = []
    with database.atomic():
        for i in range(entries):
            ben_id = ben_ids[i % len(ben_ids)] if i < len(ben_ids) * 2 else rnd.choice(ben_ids)
            direction = "in" if rnd.random() < 0.6 else "out"
            channel = keys[(i + i // len(ben_ids)) % len(keys)]
            occurred = now - dt.timedelta(minutes=rnd.randint(0, 60 * 24 * 365))
            if i % 40 == 0 and i < 8000:  # a realistic day: a few hundred contacts
                occurred = now - dt.timedelta(minutes=rnd.randint(0, 300))
            follow = today + dt.timedelta(days=rnd.randint(-3, 10)) if rnd.random() < 0.05 else None
            batch.append({
                "beneficiary": ben_id, "channel": channel, "direction": direction, "occurred_at": occurred,
                "summary": rnd.choice(SUMMARIES[direction]), "body": rnd.choice(BODIES),
                "actor": rnd.choice(actors), "data": None, "follow_up_due": follow, "follow_up_done": False,
                "created_at": occurred,
            })
            if len(batch) == 2000:
                written += len(create_entries(batch))
                batch = []
                if progress:
                    progress(written, entries)
        if batch:
            written += len(create_entries(batch))
        if progress:
            progress(written, entries)
    return {"beneficiaries": beneficiaries, "entries": written, "cases": len(case_rows),
            "seconds": time.perf_counter() - started}


def _outbox_notices(case_rows: list[dict], limit: int = 40) -> int:
    """The notices the newest demo requests would have sent (raised to the committee, approved, not
    approved), kept in the outbox as no channel is configured in a demonstration: what an officer sees
    after ``make run``. Returns how many."""
    from flask_babel import force_locale

    from .models import Case, OutboxMessage
    from .workflow.notices import render as render_notice

    newest = sorted((r for r in case_rows if r["status"] == "awaiting_committee" or r["decision"]),
                    key=lambda r: r["submitted_at"], reverse=True)[:limit]
    cases = {c.reference: c for c in Case.select().where(Case.reference.in_([r["reference"] for r in newest]))}
    made = []
    with force_locale("ar"):
        for row in newest:
            case = cases.get(row["reference"])
            if case is None:
                continue
            # The texts the notices send (editable by admins), references and dates isolated.
            key = "awaiting_committee" if row["status"] == "awaiting_committee" else (
                "approved" if row["decision"] == "approved" else "rejected")
            text = render_notice(case, key, "ar")
            purpose = "committee_expected_reply" if key == "awaiting_committee" else "decision"
            made.append({"beneficiary": case.beneficiary_id, "case": case.id, "purpose": purpose, "text": text,
                         "channel": "", "created_at": row["status_changed_at"]})
    with database.atomic():
        for chunk in range(0, len(made), 200):
            OutboxMessage.insert_many(made[chunk:chunk + 200]).execute()
    return len(made)



SURVEY_COMMENTS = [
    "الموظفة كانت متعاونة وشرحت لي كل شيء", "تأخر الرد على طلبي أكثر من المتوقع", "الخدمة ممتازة، جزاكم الله خيرًا",
    "صعوبة في الوصول بالهاتف في الصباح", "أتمنى توضيح المستندات المطلوبة من البداية", "تعامل راقٍ وسرعة في الإنجاز",
]


def _satisfaction(rnd, now, case_rows: list[dict], staff: list, limit: int = 80) -> int:
    """Surveys about the demo's finished requests, most answered (scores leaning to satisfied; a few low ones open
    their complaint in the register, as real ones do), some with a comment."""
    from .satisfaction import service
    from .satisfaction.models import Survey

    finished = [r for r in case_rows if r["status"] in SURVEYED_STATUSES][:limit]
    if not finished:
        return 0
    cases = {c.reference: c for c in Case.select().where(Case.reference.in_([r["reference"] for r in finished]))}
    made = 0
    with database.atomic():
        for row in finished:
            case = cases.get(row["reference"])
            at = min(now, (row["status_changed_at"] or now) + dt.timedelta(hours=rnd.randint(1, 48)))
            survey = service.offer(beneficiary=case.beneficiary, kind=row["status"], case=case,
                                   staff=rnd.choice(staff) if staff else None, source=f"case:{case.id}", now=at,
                                   send=False, force=True)
            if survey is None:
                continue
            made += 1
            Survey.update(sent_at=at, sent_state="sent", sent_channel=case.channel).where(
                Survey.id == survey.id).execute()
            if rnd.random() < 0.3:
                continue  # not answered
            overall = rnd.choice((2, 3, 4, 4, 5, 5, 5, 5, 4, 3, 5, 4, 5, 1))
            values = service.AnswerInput(
                overall, min(10, max(0, overall * 2 + rnd.randint(-2, 0))),
                {d: min(5, max(1, overall + rnd.randint(-1, 0))) for d in ("speed", "courtesy", "clarity", "fairness",
                                                                            "reach")},
                rnd.choice(SURVEY_COMMENTS) if rnd.random() < 0.4 else "", False, False)
            survey.expires_at = at + dt.timedelta(days=14)
            service.record_answer(survey, values, via=rnd.choice(("link", "link", "reply", "call", "desk", "qr")),
                                  now=at + dt.timedelta(hours=rnd.randint(1, 72)))
    return made


COMPLAINT_TEXTS = {
    "complaint": ["انتظرت في المكتب أكثر من ساعتين دون أن يستقبلني أحد", "لم يصلني رد على طلبي منذ شهر",
                  "اتصلت مرات عدة ولم يرد أحد", "طُلبت مني الأوراق نفسها مرتين"],
    "suggestion": ["أقترح فتح المكتب مساءً للعاملات", "أتمنى أن تصلنا رسالة عند كل خطوة في الطلب",
                   "لو يكون هناك موعد محدد بدل الانتظار"],
    "praise": ["شكرًا للموظفة على حسن الاستقبال", "جزاكم الله خيرًا على سرعة صرف السلة"],
    "inquiry": ["متى موعد صرف سلال رمضان؟", "ما الأوراق المطلوبة لتجديد الملف؟"],
}
DEMO_THEMES = (("وقت الانتظار", "Waiting time"), ("سرعة الرد", "Speed of answers"),
               ("وضوح المعلومات", "Clarity of information"), ("حسن التعامل", "Courtesy"))


def _complaints(rnd, ben_ids, keys, officer, count: int = 24) -> int:
    """A register with a bit of everything: kinds and channels, some linked to files and some not, some
    answered and closed with the complainant's satisfaction, a few past their deadline; the feedback themes
    and two published "You said, we did" improvements."""
    from .complaints import KINDS, open_complaint
    from .complaints.models import Complaint, FeedbackTheme, Improvement

    channel_keys = [k for k in keys if k != "system"]
    if not channel_keys:
        return 0
    themes = []
    for ar, en in DEMO_THEMES:
        FeedbackTheme.insert(name_ar=ar, name_en=en, created_at=utcnow()).on_conflict_ignore().execute()
        themes.append(FeedbackTheme.get(FeedbackTheme.name_ar == ar))
    made = 0
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        ben = Beneficiary.get_by_id(rnd.choice(ben_ids)) if rnd.random() < 0.7 else None
        c = open_complaint(kind=kind, channel=rnd.choice(channel_keys), text=rnd.choice(COMPLAINT_TEXTS[kind]),
                           beneficiary=ben, contact_name="" if ben else rnd.choice(FEMALE + MALE),
                           contact_mobile="" if ben else "+9665" + "".join(rnd.choice("0123456789") for _ in range(8)),
                           contact_requested=kind == "complaint", source="demo", source_id=f"{i}", user=officer)
        changes = {"theme": rnd.choice(themes).id}
        roll = rnd.random()
        if roll < 0.2:  # past its deadline, not answered yet
            changes["deadline"] = c.deadline - dt.timedelta(days=10)
        elif roll < 0.6:
            changes.update(state="closed", answer="تواصلنا معك وتمت معالجة الأمر", answered_at=utcnow(),
                           answered_by=officer.id, answer_delivery="not_sent", outcome="resolved",
                           closed_at=utcnow(), closed_by=officer.id, satisfaction=rnd.randint(2, 5),
                           satisfaction_at=utcnow())
        Complaint.update(**changes).where(Complaint.id == c.id).execute()
        made += 1
    if not Improvement.select().exists():
        Improvement.create(theme=themes[0], said_ar="الانتظار في المكتب طويل",
                           did_ar="أضفنا موظف استقبال ثانيًا ومواعيد مسبقة بالهاتف",
                           said_en="Waiting at the office is long",
                           did_en="We added a second receptionist and appointments by phone",
                           done_on=saudi_date(utcnow()) - dt.timedelta(days=20), published=True, created_by=officer)
        Improvement.create(theme=themes[2], said_ar="لا نعرف أين وصل طلبنا",
                           did_ar="صارت تصلكم رسالة عند كل خطوة في الطلب مع موعد الرد المتوقع",
                           said_en="We do not know where our request is",
                           did_en="You now get a message at each step of your request with the expected reply date",
                           done_on=saudi_date(utcnow()) - dt.timedelta(days=5), published=True, created_by=officer)
    return made
