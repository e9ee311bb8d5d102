"""Core models: users and branches, beneficiaries and their documents, cases, the unified timeline, audit."""
from __future__ import annotations


from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    DateField,
    DateTimeField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .db import BaseModel, JSONField, utcnow  # noqa: F401  (JSONField is imported from here by the plugins)

ROLES = ("admin", "officer", "researcher", "committee", "delegate", "manager")
# Rights given to roles (a user has a right when they hold any of its roles); checked by
# ``portal.auth.permission_required`` and ``User.can``.
PERMISSIONS = {
    "privacy.export": ("admin", "manager"),  # download everything held about a beneficiary (PDPL)
    "privacy.erase": ("admin", "manager"),  # anonymise a beneficiary's file
    "privacy.review": ("officer", "admin", "manager"),  # apply or refuse a correction request
    "audit.read": ("admin", "manager"),  # read and export the audit log
    "outbox.read": ("officer", "admin"),  # messages no channel delivered, as the beneficiary would have seen them
}
GENDERS = ("m", "f")
CATEGORIES = (
    "widow", "orphan", "elderly", "disability", "low_income", "divorced", "sick", "unemployed", "other",
)
DIRECTIONS = ("in", "out", "internal")
BENEFICIARY_STATUSES = ("active", "applicant", "inactive", "deceased")



class Branch(BaseModel):
    code = CharField(max_length=20, unique=True)
    name_ar = CharField(max_length=120)
    name_en = CharField(max_length=120, default="")
    city = CharField(max_length=80, default="")


class User(BaseModel):
    username = CharField(max_length=60, unique=True)
    full_name = CharField(max_length=160)
    email = CharField(max_length=200, default="")
    phone = CharField(max_length=20, default="", index=True)  # E.164; extension for CTI matching
    password_hash = CharField(max_length=255)
    roles = CharField(max_length=200, default="")  # comma-separated subset of ROLES
    branch = ForeignKeyField(Branch, null=True, backref="users", on_delete="SET NULL")
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)
    # Bumped on sign-out, password, role or activation changes: every session and remember cookie
    # carrying an older number stops working.
    session_version = IntegerField(default=1)
    totp_secret = CharField(max_length=64, default="")  # base32; empty = no two-step sign-in
    totp_last_step = BigIntegerField(default=0)  # the last accepted TOTP time step (no replay)
    password_changed_at = DateTimeField(null=True)

    @property
    def role_set(self) -> set[str]:
        return {r for r in self.roles.split(",") if r}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set & set(roles))

    def can(self, permission: str) -> bool:
        return self.has_role(*PERMISSIONS[permission])

    @property
    def branch_limited(self) -> bool:
        """A branch delegate with no wider role sees only the files of their own branch."""
        return self.has_role("delegate") and not self.has_role("admin", "officer", "manager", "researcher", "committee")

    # flask-login protocol
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """What the session and the remember cookie carry: "id.session_version.signed_in_at".

        A user loaded from a session answers that session's value (set by the user loader), so the
        result is stable for a session; a fresh object starts a new one at sign-in."""
        if getattr(self, "_session_id", None) is None:
            import time

            self._session_id = f"{self.id}.{self.session_version}.{int(time.time())}"
        return self._session_id


class Counter(BaseModel):
    """Named sequences (case references per Hijri year, file numbers, registry numbers)."""

    name = CharField(max_length=60, primary_key=True)
    value = IntegerField(default=0)


class Beneficiary(BaseModel):
    file_number = CharField(max_length=20, unique=True)
    first_name = CharField(max_length=60)
    father_name = CharField(max_length=60)
    grandfather_name = CharField(max_length=60, default="")
    family_name = CharField(max_length=60)
    name_search = CharField(max_length=260, index=True)
    # The words the name is found by, between spaces (``portal.text.search_key``); a trigram index on
    # PostgreSQL. Kept with its ``BeneficiaryWord`` rows by ``portal.name_index`` in the name's transaction.
    search_key = TextField(default="")
    national_id = CharField(max_length=10, unique=True)
    id_kind = CharField(max_length=10, default="citizen")
    id_expiry = DateField(null=True)
    nationality = CharField(max_length=60, default="SA")
    gender = CharField(max_length=1)
    birth_date = DateField(null=True)
    mobile = CharField(max_length=20, default="", index=True)
    email = CharField(max_length=200, default="")
    preferred_channel = CharField(max_length=30, default="")  # a channel key; "" for no preference
    district = CharField(max_length=80, default="")
    city = CharField(max_length=80, default="")
    national_address = CharField(max_length=120, default="")
    category = CharField(max_length=30, default="other")
    branch = ForeignKeyField(Branch, null=True, backref="beneficiaries", on_delete="SET NULL")
    consent_data = BooleanField(default=False)
    consent_contact = BooleanField(default=False)
    status = CharField(max_length=20, default="active")
    notes = TextField(default="")
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    erased_at = DateTimeField(null=True)  # set when the file was anonymised (portal.privacy.erase)

    class Meta:
        indexes = ((("updated_at", "id"), False),)  # the list's default order, a page read off the index

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.father_name, self.grandfather_name, self.family_name) if p)

    @property
    def masked_id(self) -> str:
        return "******" + self.national_id[-4:]


class BeneficiaryWord(BaseModel):
    """One word of a file's ``search_key``: a name search is a range of this table's primary key per word
    typed (``portal.name_index``). On PostgreSQL the column's collation is "C" (code point order)."""

    word = CharField(max_length=60)
    beneficiary = ForeignKeyField(Beneficiary, backref="+", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("word", "beneficiary")  # SQLite: WITHOUT ROWID (migration 0020)
        indexes = ((("beneficiary", "word"), False),)  # a file's words: replaced, and tested file by file


class HouseholdMember(BaseModel):
    beneficiary = ForeignKeyField(Beneficiary, backref="household", on_delete="CASCADE")
    name = CharField(max_length=200)
    relation = CharField(max_length=30)
    national_id = CharField(max_length=10, default="")
    birth_date = DateField(null=True)
    gender = CharField(max_length=1, default="")
    has_income = BooleanField(default=False)
    notes = CharField(max_length=300, default="")


class Case(BaseModel):
    """A support request (طلب دعم). ``status`` moves only through ``portal.workflow.machine``."""

    reference = CharField(max_length=20, unique=True)
    beneficiary = ForeignKeyField(Beneficiary, backref="cases", on_delete="CASCADE")
    request_type = CharField(max_length=60, default="general")  # RequestType.code
    channel = CharField(max_length=30, default="")  # the intake channel (required by intake.open_request)
    status = CharField(max_length=30, default="draft", index=True)
    summary = TextField(default="")
    answers = JSONField(null=True)  # eligibility answers: {question id (str): value}
    submitted_at = DateTimeField(null=True)
    status_changed_at = DateTimeField(default=utcnow)
    missing_documents = JSONField(null=True)  # the list sent when the request was marked incomplete
    referred_at = DateTimeField(null=True)
    referral_reason = TextField(default="")
    awaiting_committee_at = DateTimeField(null=True)
    committee_due_at = DateTimeField(null=True)
    escalated_at = DateTimeField(null=True)
    assigned_researcher = ForeignKeyField(User, null=True, backref="research_cases", on_delete="SET NULL")
    decision = CharField(max_length=20, default="")
    decision_reasons = TextField(default="")
    amount = DecimalField(max_digits=12, decimal_places=2, null=True)
    quantity = IntegerField(null=True)
    conditions = TextField(default="")
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    registered_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)
    withdrawn_reason = TextField(default="")
    version = IntegerField(default=1)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("status", "status_changed_at"), False),  # the oldest requests of a state
            (("created_at",), False),  # requests opened per month (the managers' charts)
            (("decided_at",), False),  # decisions per month
            # the reports' days per step: the requests that finished a step in a period (migration 0019)
            (("submitted_at",), False),
            (("referred_at",), False),
            (("awaiting_committee_at",), False),
            (("registered_at",), False),
        )


class Document(BaseModel):
    beneficiary = ForeignKeyField(Beneficiary, backref="documents", on_delete="CASCADE")
    case = ForeignKeyField(Case, null=True, backref="documents", on_delete="SET NULL")
    kind = CharField(max_length=40)
    number = CharField(max_length=60, default="")
    issue_date = DateField(null=True)
    expiry_date = DateField(null=True)
    file_sha256 = CharField(max_length=64, default="")
    file_name = CharField(max_length=200, default="")
    content_type = CharField(max_length=100, default="")
    size = IntegerField(default=0)
    uploaded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    uploaded_at = DateTimeField(default=utcnow)
    verified_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    verified_at = DateTimeField(null=True)

    def is_expired(self, on=None) -> bool:
        import datetime as dt

        return self.expiry_date is not None and self.expiry_date < (on or dt.date.today())


class TimelineEntry(BaseModel):
    """One contact or event on any channel: the unified timeline."""

    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="timeline", on_delete="CASCADE")
    case = ForeignKeyField(Case, null=True, backref="timeline", on_delete="SET NULL")
    channel = CharField(max_length=30, index=True)
    direction = CharField(max_length=10, default="in")
    occurred_at = DateTimeField(default=utcnow)
    summary = CharField(max_length=300)
    body = TextField(default="")
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    data = JSONField(null=True)
    follow_up_due = DateField(null=True, index=True)
    follow_up_done = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    # An outgoing message recorded as not sent or reported undelivered (``portal.timeline.is_undelivered``),
    # set by the timeline services with the data; the dashboard reads the (undelivered, occurred_at) index.
    undelivered = BooleanField(default=False)

    class Meta:
        indexes = (
            (("undelivered", "occurred_at"), False),
            (("beneficiary", "occurred_at", "id"), False),
            (("occurred_at", "channel"), False),
            (("channel", "occurred_at"), False),  # a channel's newest entries (walk-ins today)
            (("follow_up_done", "follow_up_due"), False),  # open follow-ups due, without reading the done ones
        )


class StoredFile(BaseModel):
    """The columns of a file kept by the upload service (``uploads.store_upload``), named by its SHA-256.
    No table of its own: the attachment models inherit it."""

    sha256 = CharField(max_length=64)
    file_name = CharField(max_length=200)
    content_type = CharField(max_length=100)
    size = IntegerField()


class Attachment(StoredFile):
    entry = ForeignKeyField(TimelineEntry, backref="attachments", on_delete="CASCADE")


class AuditEvent(BaseModel):
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    action = CharField(max_length=30)  # read, create, update, delete, login, transition, ...
    object_type = CharField(max_length=40)
    object_id = CharField(max_length=40, default="")
    details = JSONField(null=True)
    ip = CharField(max_length=64, default="")
    at = DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("object_type", "object_id"), False),)  # migration 0006


class ApiToken(BaseModel):
    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = CharField(max_length=100, default="")
    prefix = CharField(max_length=12)
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)
    expires_at = DateTimeField()


class LoginFailure(BaseModel):
    """A failed sign-in for a typed username (known or not), for per-account throttling across workers."""
    username = CharField(max_length=60)
    ip = CharField(max_length=64, default="")
    at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("username", "at"), False),)


CONSENT_KINDS = ("data", "contact")
CONSENT_CHANNELS = ("in_person", "phone", "paper", "website", "whatsapp", "email", "letter")
CORRECTION_STATUSES = ("pending", "applied", "rejected")


class ConsentChange(BaseModel):
    """One change of a beneficiary's consent (to keeping their data, to being contacted): when, how, by whom."""

    beneficiary = ForeignKeyField(Beneficiary, backref="consent_changes", on_delete="CASCADE")
    kind = CharField(max_length=10)  # CONSENT_KINDS
    granted = BooleanField()
    channel = CharField(max_length=20)  # CONSENT_CHANNELS, or "record" for a change saved on the file form
    note = CharField(max_length=300, default="")
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    at = DateTimeField(default=utcnow, index=True)


class CorrectionRequest(BaseModel):
    """The beneficiary asks to correct a field of their file; an officer reviews, then it is applied or refused."""

    beneficiary = ForeignKeyField(Beneficiary, backref="correction_requests", on_delete="CASCADE")
    field = CharField(max_length=30)
    current_value = CharField(max_length=2000, default="")  # what the file said when the request was recorded
    requested_value = CharField(max_length=2000, default="")
    reason = CharField(max_length=1000, default="")
    channel = CharField(max_length=20)  # CONSENT_CHANNELS: how the request reached the charity
    status = CharField(max_length=10, default="pending", index=True)
    requested_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    requested_at = DateTimeField(default=utcnow)
    reviewed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    reviewed_at = DateTimeField(null=True)
    review_note = CharField(max_length=1000, default="")


class Erasure(BaseModel):
    """The record that a beneficiary's file was anonymised: when, by whom, what was kept and until when."""

    beneficiary = ForeignKeyField(Beneficiary, backref="+", unique=True, on_delete="CASCADE")
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    at = DateTimeField(default=utcnow)
    retain_until = DateField(null=True)
    summary = JSONField(null=True)


class OutboxMessage(BaseModel):
    """A message to a beneficiary that no channel delivered (none configured, or none could reach them):
    kept, never claimed as sent, shown to officers as the beneficiary would have read it."""

    class Meta:
        table_name = "outbox_message"

    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="SET NULL")
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")
    purpose = CharField(max_length=40, default="")
    channel = CharField(max_length=30, default="")  # the channel it would have used (the preferred one)
    text = TextField()
    created_at = DateTimeField(default=utcnow, index=True)
    handled_at = DateTimeField(null=True, index=True)
    handled_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")


class JobState(BaseModel):
    """What the background work last did, one row per name: the worker's heartbeat (``worker``), the last
    daily workflow run (``daily``). Written by the worker, read by the health panel and the banner."""

    name = CharField(max_length=40, primary_key=True)
    at = DateTimeField()
    day = DateField(null=True)  # the Saudi day the run was for (daily runs)
    data = JSONField(null=True)


class CaseMonth(BaseModel):
    """Requests per Saudi month, for the managers' charts: ``kind`` "opened" counts the requests opened that
    month by their ``key``, the current status; ``kind`` "decided" the committee decisions of the month with a
    deadline, ``key`` "kept" or "missed". Kept by the workflow in the same transaction as the request's
    creation and each transition, counted again every night for the months shown (``portal.stats``)."""

    month = CharField(max_length=7)  # YYYY-MM
    kind = CharField(max_length=10)
    key = CharField(max_length=30)
    count = IntegerField(default=0)

    class Meta:
        table_name = "case_month"
        indexes = ((("month", "kind", "key"), True),)


class ContactDay(BaseModel):
    """How many contacts with people (entries ``in`` or ``out`` on a channel, not the workflow's own events)
    each Saudi day and channel had: kept up to date by ``portal.timeline`` in the same transaction as the
    entries, and counted again for the last weeks every night (``portal.stats``), so that the figures of a
    month read a few hundred rows instead of every entry."""

    day = DateField()
    channel = CharField(max_length=30)
    direction = CharField(max_length=10)
    count = IntegerField(default=0)

    class Meta:
        table_name = "contact_day"
        indexes = ((("day", "channel", "direction"), True),)


CORE_MODELS = [
    Branch, User, Counter, Beneficiary, HouseholdMember, Case, Document, TimelineEntry, Attachment,
    AuditEvent, ApiToken, LoginFailure, ConsentChange, CorrectionRequest, Erasure, OutboxMessage, JobState,
    ContactDay,
]


class ImportRun(BaseModel):
    """A spreadsheet of beneficiaries brought in (``portal.imports``): the stored file, how its columns map to
    the file's fields, the dry run's and the import's report, progress. Migration 0017."""

    file_name = CharField(max_length=200)
    file_sha256 = CharField(max_length=64, index=True)
    kind = CharField(max_length=4)  # xlsx | csv
    headers = JSONField(null=True)  # the header row as read
    mapping = JSONField(null=True)  # {column index (str): field}
    status = CharField(max_length=20, default="uploaded", index=True)  # portal.imports.STATUSES
    total_rows = IntegerField(default=0)
    processed_rows = IntegerField(default=0)
    created_count = IntegerField(default=0)
    existing_count = IntegerField(default=0)
    member_count = IntegerField(default=0)
    rejected_count = IntegerField(default=0)
    report = JSONField(null=True)
    error = TextField(default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)


class MonthlyReport(BaseModel):
    """The board's monthly report of one Gregorian month (``portal.monthly_report``): the PDF kept by the upload
    service (content-addressed by ``sha256``). One row a month: producing the month again replaces the file.
    Migration 0019."""

    class Meta:
        table_name = "monthly_report"

    month = CharField(max_length=7, unique=True)  # "2026-11"
    sha256 = CharField(max_length=64)
    file_name = CharField(max_length=100)
    size = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")  # None: the worker
