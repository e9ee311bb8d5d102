"""The phone channel's own table: one row a call, for idempotency of CTI events and CDR imports.

What officers read lives on the call's timeline entry (``entry.data``); this table keeps what the
integrations need to find the call again (the PBX's call id, the CDR's unique key) and its state."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from portal.db import BaseModel, utcnow
from portal.models import Beneficiary, TimelineEntry, User

STATES = ("ringing", "answered", "ended")
SOURCES = ("manual", "cti", "cdr")


class PhoneCall(BaseModel):
    entry = ForeignKeyField(TimelineEntry, null=True, unique=True, backref="+", on_delete="CASCADE")
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="SET NULL")
    source = CharField(max_length=10, default="manual")
    call_id = CharField(max_length=120, null=True, unique=True)  # CTI callId
    cdr_key = CharField(max_length=160, null=True, unique=True)  # CDR uniqueid, else a hash of start+src+dst+duration
    direction = CharField(max_length=3, default="in")  # in / out
    number = CharField(max_length=40, default="", index=True)  # the outside party: E.164 when it parses
    anonymous = BooleanField(default=False)
    to_number = CharField(max_length=40, default="")
    state = CharField(max_length=10, default="ringing", index=True)
    started_at = DateTimeField(default=utcnow, index=True)
    answered_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    duration = IntegerField(null=True)  # seconds talked (answer -> hangup), or the CDR's billsec
    answered_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    answering_number = CharField(max_length=40, default="")
    cause = CharField(max_length=30, default="")  # CTI hangup cause or CDR disposition
    queue = CharField(max_length=80, default="")
    notify_users = CharField(max_length=500, default="")  # CTI ``user`` list, newline-separated
    missed = BooleanField(default=False)
    callback_requested = BooleanField(default=False)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "phone_call"
        indexes = ((("state", "started_at"), False),)  # the incoming-call notice's look-up (migration 0002)
