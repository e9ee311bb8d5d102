"""Tables of the support-request workflow: request types and their checklists, the declaration and
its text versions, research reports, committee sessions and votes, enrolments and deliveries, the
officer's library and the outreach queue."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, DecimalField, ForeignKeyField, IntegerField, TextField

from ..db import BaseModel, utcnow
from ..models import Beneficiary, Case, Document, JSONField, StoredFile, TimelineEntry, User

ANSWER_KINDS = ("yes_no", "number", "text")
DECLARATION_METHODS = ("paper_scan", "self_tick", "read_out")
VOTES = ("approve", "reject", "abstain")
LIBRARY_KINDS = ("bylaws", "research_guide", "support_policy", "request_form", "other")
OUTREACH_STATUSES = ("open", "done", "dismissed")


class RequestType(BaseModel):
    """A kind of support (financial aid, food basket, rent, ...), managed by admins."""

    code = CharField(max_length=60, unique=True)
    name_ar = CharField(max_length=120)
    name_en = CharField(max_length=120, default="")
    description_ar = TextField(default="")
    description_en = TextField(default="")
    active = BooleanField(default=True)
    public = BooleanField(default=True)  # offered on the public website
    # Seasonal programmes: categories eligible (comma-separated Beneficiary.category codes) and the
    # Hijri month the programme runs in (9 = Ramadan); outreach proposes them ahead of the season.
    eligible_categories = CharField(max_length=300, default="")
    season_hijri_month = IntegerField(null=True)
    position = IntegerField(default=100)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @property
    def category_set(self) -> set[str]:
        return {c for c in self.eligible_categories.split(",") if c}

    def name(self, lang: str = "ar") -> str:
        return self.name_ar if lang == "ar" or not self.name_en else self.name_en


class RequiredDocument(BaseModel):
    """One line of a request type's checklist."""

    request_type = ForeignKeyField(RequestType, backref="required_documents", on_delete="CASCADE")
    kind = CharField(max_length=40)  # Document.kind
    note_ar = CharField(max_length=300, default="")
    note_en = CharField(max_length=300, default="")
    position = IntegerField(default=100)

    class Meta:
        indexes = ((("request_type", "kind"), True),)


class EligibilityQuestion(BaseModel):
    request_type = ForeignKeyField(RequestType, backref="questions", on_delete="CASCADE")
    text_ar = CharField(max_length=300)
    text_en = CharField(max_length=300, default="")
    answer_kind = CharField(max_length=10, default="yes_no")
    required = BooleanField(default=True)
    active = BooleanField(default=True)
    position = IntegerField(default=100)

    def text(self, lang: str = "ar") -> str:
        return self.text_ar if lang == "ar" or not self.text_en else self.text_en


class DeclarationText(BaseModel):
    """A version of the declaration (إقرار) wording. Editing creates a new version; none is deleted."""

    version = IntegerField(unique=True)
    text_ar = TextField()
    text_en = TextField(default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class Declaration(BaseModel):
    """The applicant's acknowledgement that they are responsible for the correctness of the data."""

    case = ForeignKeyField(Case, backref="declarations", on_delete="CASCADE")
    beneficiary = ForeignKeyField(Beneficiary, backref="+", on_delete="CASCADE")
    text = ForeignKeyField(DeclarationText, backref="+", on_delete="RESTRICT")
    given_at = DateTimeField(default=utcnow)
    channel = CharField(max_length=30)
    method = CharField(max_length=20)
    witness = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    document = ForeignKeyField(Document, null=True, backref="+", on_delete="SET NULL")  # the signed scan
    created_at = DateTimeField(default=utcnow)


class ResearchReport(BaseModel):
    case = ForeignKeyField(Case, backref="research_reports", on_delete="CASCADE")
    researcher = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    visit_date = DateField()
    household_situation = TextField()
    monthly_income = DecimalField(max_digits=12, decimal_places=2, null=True)
    housing = TextField(default="")
    needs = TextField()
    recommendation = CharField(max_length=10)  # approve / reject
    recommendation_notes = TextField(default="")
    created_at = DateTimeField(default=utcnow)


class ResearchAttachment(StoredFile):
    report = ForeignKeyField(ResearchReport, backref="attachments", on_delete="CASCADE")


class CommitteeSession(BaseModel):
    held_on = DateField()
    title = CharField(max_length=200, default="")
    quorum = IntegerField(default=3)
    chair = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    closed_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class SessionMember(BaseModel):
    session = ForeignKeyField(CommitteeSession, backref="members", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")

    class Meta:
        indexes = ((("session", "user"), True),)


class AgendaItem(BaseModel):
    session = ForeignKeyField(CommitteeSession, backref="agenda", on_delete="CASCADE")
    case = ForeignKeyField(Case, backref="agenda_items", on_delete="CASCADE")
    position = IntegerField()
    decision = CharField(max_length=20, default="")  # approved / rejected once the chair decided

    class Meta:
        indexes = ((("session", "case"), True),)


class Vote(BaseModel):
    session = ForeignKeyField(CommitteeSession, backref="votes", on_delete="CASCADE")
    case = ForeignKeyField(Case, backref="votes", on_delete="CASCADE")
    member = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    vote = CharField(max_length=10)
    comment = TextField(default="")
    at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("session", "case", "member"), True),)


class Enrolment(BaseModel):
    """Step 6: the beneficiary enrolled in the programme the approved request belongs to."""

    case = ForeignKeyField(Case, backref="enrolments", on_delete="CASCADE", unique=True)
    beneficiary = ForeignKeyField(Beneficiary, backref="enrolments", on_delete="CASCADE")
    programme = CharField(max_length=60)  # RequestType.code
    starts_on = DateField()
    ends_on = DateField(null=True)
    notes = TextField(default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class Delivery(BaseModel):
    """Step 7: one service delivered for a case (several per case)."""

    case = ForeignKeyField(Case, backref="deliveries", on_delete="CASCADE")
    what = CharField(max_length=200)
    amount = DecimalField(max_digits=12, decimal_places=2, null=True)
    quantity = IntegerField(null=True)
    delivered_on = DateField()
    delivered_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    receipt_number = CharField(max_length=60, default="")
    receipt_sha256 = CharField(max_length=64, default="")
    receipt_name = CharField(max_length=200, default="")
    receipt_type = CharField(max_length=100, default="")
    created_at = DateTimeField(default=utcnow)


class LibraryDocument(BaseModel):
    """One of the officer's tools (bylaws, research guide, support policy, request form, ...)."""

    kind = CharField(max_length=30, default="other")
    title_ar = CharField(max_length=200)
    title_en = CharField(max_length=200, default="")
    title_search = CharField(max_length=400, default="", index=True)
    position = IntegerField(default=100)
    created_at = DateTimeField(default=utcnow)

    def title(self, lang: str = "ar") -> str:
        return self.title_ar if lang == "ar" or not self.title_en else self.title_en


class LibraryVersion(BaseModel):
    document = ForeignKeyField(LibraryDocument, backref="versions", on_delete="CASCADE")
    label = CharField(max_length=40)
    effective_from = DateField()
    notes = TextField(default="")
    text_search = TextField(default="")  # normalised text for searching
    sha256 = CharField(max_length=64, default="")
    file_name = CharField(max_length=200, default="")
    content_type = CharField(max_length=100, default="")
    size = IntegerField(default=0)
    uploaded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class OutreachTask(BaseModel):
    """Reach a beneficiary without them having to ask: one task for an officer."""

    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="outreach_tasks", on_delete="CASCADE")
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    kind = CharField(max_length=40, index=True)
    reason = CharField(max_length=300)
    due = DateField(index=True)
    source = JSONField(null=True)
    key = CharField(max_length=200, unique=True)  # the same task is never created twice
    status = CharField(max_length=10, default="open", index=True)
    outcome = TextField(default="")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")
    done_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    done_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    assigned_to = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", index=True)  # migration 0011

    class Meta:
        indexes = ((("status", "due"), False),)


class NoticeText(BaseModel):
    """An admin's wording of one notice (``portal.workflow.notices``): Arabic and English text with
    placeholders, and the WhatsApp template the notice uses outside the 24-hour window. Without a row the
    defaults shipped in code apply. Migration 0015."""

    key = CharField(max_length=40, unique=True)  # a notice key: the status the notice announces, or "bulk"
    text_ar = TextField()
    text_en = TextField()
    template = CharField(max_length=100, default="")
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


class Notice(BaseModel):
    """One message due to a beneficiary (a status change's notice, a bulk message): written once per
    ``key`` so a retry or a double submission never sends twice, and kept while it waits (quiet hours,
    the daily cap). ``state``: waiting (held until ``due_at``: ``held`` says why), sent, queued (a channel
    took it to send shortly), not_sent (no channel could), no_consent. Migration 0015."""

    key = CharField(max_length=120, unique=True)
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="CASCADE")
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    purpose = CharField(max_length=40)
    text = TextField()
    context = JSONField(null=True)
    urgent = BooleanField(default=False)
    state = CharField(max_length=12, default="waiting")
    held = CharField(max_length=12, default="")  # quiet | cap, while waiting
    due_at = DateTimeField()
    channel = CharField(max_length=30, default="")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("state", "due_at"), False), (("beneficiary", "sent_at"), False))


WORKFLOW_MODELS = [
    RequestType, RequiredDocument, EligibilityQuestion, DeclarationText, Declaration, ResearchReport,
    ResearchAttachment, CommitteeSession, SessionMember, AgendaItem, Vote, Enrolment, Delivery,
    LibraryDocument, LibraryVersion, OutreachTask, NoticeText, Notice,
]
