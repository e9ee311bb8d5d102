"""Social channel tables (frozen copy of plugins/social/models.py at the time)."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Beneficiary(Model):
        class Meta:
            database = db
            table_name = 'beneficiary'

    class TimelineEntry(Model):
        class Meta:
            database = db
            table_name = 'timeline_entry'

    class WebhookDelivery(Model):
        received_at = DateTimeField(index=True)
        body = TextField()
        signature = CharField(max_length=100, default='')
        object_type = CharField(max_length=60, default='')
        state = CharField(max_length=12, default='pending', index=True)
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(null=True, index=True)
        error = TextField(default='')
        notes = TextField(null=True)
        processed_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'social_webhook_delivery'

    class Sender(Model):
        platform = CharField(max_length=12)
        handle = CharField(max_length=200)
        display_name = CharField(max_length=200, default='')
        phone = CharField(max_length=20, default='')
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        linked_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        linked_at = DateTimeField(null=True)
        first_seen_at = DateTimeField()
        last_inbound_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'social_sender'
            indexes = ((('platform', 'handle'), True),)

    class Message(Model):
        platform = CharField(max_length=12)
        provider_id = CharField(max_length=200, null=True)
        direction = CharField(max_length=4)
        sender = ForeignKeyField(Sender, on_delete='CASCADE')
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete='CASCADE')
        kind = CharField(max_length=30, default='text')
        state = CharField(max_length=12, default='')
        error = TextField(default='')
        attempts = IntegerField(default=0)
        payload = TextField(null=True)
        delivery = ForeignKeyField(WebhookDelivery, null=True, on_delete='SET NULL')
        actor = ForeignKeyField(User, null=True, on_delete='SET NULL')
        purpose = CharField(max_length=40, default='')
        is_template = BooleanField(default=False)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'social_message'
            indexes = ((('platform', 'provider_id'), True),)

    class StatusEvent(Model):
        platform = CharField(max_length=12)
        provider_id = CharField(max_length=200, index=True)
        status = CharField(max_length=20)
        at = DateTimeField()
        message = ForeignKeyField(Message, null=True, on_delete='CASCADE')
        error = TextField(default='')
        delivery = ForeignKeyField(WebhookDelivery, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'social_status_event'

    db.create_tables([WebhookDelivery, Sender, Message, StatusEvent])
