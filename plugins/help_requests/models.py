"""The self-service conversations: one session per number and channel while it is active (its state, the file
it matched, when it expires), and one exchange per message received (its provider id is unique, so a message
the transport delivers twice is answered once)."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.db import BaseModel, utcnow
from portal.models import Beneficiary, TimelineEntry

# menu: waiting for a choice; question: the next message is the question; handed_over: an officer answers
# (the menu stays silent until the session expires or the person asks for the menu); closed: ended.
STATES = ("menu", "question", "handed_over", "closed")


class SelfServiceSession(BaseModel):
    class Meta:
        table_name = "help_requests_session"
        indexes = ((("channel", "sender", "expires_at"), False),)

    channel = CharField(max_length=30)
    sender = CharField(max_length=20)  # E.164
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="+", on_delete="SET NULL")
    matches = IntegerField(default=0)  # how many files carry the number (0, 1, 2 or more)
    state = CharField(max_length=12, default="menu", index=True)
    lang = CharField(max_length=2, default="ar")
    last_choice = CharField(max_length=20, default="")
    exchanges = IntegerField(default=0)
    started_at = DateTimeField(default=utcnow, index=True)
    last_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(default=utcnow)


class SelfServiceExchange(BaseModel):
    class Meta:
        table_name = "help_requests_exchange"
        indexes = ((("channel", "provider_id"), True),)

    session = ForeignKeyField(SelfServiceSession, backref="exchange_rows", on_delete="CASCADE")
    channel = CharField(max_length=30)
    provider_id = CharField(max_length=200)
    received = TextField(default="")  # what the person wrote (or the button they chose)
    choice = CharField(max_length=20, default="")  # what it was understood as
    reply = TextField(default="")
    delivery = CharField(max_length=100, default="")  # the channel's id of the reply, when a transport took it
    sent = BooleanField(default=False)
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
