"""Demonstration data of the interview channel (``portal interview demo``, after ``portal demo``): weekly
slots for each branch, a few appointments and walk-ins, and interviews on the timeline."""
from __future__ import annotations

import datetime as dt
import random

from portal.dates import saudi_today

from portal.models import Beneficiary, Branch, User

from . import service as svc
from .models import SlotTemplate

REASONS = ["الاستفسار عن طلب السلة الغذائية", "تسليم صورة عقد الإيجار", "السؤال عن شروط المساعدة المالية",
           "تحديث بيانات الأسرة", "مراجعة نتيجة البحث الاجتماعي"]


def build(seed: int = 1448) -> dict:
    rnd = random.Random(seed)
    officers = [u for u in User.select().where(User.is_active == True) if u.has_role("officer")]  # noqa: E712
    researchers = [u for u in User.select().where(User.is_active == True) if u.has_role("researcher")]  # noqa: E712
    if not officers:
        return {"skipped": "no officer: run `portal demo` first"}
    branches = list(Branch.select().order_by(Branch.code)) or [None]
    counts = {"templates": 0, "slots": 0, "appointments": 0, "interviews": 0}
    if not SlotTemplate.select().exists():
        for branch in branches:
            for weekday in (6, 0, 1, 2, 3):  # Sunday to Thursday
                SlotTemplate.create(branch=branch, officer=rnd.choice(officers), weekday=weekday, start="09:00",
                                    end="12:00", minutes=30)
                counts["templates"] += 1
    counts["slots"] = svc.generate_slots()
    people = list(Beneficiary.select().where(Beneficiary.erased_at.is_null()).order_by(Beneficiary.id).limit(40))
    for slot in svc.free_slots(limit=12):
        if not people:
            break
        ben = people.pop(0)
        try:
            svc.book(slot_id=str(slot.id), beneficiary=ben, reason=rnd.choice(REASONS), source="staff",
                     actor=officers[0])
            counts["appointments"] += 1
        except svc.DeskError:
            continue
    for ben in people[:8]:
        officer = rnd.choice(officers)
        values = {"purpose": rnd.choice(REASONS), "present": f"{ben.first_name} وابنه",
                  "questions": [{"q": "هل تغير دخل الأسرة؟", "a": "لا، ما زال الدخل من الضمان فقط"},
                                {"q": "هل لديكم عقد إيجار ساري؟", "a": "نعم، حتى نهاية العام"}],
                  "documents_seen": "الهوية الوطنية، عقد الإيجار", "outcome": "شُرحت الخطوات وسُلّم الطلب للمراجعة",
                  "follow_up_due": saudi_today() + dt.timedelta(days=rnd.randint(3, 14)),
                  "referred_to": rnd.choice(researchers) if researchers and rnd.random() < 0.4 else None,
                  "referral_question": "شرح شروط المساعدة الموسمية"}
        svc.record_interview(beneficiary=ben, values=values, form_token=svc.new_form_token(), actor=officer)
        counts["interviews"] += 1
    return counts



