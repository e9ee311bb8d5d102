"""Access rules of the website plugin: the public site is open to everybody (signed in or not);
the officers' queue and the page editors are staff screens."""
from . import STAFF, rule

QUEUE = ("officer", "admin", "manager")
ADMIN = ("admin",)


def FIXTURES(app):
    from plugins.website.models import FaqItem
    from plugins.website import inquiries

    item = FaqItem.create(question_ar="سؤال", answer_ar="جواب")
    values, errors = inquiries.validate({"kind": "inquiry", "name": "سائل", "mobile": "0501234567",
                                         "subject": "موضوع", "body": "نص"})
    assert not errors, errors
    inquiry = inquiries.create(values)
    pending = _pending_application()
    return {"inquiry": inquiry.id, "faq": item.id, "pending": pending.id, "apply_link": _apply_link()}


def _apply_link():
    """A valid one-time link to a pre-filled application (as the self-service menu sends it); a GET uses nothing."""
    from plugins.website import drafts, self_service
    from plugins.website.models import ApplicationDraft
    from portal.db import utcnow
    import datetime as dt

    code = drafts.new_code()
    draft = ApplicationDraft.create(code_hash=drafts.code_hash(code), national_id="1000000008", data={},
                                    expires_at=utcnow() + dt.timedelta(days=1))
    return self_service._serializer().dumps({"d": draft.id, "c": code})


def _pending_application():
    """An application whose ID matches a file: what the staff screens confirm or reject."""
    import datetime as dt

    from plugins.website.models import ApplicationDraft, PendingApplication
    from portal.models import Beneficiary

    ben = Beneficiary.select().first()
    draft = ApplicationDraft.create(code_hash="0" * 64, national_id=ben.national_id,
                                    expires_at=dt.datetime(2100, 1, 1), submitted_at=dt.datetime(2026, 1, 1),
                                    data={"applicant": {"first_name": "متقدم", "national_id": ben.national_id}})
    return PendingApplication.create(draft=draft, national_id=ben.national_id, beneficiary=ben, data=draft.data)


def public(method, url):
    return rule(method, url, STAFF, anonymous="ok")


ACCESS = {
    "website.static": public("GET", "/site/static/site.css"),
    "website.home": public("GET", "/site/"),
    "website.how_to_apply": public("GET", "/site/how-to-apply"),
    "website.contact": public("GET", "/site/contact"),
    "website.privacy": public("GET", "/site/privacy"),
    "website.policy": public("GET", "/site/policy"),
    "website.faq": public("GET", "/site/faq"),
    "website.you_said_we_did": public("GET", "/site/you-said-we-did"),
    "website.ask": public("POST", "/site/ask"),
    "website.ask_sent": public("GET", "/site/ask/sent"),
    "website.volunteer": public("POST", "/site/volunteer"),
    "website.volunteer_sent": public("GET", "/site/volunteer/thanks"),
    "website.track": public("POST", "/site/track"),
    "website.track_status": public("GET", "/site/track/status"),
    "website.track_leave": public("POST", "/site/track/leave"),
    "website.track_acknowledgement_pdf": public("GET", "/site/track/acknowledgement.pdf"),
    "website.track_token": public("GET", "/site/track/t/not-a-token"),
    "website.track_code": public("POST", "/site/track/code"),
    "website.track_upload": public("POST", "/site/track/upload"),
    "website.apply_start": public("GET", "/site/apply"),
    "website.apply_resume": public("POST", "/site/apply/resume"),
    "website.apply_link": public("GET", "/site/apply/link/{apply_link}"),
    "website.apply_step": public("POST", "/site/apply/applicant"),
    "website.apply_done": public("GET", "/site/apply/done"),
    "website.acknowledgement": public("GET", "/site/apply/acknowledgement"),
    "website.acknowledgement_pdf": public("GET", "/site/apply/acknowledgement.pdf"),
    "website.inbox": rule("GET", "/website/inbox", QUEUE),
    "website.inquiry_detail": rule("GET", "/website/inbox/{inquiry}", QUEUE),
    # managers read the queue; officers and admins take a message ("assign to me") and answer it
    "website.assign_inquiry": rule("POST", "/website/inbox/{inquiry}/assign", ("officer", "admin")),
    "website.volunteers": rule("GET", "/website/volunteers", QUEUE),
    "website.applications": rule("GET", "/website/applications", QUEUE),
    "website.application_detail": rule("GET", "/website/applications/{pending}", QUEUE),
    "website.pages": rule("GET", "/website/pages", ADMIN),
    "website.edit_page": rule("GET", "/website/pages/home/ar", ADMIN),
    "website.faq_admin": rule("GET", "/website/faq", ADMIN),
    "website.faq_edit": rule("GET", "/website/faq/{faq}", ADMIN),
    "website.contact_settings": rule("GET", "/website/contact-details", ADMIN),
}
