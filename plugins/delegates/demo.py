"""Demonstration data of the delegates channel (``portal demo``, through the ``demo_data`` hook): for each
delegate with a branch, today's route of a few files of that branch, visits and contacts on some of them."""
from __future__ import annotations

import random

from portal.dates import saudi_today
from portal.models import Beneficiary

from . import service as svc

NEEDS = ["سقف المنزل يحتاج إلى ترميم قبل الشتاء", "الأسرة تحتاج إلى سلة غذائية شهرية",
         "ثلاجة المنزل معطلة", "الابن الأكبر يحتاج إلى رسوم دراسية", "الأم تحتاج إلى متابعة علاج السكري"]
HOUSEHOLDS = ["الأم وأربعة أبناء، أكبرهم في الثانوية", "الأب المسن وابنته المطلقة وطفلاها",
              "أرملة تعيش وحدها في شقة مستأجرة"]


def build(seed: int = 1448) -> dict:
    rnd = random.Random(seed)
    counts = {"plans": 0, "visits": 0, "contacts": 0}
    delegates = [d for d in svc.delegates_of() if d.branch_id]
    if not delegates:
        return {"skipped": "no delegate with a branch: run `portal demo` first"}
    today = saudi_today()
    for delegate in delegates:
        files = list(Beneficiary.select().where((Beneficiary.branch == delegate.branch_id)
                                                & Beneficiary.erased_at.is_null())
                     .order_by(Beneficiary.id).limit(6))
        for ben in files[:4]:
            try:
                svc.add_plan(delegate=delegate, beneficiary=ben, day=today, note="", actor=delegate)
                counts["plans"] += 1
            except svc.FieldError:
                continue
        for ben in files[:2]:
            values = {"household_seen": rnd.choice(HOUSEHOLDS), "needs": rnd.choice(NEEDS), "location_consent": False,
                      "latitude": None, "longitude": None}
            plan = next((p for p in svc.route(delegate, today) if p.beneficiary_id == ben.id), None)
            _row, created = svc.record_visit(beneficiary=ben, delegate=delegate, client_id=svc.new_client_id(),
                                             values=values, plan=plan)
            counts["visits"] += created
        for ben in files[2:5]:
            _row, created = svc.log_contact(beneficiary=ben, delegate=delegate, client_id=svc.new_client_id(),
                                            values={"direction": "out", "summary": "اتصال لتأكيد موعد الزيارة",
                                                    "body": ""})
            counts["contacts"] += created
    return counts
