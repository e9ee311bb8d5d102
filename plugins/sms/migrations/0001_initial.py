"""SMS channel tables (frozen copy of plugins/sms/models.py at the time)."""
from peewee import *


def up(migrator, db):
    class Beneficiary(Model):
        class Meta:
            database = db
            table_name = 'beneficiary'

    class TimelineEntry(Model):
        class Meta:
            database = db
            table_name = 'timeline_entry'

    class SmsMessage(Model):
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        to = CharField(max_length=20)
        text = TextField()
        purpose = CharField(max_length=40, default='')
        provider = CharField(max_length=20)
        encoding = CharField(max_length=5, default='ucs2')
        parts = IntegerField(default=1)
        state = CharField(max_length=10, default='queued', index=True)
        gateway_id = CharField(max_length=100, null=True, unique=True)
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(null=True, index=True)
        error = TextField(default='')
        created_at = DateTimeField()
        updated_at = DateTimeField()
        sent_at = DateTimeField(null=True)
        delivered_at = DateTimeField(null=True)
        failed_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'sms_message'

    class SmsInbound(Model):
        gateway_id = CharField(max_length=100, unique=True)
        sender = CharField(max_length=20)
        text = TextField()
        received_at = DateTimeField(index=True)
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        matches = IntegerField(default=0)
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')

        class Meta:
            database = db
            table_name = 'sms_inbound'

    db.create_tables([SmsMessage, SmsInbound])
