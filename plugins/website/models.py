"""The website's own tables: editable page content, FAQ, inquiries/complaints/suggestions,
volunteer sign-ups and saved application drafts. Requests themselves are core ``Case`` rows."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.db import BaseModel, utcnow
from portal.models import Beneficiary, Case, JSONField, TimelineEntry, User

PAGE_SLUGS = ("home", "how_to_apply", "contact", "privacy", "policy")
INQUIRY_KINDS = ("inquiry", "complaint", "suggestion")
INQUIRY_STATUSES = ("open", "answered", "closed")


class SitePage(BaseModel):
    """An admin's edit of a public page in one language; without a row the shipped text is shown."""

    slug = CharField(max_length=40)
    lang = CharField(max_length=5)
    title = CharField(max_length=200)
    body = TextField()
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("slug", "lang"), True),)


class FaqItem(BaseModel):
    question_ar = CharField(max_length=300)
    answer_ar = TextField()
    question_en = CharField(max_length=300, default="")
    answer_en = TextField(default="")
    position = IntegerField(default=0)
    published = BooleanField(default=True)
    updated_at = DateTimeField(default=utcnow)


class Inquiry(BaseModel):
    """An inquiry, complaint or suggestion sent from the website, queued for officers."""

    reference = CharField(max_length=20, unique=True)
    kind = CharField(max_length=20)
    name = CharField(max_length=160)
    mobile = CharField(max_length=20, default="")
    national_id = CharField(max_length=10, default="")
    email = CharField(max_length=200, default="")
    subject = CharField(max_length=200)
    body = TextField()
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="SET NULL")
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")
    status = CharField(max_length=20, default="open", index=True)
    due_at = DateTimeField(index=True)
    answer = TextField(default="")
    answered_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    answered_at = DateTimeField(null=True)
    answer_delivery = CharField(max_length=120, default="")
    form_nonce = CharField(max_length=32, null=True, unique=True)  # the same form posted twice -> one row
    created_at = DateTimeField(default=utcnow)
    assigned_to = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", index=True)  # "assign to me"


class Volunteer(BaseModel):
    name = CharField(max_length=160)
    mobile = CharField(max_length=20)
    email = CharField(max_length=200, default="")
    city = CharField(max_length=80, default="")
    skills = TextField()
    availability = CharField(max_length=40)
    notes = TextField(default="")
    status = CharField(max_length=20, default="new")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")
    form_nonce = CharField(max_length=32, null=True, unique=True)
    created_at = DateTimeField(default=utcnow)


class ApplicationDraft(BaseModel):
    """An online application in progress. ``code_hash`` is the sha256 of the resume code."""

    code_hash = CharField(max_length=64, unique=True)
    data = JSONField(default=dict)
    step = CharField(max_length=20, default="applicant")
    national_id = CharField(max_length=10, default="", index=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)
    submitted_at = DateTimeField(null=True)
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")


class PendingApplication(BaseModel):
    """An online application whose national ID matches a file already held: it waits for an officer
    to confirm it joins that file (or to reject it). ``data`` is the draft as the applicant typed it."""

    draft = ForeignKeyField(ApplicationDraft, unique=True, backref="+", on_delete="CASCADE")
    national_id = CharField(max_length=10, index=True)
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="SET NULL")
    data = JSONField(default=dict)
    status = CharField(max_length=20, default="pending", index=True)  # pending, confirmed, rejected
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    reason = TextField(default="")
    created_at = DateTimeField(default=utcnow)


class TrackingToken(BaseModel):
    """The unguessable part of a request's tracking link; only its sha256 is kept."""

    case = ForeignKeyField(Case, unique=True, backref="+", on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)


class TrackingChallenge(BaseModel):
    """A one-time code sent to the registered mobile after the reference and the national ID matched.
    ``code_hash`` is an HMAC of the code; the challenge is bound to the browser by ``nonce_hash``."""

    case = ForeignKeyField(Case, backref="+", on_delete="CASCADE")
    code_hash = CharField(max_length=64)
    nonce_hash = CharField(max_length=64, unique=True)
    attempts = IntegerField(default=0)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class TrackingLock(BaseModel):
    """Failed tracking attempts per key (a reference, or an address kept as an HMAC) and the lockout
    they lead to. Kept in the database so every worker sees the same count."""

    key = CharField(max_length=64, unique=True)
    failures = IntegerField(default=0)
    window_start = DateTimeField(default=utcnow)
    locked_until = DateTimeField(null=True)


class SiteContact(BaseModel):
    """The association's contact details shown on every public page (one row, edited by admins;
    without it the ``WEBSITE_PHONE``/``WEBSITE_EMAIL``/``WEBSITE_ADDRESS`` settings are shown)."""

    phone = CharField(max_length=30, default="")
    email = CharField(max_length=120, default="")
    address = CharField(max_length=300, default="")
    hours = CharField(max_length=300, default="")
    map_url = CharField(max_length=500, default="")
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    updated_at = DateTimeField(default=utcnow)

