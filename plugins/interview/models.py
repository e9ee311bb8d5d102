"""The interview channel's tables: the reception desk's visits (one a ticket), appointment slots and their
weekly templates, appointments, and interview records (each with its timeline entry).

``branch_key`` is the branch's id, or 0 for an office without a branch: unique constraints need a value
that is never NULL (a ticket number is unique per branch and day, a slot per officer and start)."""
from __future__ import annotations

from peewee import (BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField)

from portal.db import BaseModel, JSONField, utcnow
from portal.models import Beneficiary, Branch, Case, TimelineEntry, User

VISIT_STATES = ("waiting", "called", "in_service", "done", "left")
APPOINTMENT_STATES = ("booked", "attended", "cancelled", "no_show")
SOURCES = ("staff", "site", "api", "self_service")


class Slot(BaseModel):
    """One bookable time with one officer (or the branch's desk when ``officer`` is empty)."""

    branch = ForeignKeyField(Branch, null=True, backref="+", on_delete="CASCADE")
    branch_key = IntegerField(default=0)
    officer = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    officer_key = IntegerField(default=0)
    starts_at = DateTimeField(index=True)  # naive UTC
    minutes = IntegerField(default=30)
    template_id = IntegerField(null=True)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    @property
    def saudi_day(self):
        from portal.dates import saudi_date

        return saudi_date(self.starts_at)

    class Meta:
        table_name = "interview_slot"
        indexes = ((("branch_key", "officer_key", "starts_at"), True),)


class SlotTemplate(BaseModel):
    """A weekly pattern: every ``weekday`` from ``start`` to ``end`` (Saudi time), slots of ``minutes``."""

    branch = ForeignKeyField(Branch, null=True, backref="+", on_delete="CASCADE")
    officer = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    weekday = IntegerField()  # Monday 0 ... Sunday 6 (Python's)
    start = CharField(max_length=5)  # HH:MM
    end = CharField(max_length=5)
    minutes = IntegerField(default=30)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "interview_slot_template"


class Appointment(BaseModel):
    slot = ForeignKeyField(Slot, backref="appointments", on_delete="CASCADE")
    # The slot's id while the appointment holds it, NULL once cancelled: the unique index lets only one
    # live appointment hold a slot, whatever the number of concurrent bookings.
    holds = IntegerField(null=True, unique=True)
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="CASCADE")
    name = CharField(max_length=160, default="")
    mobile = CharField(max_length=20, default="")
    reason = CharField(max_length=300, default="")
    status = CharField(max_length=12, default="booked", index=True)
    source = CharField(max_length=12, default="staff")
    booked_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    reminded_at = DateTimeField(null=True)
    reminder_state = CharField(max_length=12, default="")  # sent / queued / not_sent
    cancelled_at = DateTimeField(null=True)
    cancelled_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    cancel_reason = CharField(max_length=300, default="")
    marked_at = DateTimeField(null=True)  # attended / no-show recorded

    class Meta:
        table_name = "interview_appointment"


class Visit(BaseModel):
    """A walk-in (or an appointment arriving) at the reception desk: ticket, wait and time given."""

    branch = ForeignKeyField(Branch, null=True, backref="+", on_delete="SET NULL")
    branch_key = IntegerField(default=0)
    day = DateField()  # Saudi calendar day
    ticket = IntegerField()
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="CASCADE")
    name = CharField(max_length=160, default="")
    mobile = CharField(max_length=20, default="")
    reason = CharField(max_length=300, default="")
    appointment = ForeignKeyField(Appointment, null=True, backref="+", on_delete="SET NULL")
    status = CharField(max_length=12, default="waiting", index=True)
    checked_in_at = DateTimeField(default=utcnow)
    checked_in_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    called_at = DateTimeField(null=True)
    officer = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    started_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)

    class Meta:
        table_name = "interview_visit"
        indexes = ((("branch_key", "day", "ticket"), True), (("branch_key", "day", "status"), False))


class Interview(BaseModel):
    entry = ForeignKeyField(TimelineEntry, unique=True, backref="+", on_delete="CASCADE")
    beneficiary = ForeignKeyField(Beneficiary, backref="+", on_delete="CASCADE")
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    visit = ForeignKeyField(Visit, null=True, backref="+", on_delete="SET NULL")
    appointment = ForeignKeyField(Appointment, null=True, backref="+", on_delete="SET NULL")
    form_token = CharField(max_length=40, unique=True)  # one record per form, however often it is sent
    purpose = CharField(max_length=300)
    present = TextField(default="")
    questions = JSONField(null=True)  # [{"q": str, "a": str}]
    documents_seen = TextField(default="")
    outcome = TextField(default="")
    follow_up_due = DateField(null=True)
    follow_up_task = IntegerField(null=True)
    referred_to = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    referral_question = TextField(default="")
    referral_done_at = DateTimeField(null=True)
    started_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    officer = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "interview_record"


MODELS = [Slot, SlotTemplate, Appointment, Visit, Interview]
