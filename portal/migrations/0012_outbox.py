"""The outbox: messages to beneficiaries that no channel delivered (frozen copy of the model at the time)."""
from peewee import *


def up(migrator, db):
    class Beneficiary(Model):
        class Meta:
            database = db
            table_name = 'beneficiary'

    class Case(Model):
        class Meta:
            database = db
            table_name = 'case'

    class TimelineEntry(Model):
        class Meta:
            database = db
            table_name = 'timeline_entry'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class OutboxMessage(Model):
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')
        purpose = CharField(max_length=40, default='')
        channel = CharField(max_length=30, default='')
        text = TextField()
        created_at = DateTimeField(index=True)
        handled_at = DateTimeField(null=True, index=True)
        handled_by = ForeignKeyField(User, null=True, on_delete='SET NULL')

        class Meta:
            database = db
            table_name = 'outbox_message'

    db.create_tables([OutboxMessage])
