"""Tables that are truly the social channel's own: the raw webhook deliveries (never lost), the
senders' handles (linked to a beneficiary or waiting in the unmatched inbox), one row per provider
message (idempotency and delivery state) and every status event received."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.db import BaseModel, utcnow
from portal.models import Beneficiary, JSONField, TimelineEntry, User

PLATFORMS = ("whatsapp", "messenger", "instagram", "email")
DELIVERY_STATES = ("pending", "processed", "failed", "ignored")
# Outbound states, in the order a message moves through them; "failed" may come at any point.
OUT_STATES = ("queued", "accepted", "sent", "delivered", "read")
# The state every channel shows on the timeline (``data.delivery_state``): "accepted" by the platform is "sent".
DELIVERY_STATES = {"queued": "queued", "accepted": "sent", "sent": "sent", "delivered": "delivered", "read": "read",
                   "failed": "failed"}


class WebhookDelivery(BaseModel):
    """One signed POST from Meta, stored before anything else happens."""

    class Meta:
        table_name = "social_webhook_delivery"

    received_at = DateTimeField(default=utcnow, index=True)
    body = TextField()  # the raw request body as received (UTF-8), less the words of survey answers (redact_delivery)
    signature = CharField(max_length=100, default="")
    object_type = CharField(max_length=60, default="")
    state = CharField(max_length=12, default="pending", index=True)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True, index=True)
    error = TextField(default="")
    notes = JSONField(null=True)  # things worth an admin's eye that are not failures
    processed_at = DateTimeField(null=True)


class Sender(BaseModel):
    """A person on a platform: a WhatsApp number (wa_id) or business-scoped user id, a Messenger
    page-scoped id, an Instagram-scoped id, or an email address."""

    platform = CharField(max_length=12)
    handle = CharField(max_length=200)
    display_name = CharField(max_length=200, default="")
    phone = CharField(max_length=20, default="")  # E.164 when the platform gives a number
    beneficiary = ForeignKeyField(Beneficiary, null=True, backref="social_senders", on_delete="SET NULL")
    linked_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    linked_at = DateTimeField(null=True)
    first_seen_at = DateTimeField(default=utcnow)
    last_inbound_at = DateTimeField(null=True)

    class Meta:
        table_name = "social_sender"
        indexes = ((("platform", "handle"), True),)


class Message(BaseModel):
    """One message on a platform, in or out. ``(platform, provider_id)`` is unique: the same
    delivery processed twice finds its row and adds nothing."""

    platform = CharField(max_length=12)
    provider_id = CharField(max_length=200, null=True)
    direction = CharField(max_length=4)
    sender = ForeignKeyField(Sender, backref="messages", on_delete="CASCADE")
    entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="CASCADE")
    kind = CharField(max_length=30, default="text")
    state = CharField(max_length=12, default="")
    error = TextField(default="")
    attempts = IntegerField(default=0)
    payload = JSONField(null=True)  # outbound: what we send; inbound: the message object
    delivery = ForeignKeyField(WebhookDelivery, null=True, backref="messages", on_delete="SET NULL")
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    purpose = CharField(max_length=40, default="")
    is_template = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # The core's notice entry that names this message in ``data.delivery`` (migration 0002): the delivery state
    # is shown there, and the conversation's own entry shows it without counting it twice.
    notice_entry = ForeignKeyField(TimelineEntry, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "social_message"
        indexes = ((("platform", "provider_id"), True),)


class StatusEvent(BaseModel):
    """Every status received (sent / delivered / read / failed), kept even when the message is not
    (yet) known, so a status that overtakes its own send is applied once the id is recorded."""

    platform = CharField(max_length=12)
    provider_id = CharField(max_length=200, index=True)
    status = CharField(max_length=20)
    at = DateTimeField(default=utcnow)
    message = ForeignKeyField(Message, null=True, backref="status_events", on_delete="CASCADE")
    error = TextField(default="")
    delivery = ForeignKeyField(WebhookDelivery, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        table_name = "social_status_event"
