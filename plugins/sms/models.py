"""The SMS channel's own tables: one row per outgoing message (its state, the gateway's id, the
attempts) and one per incoming message or delivery report received (so a repeat changes nothing)."""
from __future__ import annotations

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.db import BaseModel, utcnow
from portal.models import Beneficiary, JSONField, TimelineEntry, User

# The states of an outgoing message, in order; "failed" is final and may come at any point.
STATES = ("queued", "sent", "delivered", "failed")
RANK = {"queued": 0, "sent": 1, "delivered": 2, "failed": 3}


class SmsMessage(BaseModel):
    """One text to one number. Its id is the idempotency key sent to the gateway."""

    class Meta:
        table_name = "sms_message"

    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="SET NULL")
    to = CharField(max_length=20)  # E.164
    text = TextField()
    purpose = CharField(max_length=40, default="")
    provider = CharField(max_length=20)
    encoding = CharField(max_length=5, default="ucs2")
    parts = IntegerField(default=1)
    state = CharField(max_length=10, default="queued", index=True)
    gateway_id = CharField(max_length=100, null=True, unique=True)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True, index=True)  # a queued message is due from then
    error = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    failed_at = DateTimeField(null=True)
    # The timeline entry that records this text (migration 0002): its ``data.delivery_state`` follows ``state``.
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")


class SmsInbound(BaseModel):
    """A text received from a number, kept whether or not it matched a file."""

    class Meta:
        table_name = "sms_inbound"

    gateway_id = CharField(max_length=100, unique=True)
    sender = CharField(max_length=20)  # E.164 as received (normalised when possible)
    text = TextField()
    received_at = DateTimeField(default=utcnow, index=True)
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="SET NULL")
    matches = IntegerField(default=0)  # how many files carry this number (0, 1 or more)
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")



class SmsBulk(BaseModel):
    """A message an officer sent to many beneficiaries at once (``plugins/sms/bulk.py``). ``token`` is the
    confirmation form's one-time token: a form sent twice sends once. Each recipient's message is a core
    notice keyed ``bulk:<id>:<beneficiary>`` (routing, consent, quiet hours, daily cap). Migration 0005."""

    token = CharField(max_length=40, unique=True)
    text = TextField()
    filters = JSONField(null=True)
    recipients = IntegerField(default=0)
    parts = IntegerField(default=1)
    estimate = CharField(max_length=30, default="")
    state = CharField(max_length=10, default="queued")  # queued, done
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    done_at = DateTimeField(null=True)
