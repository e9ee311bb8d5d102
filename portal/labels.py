"""Display labels for stored codes (translated; Arabic is the source of truth on screen)."""
from flask_babel import lazy_gettext as _l

CATEGORY = {
    "widow": _l("Widow"), "orphan": _l("Orphan"), "elderly": _l("Elderly"), "disability": _l("Person with a disability"),
    "low_income": _l("Low-income family"), "divorced": _l("Divorced"), "sick": _l("Chronically ill"),
    "unemployed": _l("Unemployed"), "other": _l("Other"),
}
GENDER = {"m": _l("Male"), "f": _l("Female")}
DIRECTION = {"in": _l("From the beneficiary"), "out": _l("To the beneficiary"), "internal": _l("Internal note")}
BENEFICIARY_STATUS = {"active": _l("Active"), "applicant": _l("Applicant"), "inactive": _l("Inactive"),
                      "deceased": _l("Deceased")}
CASE_STATUS = {
    "draft": _l("Draft"), "submitted": _l("Submitted"), "incomplete": _l("Incomplete"),
    "in_research": _l("In social research"), "awaiting_committee": _l("Awaiting the committee"),
    "approved": _l("Approved"), "rejected": _l("Rejected"), "registered": _l("Registered"),
    "served": _l("Served"), "closed": _l("Closed"), "withdrawn": _l("Withdrawn"),
}
RELATION = {
    "spouse": _l("Spouse"), "son": _l("Son"), "daughter": _l("Daughter"), "father": _l("Father"),
    "mother": _l("Mother"), "brother": _l("Brother"), "sister": _l("Sister"), "other": _l("Other"),
}
DOCUMENT_KIND = {
    "national_id": _l("National ID card"), "iqama": _l("Iqama"), "family_card": _l("Family card"),
    "income_proof": _l("Proof of income"), "lease": _l("Lease contract"), "medical_report": _l("Medical report"),
    "death_certificate": _l("Death certificate"), "bank_letter": _l("Bank letter"), "other": _l("Other"),
}
ROLE = {
    "admin": _l("System administrator"), "officer": _l("Beneficiary relations officer"),
    "researcher": _l("Social researcher"), "committee": _l("Research committee member"),
    "delegate": _l("Branch delegate"), "manager": _l("Manager"),
}
REQUEST_TYPE = {
    "general": _l("General request"), "financial_aid": _l("Financial aid"), "food_basket": _l("Food basket"),
    "rent": _l("Rent"), "medical": _l("Medical"), "education": _l("Education"), "seasonal": _l("Seasonal programme"),
    "ramadan_basket": _l("Ramadan basket"),
}
ID_KIND = {"citizen": _l("Citizen"), "resident": _l("Resident")}


def label(table: dict, code):
    return table.get(code, code) if code is not None else ""
DECLARATION_METHOD = {"paper_scan": _l("Signed on paper (scan attached)"), "self_tick": _l("Ticked on the website"),
                      "read_out": _l("Read out on the phone")}
VOTE = {"approve": _l("Approve"), "reject": _l("Reject"), "abstain": _l("Abstain")}
CHECK_STATE = {"present": _l("Present"), "missing": _l("Missing"), "expired": _l("Expired")}
ANSWER_KIND = {"yes_no": _l("Yes / no"), "number": _l("Number"), "text": _l("Text")}
YES_NO = {"yes": _l("Yes"), "no": _l("No")}
OUTREACH_KIND = {
    "document_expiring": _l("Document expiring"), "id_expiring": _l("ID expiring"), "follow_up": _l("Follow-up due"),
    "unserved": _l("Approved, not served"), "seasonal": _l("Seasonal programme"), "call_back": _l("Call back"),
    "other": _l("Other"), "complaint": _l("Complaint follow-up"),
}
LIBRARY_KIND = {"bylaws": _l("Basic bylaws"), "research_guide": _l("Social research services guide"),
                "support_policy": _l("Beneficiary support policy guide"),
                "request_form": _l("Beneficiary support request form"), "other": _l("Other")}
CONSENT_KIND = {"data": _l("Processing of their data"), "contact": _l("Being contacted with news and programmes")}
CONSENT_CHANNEL = {
    "in_person": _l("In person"), "phone": _l("Phone"), "paper": _l("Signed paper"), "website": _l("Website"),
    "whatsapp": _l("WhatsApp"), "email": _l("Email"), "letter": _l("Letter"), "record": _l("Saved on the file form"),
}
CORRECTION_STATUS = {"pending": _l("Awaiting review"), "applied": _l("Applied"), "rejected": _l("Refused")}
BENEFICIARY_FIELD = {
    "first_name": _l("First name"), "father_name": _l("Father's name"), "grandfather_name": _l("Grandfather's name"),
    "family_name": _l("Family name"), "national_id": _l("National ID or iqama number"),
    "id_expiry": _l("ID expiry date"), "nationality": _l("Nationality"), "gender": _l("Gender"),
    "birth_date": _l("Birth date"), "mobile": _l("Mobile"), "email": _l("Email"), "district": _l("District"),
    "city": _l("City"), "national_address": _l("National address"), "preferred_channel": _l("Preferred channel"),
}
# What the daily workflow counts (portal.workflow.hooks.run_daily): new outreach tasks per kind, escalations.
OUTREACH_COUNT = {**OUTREACH_KIND, "escalated": _l("Requests escalated to the managers"),
                  "survey_reminders": _l("Satisfaction survey reminders sent")}
