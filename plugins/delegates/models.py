"""The delegates channel's tables: the day's planned field visits (the route list), and what a delegate
recorded in the field (visits, contacts, requests opened on a beneficiary's behalf), each once.

``Activity`` is one row per thing a delegate recorded, whatever its kind: the branch reports count it with
one GROUP BY (delegate, week, kind). ``client_id`` is the id the form (or the phone's offline queue) gave
the submission: unique, so that a form sent twice or a queue replayed three times makes one record.
``week`` is the Sunday that starts the Saudi week of ``day``."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateField, DateTimeField, DecimalField, ForeignKeyField, IntegerField, TextField

from portal.db import BaseModel, utcnow
from portal.models import Beneficiary, Branch, Case, TimelineEntry, User

KINDS = ("visit", "contact", "request")


class Activity(BaseModel):
    kind = CharField(max_length=10)  # KINDS
    client_id = CharField(max_length=36, unique=True)
    delegate = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    branch = ForeignKeyField(Branch, null=True, backref="+", on_delete="SET NULL")  # the beneficiary's branch
    beneficiary = ForeignKeyField(Beneficiary, backref="+", on_delete="CASCADE")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    day = DateField()  # Saudi calendar day
    week = DateField()  # the Sunday starting that day's week
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "delegates_activity"
        indexes = ((("branch", "week", "delegate"), False), (("delegate", "week"), False))


class Plan(BaseModel):
    """A field visit planned for a delegate on a day (by the delegate or an officer): a stop of the route."""

    delegate = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    beneficiary = ForeignKeyField(Beneficiary, backref="+", on_delete="CASCADE")
    day = DateField()
    position = IntegerField(default=0)
    note = CharField(max_length=300, default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    done = ForeignKeyField(Activity, null=True, backref="+", on_delete="SET NULL")  # the visit that followed

    class Meta:
        table_name = "delegates_plan"
        indexes = ((("delegate", "day", "position"), False), (("delegate", "day", "beneficiary"), True))


class Visit(BaseModel):
    """What a field visit found. The photos of documents are attachments of the visit's timeline entry."""

    activity = ForeignKeyField(Activity, unique=True, backref="+", on_delete="CASCADE")
    plan = ForeignKeyField(Plan, null=True, backref="+", on_delete="SET NULL")
    household_seen = TextField(default="")
    needs = TextField(default="")
    # Only with the beneficiary's consent (``location_consent``); otherwise both stay empty.
    location_consent = BooleanField(default=False)
    latitude = DecimalField(max_digits=9, decimal_places=6, null=True)
    longitude = DecimalField(max_digits=9, decimal_places=6, null=True)

    class Meta:
        table_name = "delegates_visit"


MODELS = [Activity, Plan, Visit]
