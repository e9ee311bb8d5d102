"""Demonstration data of the volunteering service (``portal volunteering demo``, after ``portal demo``):
volunteers with skills and availability, opportunities of the coming days, assignments, hours logged in
the past and a beneficiary served."""
from __future__ import annotations

import datetime as dt
import random

from flask import current_app

from portal.dates import from_saudi, saudi_today
from portal.db import utcnow
from portal.models import Beneficiary, Branch, User

from . import service as svc
from .models import Assignment, Opportunity, Volunteer

NAMES = ["عبدالله الغامدي", "نورة القحطاني", "فهد العتيبي", "سارة الزهراني", "خالد الشهري", "ريم المالكي",
         "ماجد الحربي", "هند السبيعي", "تركي الدوسري", "أمل الشمري"]
TASKS = [("delivery", "توصيل السلال الغذائية", "مستودع الجمعية", ["delivery", "driving"]),
         ("home_visit", "زيارة كبار السن في منازلهم", "حي الشفا", ["home_visits"]),
         ("ramadan", "توزيع إفطار صائم", "جامع الحي", ["distribution", "packing"])]


def build(seed: int = 1448) -> dict:
    rnd = random.Random(seed)
    officer = next((u for u in User.select().where(User.is_active == True) if u.has_role("officer")), None)  # noqa: E712
    if officer is None:
        return {"skipped": "no officer: run `portal demo` first"}
    if Volunteer.select().exists():
        return {"skipped": "the registry already has volunteers"}
    branches = list(Branch.select().order_by(Branch.code)) or [None]
    counts = {"volunteers": 0, "opportunities": 0, "assignments": 0, "hours": 0, "services": 0}
    volunteers = []
    for i, name in enumerate(NAMES):
        values = {"name": name, "mobile": f"+9665{rnd.randint(10000000, 99999999)}", "email": "", "national_id": "",
                  "city": "", "branch": rnd.choice(branches), "notes": "",
                  "skills": sorted(rnd.sample(list(svc.SKILLS), 3)),
                  "weekdays": svc.mask_of(rnd.sample([6, 0, 1, 2, 3, 4, 5], 4)),
                  "time_from": "08:00", "time_to": "23:00"}
        row = svc.save_volunteer(values, actor=officer)
        if i < 8:
            svc.set_state(row, "approved", actor=officer)
        volunteers.append(row)
        counts["volunteers"] += 1
    today = saudi_today()
    for offset, (kind, title, place, skills) in zip((-7, 2, 5), TASKS):
        day = today + dt.timedelta(days=offset)
        starts = from_saudi(dt.datetime.combine(day, dt.time(16, 0)))
        opp = Opportunity.create(title=title, kind=kind, branch=branches[0], place=place, starts_at=starts,
                                 ends_at=starts + dt.timedelta(minutes=180), skills=skills, places=4, created_by=officer)
        counts["opportunities"] += 1
        for vol in volunteers[:8]:
            if counts["assignments"] >= 3 * (TASKS.index((kind, title, place, skills)) + 1):
                break
            vol = Volunteer.get_by_id(vol.id)
            row = Assignment.create(opportunity=opp, volunteer=vol, token=svc.secrets.token_urlsafe(24),
                                    outside_availability=not svc.fits(vol, opp), assigned_by=officer,
                                    state="confirmed", confirmed_at=utcnow())
            counts["assignments"] += 1
            if offset < 0:
                hours = svc.log_hours(row, "3", note="", actor=officer)
                svc.decide_hours(hours, True, actor=officer)
                counts["hours"] += 1
                ben = Beneficiary.select().where(Beneficiary.erased_at.is_null()).order_by(Beneficiary.id).first()
                if ben is not None and not counts["services"]:
                    svc.record_service(Assignment.get_by_id(row.id), beneficiary=ben, note="سُلّمت السلة للأسرة",
                                       actor=officer)
                    counts["services"] += 1
    current_app.logger.info("volunteering demo: %s", counts)
    return counts
