"""The volunteering service's tables: volunteers (with their skills), opportunities, assignments of a
volunteer to an opportunity, hours logged on an assignment, beneficiaries served during an assignment
(each with its timeline entry) and volunteering certificates.

Availability is a bit mask of weekdays (Python's Monday 0 ... Sunday 6: bit ``1 << weekday``) and a
daily window in Saudi time (``HH:MM`` text, compared as text), so suggestions are one SQL query."""
from __future__ import annotations

from peewee import (BooleanField, CharField, DateField, DateTimeField, DecimalField, ForeignKeyField,
                    IntegerField, TextField)

from portal.db import BaseModel, JSONField, utcnow
from portal.models import Beneficiary, Branch, Case, TimelineEntry, User

VETTING_STATES = ("pending", "approved", "paused")
ASSIGNMENT_STATES = ("assigned", "confirmed", "declined", "attended", "absent", "cancelled")
HOURS_STATES = ("pending", "approved", "refused")
SOURCES = ("staff", "site", "api", "import")


class Volunteer(BaseModel):
    name = CharField(max_length=160)
    mobile = CharField(max_length=20, index=True)
    email = CharField(max_length=200, default="")
    national_id = CharField(max_length=10, default="", index=True)
    city = CharField(max_length=80, default="")
    branch = ForeignKeyField(Branch, null=True, backref="+", on_delete="SET NULL")
    weekdays = IntegerField(default=0)  # bit mask, 1 << weekday
    time_from = CharField(max_length=5, default="08:00")
    time_to = CharField(max_length=5, default="22:00")
    state = CharField(max_length=10, default="pending", index=True)
    # the file of a volunteer who is also a beneficiary, once a staff member confirmed the match
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="SET NULL")
    notes = TextField(default="")
    source = CharField(max_length=10, default="staff")
    site_ref = IntegerField(null=True, unique=True)  # the website's sign-up id, once imported
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "volunteering_volunteer"


class VolunteerSkill(BaseModel):
    volunteer = ForeignKeyField(Volunteer, backref="skill_rows", on_delete="CASCADE")
    skill = CharField(max_length=30)

    class Meta:
        table_name = "volunteering_skill"
        indexes = ((("volunteer", "skill"), True), (("skill",), False))


class Opportunity(BaseModel):
    title = CharField(max_length=200)
    kind = CharField(max_length=20, default="other")
    branch = ForeignKeyField(Branch, null=True, backref="+", on_delete="SET NULL")
    place = CharField(max_length=200, default="")
    starts_at = DateTimeField(index=True)  # naive UTC
    ends_at = DateTimeField()
    skills = JSONField(null=True)  # [skill key]
    places = IntegerField(default=1)
    notes = TextField(default="")
    cancelled_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "volunteering_opportunity"


class Assignment(BaseModel):
    opportunity = ForeignKeyField(Opportunity, backref="assignments", on_delete="CASCADE")
    volunteer = ForeignKeyField(Volunteer, backref="assignments", on_delete="CASCADE")
    state = CharField(max_length=10, default="assigned", index=True)
    token = CharField(max_length=40, unique=True)  # the volunteer's own page (confirm, log hours)
    outside_availability = BooleanField(default=False)  # assigned anyway, after the warning
    message_state = CharField(max_length=12, default="")  # sent / queued / not_sent
    confirmed_at = DateTimeField(null=True)
    reminded_at = DateTimeField(null=True)
    reminder_state = CharField(max_length=12, default="")
    attendance_at = DateTimeField(null=True)
    assigned_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "volunteering_assignment"
        indexes = ((("opportunity", "volunteer"), True),)


class Certificate(BaseModel):
    volunteer = ForeignKeyField(Volunteer, backref="certificates", on_delete="CASCADE")
    number = CharField(max_length=40, unique=True)
    hours = DecimalField(max_digits=8, decimal_places=2)
    first_day = DateField()
    last_day = DateField()
    by_letters = BooleanField(default=False)  # a numbered letter of the letters plugin
    issued_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    issued_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "volunteering_certificate"


class HoursLog(BaseModel):
    # one log per assignment: hours sent twice for the same task are refused by this unique index
    assignment = ForeignKeyField(Assignment, unique=True, backref="+", on_delete="CASCADE")
    volunteer = ForeignKeyField(Volunteer, backref="+", on_delete="CASCADE")
    hours = DecimalField(max_digits=6, decimal_places=2)
    day = DateField()
    note = TextField(default="")
    state = CharField(max_length=10, default="pending", index=True)
    logged_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")  # None: the volunteer
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    certificate = ForeignKeyField(Certificate, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "volunteering_hours"


class Service(BaseModel):
    """A beneficiary served by a volunteer during an assignment (a delivery, a visit): on the timeline."""

    assignment = ForeignKeyField(Assignment, backref="+", on_delete="CASCADE")
    beneficiary = ForeignKeyField(Beneficiary, backref="+", on_delete="CASCADE")
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    delivery_id = IntegerField(null=True)  # the request's service delivery (portal.workflow Delivery)
    entry = ForeignKeyField(TimelineEntry, unique=True, backref="+", on_delete="CASCADE")
    note = TextField(default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "volunteering_service"


MODELS = [Volunteer, VolunteerSkill, Opportunity, Assignment, Certificate, HoursLog, Service]
