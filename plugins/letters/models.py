"""The letters plugin's own tables: templates and their versions, the outgoing (صادر) and incoming (وارد)
registries, and batches. Everything a person sees of a letter also sits on the unified timeline."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.db import BaseModel, utcnow
from portal.models import Beneficiary, Case, JSONField, TimelineEntry, User

# issuing: numbered, its PDF not stored yet; spoiled: numbered, never issued (the reason in revoked_reason).
LETTER_STATUSES = ("issuing", "valid", "revoked", "spoiled")
OCR_STATUSES = ("pending", "done", "unavailable", "failed", "none")
BATCH_STATUSES = ("queued", "running", "done", "failed")


class LetterTemplate(BaseModel):
    """A letter template; its text lives in versions, every saved version kept."""

    key = CharField(max_length=60, unique=True)
    name_ar = CharField(max_length=160)
    name_en = CharField(max_length=160)
    purpose = CharField(max_length=40, default="general")  # what hooks pick it by: decision_approved, ...
    builtin = BooleanField(default=False)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)


class LetterTemplateVersion(BaseModel):
    template = ForeignKeyField(LetterTemplate, backref="versions", on_delete="CASCADE")
    number = IntegerField()
    subject = CharField(max_length=300)
    body = TextField()  # Jinja HTML
    css = TextField(default="")
    extra_fields = TextField(default="")  # one "key|Arabic label|English label" a line, typed when issuing
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("template", "number"), True),)


class LetterBatch(BaseModel):
    template = ForeignKeyField(LetterTemplate, backref="batches", on_delete="CASCADE")
    description = CharField(max_length=300, default="")
    case_ids = JSONField(default=list)
    status = CharField(max_length=20, default="queued")
    total = IntegerField(default=0)
    done = IntegerField(default=0)
    failed = IntegerField(default=0)
    errors = JSONField(default=list)
    pdf_sha256 = CharField(max_length=64, default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    session_id = IntegerField(null=True)  # a committee session of the workflow, when the batch is its decisions
    by_decision = BooleanField(default=False)  # each request gets the letter of its own decision


class Letter(BaseModel):
    """An outgoing letter. The stored PDF never changes; a reissue is a new letter pointing to this one."""

    number = CharField(max_length=30, unique=True)
    hijri_year = IntegerField()
    sequence = IntegerField()
    template = ForeignKeyField(LetterTemplate, null=True, backref="letters", on_delete="SET NULL")
    template_version = ForeignKeyField(LetterTemplateVersion, null=True, backref="letters", on_delete="SET NULL")
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="letters", on_delete="SET NULL")
    case = ForeignKeyField(Case, null=True, backref="letters", on_delete="SET NULL")
    recipient = CharField(max_length=200, default="")
    recipient_initials = CharField(max_length=20, default="")
    subject = CharField(max_length=300)
    fields = JSONField(null=True)
    issued_at = DateTimeField(default=utcnow, index=True)
    issued_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    pdf_sha256 = CharField(max_length=64)
    pdf_size = IntegerField()
    page_count = IntegerField(default=1)
    verify_code = CharField(max_length=20)
    status = CharField(max_length=10, default="valid")  # LETTER_STATUSES
    revoked_at = DateTimeField(null=True)  # when it was revoked, or spoiled
    revoked_reason = CharField(max_length=300, default="")  # why it was revoked, or spoiled
    replaces = ForeignKeyField("self", null=True, backref="reissues", on_delete="SET NULL")
    batch = ForeignKeyField(LetterBatch, null=True, backref="letters", on_delete="SET NULL")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")
    issue_token = CharField(max_length=40, null=True, unique=True)  # the issue form's one-time token


class IncomingLetter(BaseModel):
    """A received (scanned) letter in the incoming registry."""

    number = CharField(max_length=30, unique=True)
    hijri_year = IntegerField()
    sequence = IntegerField()
    sender = CharField(max_length=200)
    sender_reference = CharField(max_length=60, default="")
    subject = CharField(max_length=300)
    letter_date = DateField(null=True)
    received_at = DateTimeField(default=utcnow, index=True)
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="incoming_letters", on_delete="SET NULL")
    case = ForeignKeyField(Case, null=True, backref="incoming_letters", on_delete="SET NULL")
    notes = TextField(default="")
    file_sha256 = CharField(max_length=64)
    file_name = CharField(max_length=200)
    content_type = CharField(max_length=100)
    size = IntegerField()
    page_count = IntegerField(default=1)
    ocr_status = CharField(max_length=20, default="pending")
    ocr_text = TextField(default="")
    search_text = TextField(default="")  # normalised sender + subject + OCR text
    registered_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")


class PrintJob(BaseModel):
    """A letter waiting to be printed and posted: the notices' last channel (``send_message`` with
    ``channel="letters"``) issues a numbered letter with the notice's text and queues it here. Migration 0004."""

    letter = ForeignKeyField(Letter, backref="+", on_delete="CASCADE", unique=True)
    purpose = CharField(max_length=40, default="")
    queued_at = DateTimeField(default=utcnow, index=True)
    printed_at = DateTimeField(null=True, index=True)
    printed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
