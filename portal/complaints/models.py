"""The complaints and suggestions register (one for every channel), the feedback themes managers assign, and
the improvements made in answer to them ("You said, we did")."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from ..db import BaseModel, utcnow
from ..models import Beneficiary, Case, TimelineEntry, User

KINDS = ("complaint", "suggestion", "praise", "inquiry")
STATES = ("open", "answered", "closed")  # open: waiting for an answer (its deadline runs); answered; closed
TEXT_LIMIT = 4000


class FeedbackTheme(BaseModel):
    """A theme tag managers assign to feedback (complaints, suggestions, survey comments): "waiting time",
    "courtesy", "documents asked"... Improvements are recorded against a theme."""

    class Meta:
        table_name = "feedback_theme"

    name_ar = CharField(max_length=120, unique=True)
    name_en = CharField(max_length=120, default="")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)


class Complaint(BaseModel):
    """One complaint, suggestion, praise or inquiry, whatever the channel it came by."""

    class Meta:
        table_name = "complaint"
        indexes = (
            (("source", "source_id"), True),  # the same submission opens one row (NULL source_id: no check)
            (("state", "deadline"), False),  # the overdue count and the open list by deadline
            (("state", "id"), False),  # the register's keyset pages per state
        )

    reference = CharField(max_length=20, unique=True)
    kind = CharField(max_length=20, index=True)
    channel = CharField(max_length=30, index=True)
    text = TextField()
    state = CharField(max_length=20, default="open")
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="SET NULL")
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    contact_name = CharField(max_length=160, default="")
    contact_mobile = CharField(max_length=20, default="")
    contact_reference = CharField(max_length=20, default="")  # the request reference the person gave
    contact_national_id = CharField(max_length=10, default="")  # the ID the person gave (not yet matched)
    contact_email = CharField(max_length=200, default="")
    contact_requested = BooleanField(default=False)  # the person asked to be contacted about it
    source = CharField(max_length=40, default="")  # where it was opened: "staff", "website", "survey"...
    source_id = CharField(max_length=64, null=True)  # the id of the submission at the source
    deadline = DateField()  # Saudi day, computed in working days from the kind's setting
    assigned_to = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", index=True)
    escalated_at = DateTimeField(null=True)  # the manager was told it is overdue (once)
    answer = TextField(default="")
    answered_at = DateTimeField(null=True)
    answered_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    answer_delivery = CharField(max_length=120, default="")  # "channel:id" when a transport accepted it
    outcome = CharField(max_length=20, default="")  # upheld, partly_upheld, not_upheld, no_action, resolved
    outcome_note = TextField(default="")
    closed_at = DateTimeField(null=True)
    closed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    satisfaction = IntegerField(null=True)  # the complainant's satisfaction with the handling, 1-5
    satisfaction_at = DateTimeField(null=True)
    theme = ForeignKeyField(FeedbackTheme, null=True, backref="complaints", on_delete="SET NULL")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")
    task_id = IntegerField(null=True)  # the follow-up outreach task (complaints)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Improvement(BaseModel):
    """"You said, we did": a change made in answer to a feedback theme, shown on the public website once
    published."""

    class Meta:
        table_name = "improvement"
        indexes = ((("published", "done_on"), False),)

    theme = ForeignKeyField(FeedbackTheme, null=True, backref="improvements", on_delete="SET NULL")
    said_ar = TextField()  # what beneficiaries said
    did_ar = TextField()  # what the association did
    said_en = TextField(default="")
    did_en = TextField(default="")
    done_on = DateField()
    published = BooleanField(default=False)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


COMPLAINT_MODELS = [FeedbackTheme, Complaint, Improvement]
