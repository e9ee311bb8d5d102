"""The request types a fresh installation starts with (admins change them afterwards)."""
from __future__ import annotations

from ..db import database
from .models import EligibilityQuestion, RequestType, RequiredDocument

DEFAULT_TYPES = [
    {
        "code": "financial_aid", "name_ar": "مساعدة مالية", "name_en": "Financial aid",
        "description_ar": "دعم مالي للأسر ذات الدخل المحدود.", "description_en": "Cash support for low-income families.",
        "documents": ["national_id", "family_card", "income_proof", "bank_letter"],
        "questions": [("هل للأسرة دخل شهري ثابت؟", "Does the household have a regular monthly income?", "yes_no"),
                      ("إجمالي دخل الأسرة الشهري (ريال)", "Total monthly household income (SAR)", "number")],
    },
    {
        "code": "food_basket", "name_ar": "سلة غذائية", "name_en": "Food basket",
        "description_ar": "سلة غذائية شهرية.", "description_en": "A monthly food basket.",
        "documents": ["national_id", "family_card"],
        "questions": [("عدد أفراد الأسرة", "Number of household members", "number")],
    },
    {
        "code": "rent", "name_ar": "مساعدة إيجار", "name_en": "Rent support",
        "description_ar": "المساهمة في سداد إيجار السكن.", "description_en": "A contribution to the housing rent.",
        "documents": ["national_id", "family_card", "lease", "income_proof"],
        "questions": [("هل يوجد إنذار بالإخلاء؟", "Is there an eviction notice?", "yes_no"),
                      ("قيمة الإيجار السنوي (ريال)", "Yearly rent (SAR)", "number")],
    },
    {
        "code": "medical", "name_ar": "مساعدة علاجية", "name_en": "Medical support",
        "description_ar": "المساهمة في تكاليف العلاج والأجهزة الطبية.", "description_en": "Help with treatment costs and medical devices.",
        "documents": ["national_id", "medical_report"],
        "questions": [("ما العلاج أو الجهاز المطلوب؟", "What treatment or device is needed?", "text")],
    },
    {
        "code": "education", "name_ar": "دعم تعليمي", "name_en": "Education support",
        "description_ar": "رسوم دراسية ومستلزمات مدرسية.", "description_en": "School fees and supplies.",
        "documents": ["national_id", "family_card"],
        "questions": [("عدد الطلاب في الأسرة", "Number of students in the household", "number")],
    },
    {
        "code": "ramadan_basket", "name_ar": "سلة رمضان", "name_en": "Ramadan basket",
        "description_ar": "برنامج موسمي في شهر رمضان.", "description_en": "A seasonal programme in Ramadan.",
        "documents": ["national_id"], "season": 9,
        "categories": "widow,orphan,elderly,disability,low_income",
        "questions": [],
    },
]


def ensure_default_request_types() -> int:
    """Create the default request types that do not exist yet; returns how many were created."""
    created = 0
    with database.atomic():
        for position, spec in enumerate(DEFAULT_TYPES, start=1):
            if RequestType.select().where(RequestType.code == spec["code"]).exists():
                continue
            rtype = RequestType.create(
                code=spec["code"], name_ar=spec["name_ar"], name_en=spec["name_en"],
                description_ar=spec["description_ar"], description_en=spec["description_en"],
                eligible_categories=spec.get("categories", ""), season_hijri_month=spec.get("season"),
                position=position * 10,
            )
            for n, kind in enumerate(spec["documents"], start=1):
                RequiredDocument.create(request_type=rtype, kind=kind, position=n * 10)
            for n, (text_ar, text_en, kind) in enumerate(spec["questions"], start=1):
                EligibilityQuestion.create(request_type=rtype, text_ar=text_ar, text_en=text_en, answer_kind=kind,
                                           required=True, position=n * 10)
            created += 1
    return created
