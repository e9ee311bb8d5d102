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


MODELS = [SitePage, FaqItem, Inquiry, Volunteer, ApplicationDraft]
