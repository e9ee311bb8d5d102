"""The phone channel's call table (frozen copy of the model at the time)."""
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

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class PhoneCall(Model):
        entry = ForeignKeyField(TimelineEntry, null=True, unique=True, on_delete='CASCADE')
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        source = CharField(max_length=10, default='manual')
        call_id = CharField(max_length=120, null=True, unique=True)
        cdr_key = CharField(max_length=160, null=True, unique=True)
        direction = CharField(max_length=3, default='in')
        number = CharField(max_length=40, default='', index=True)
        anonymous = BooleanField(default=False)
        to_number = CharField(max_length=40, default='')
        state = CharField(max_length=10, default='ringing', index=True)
        started_at = DateTimeField(index=True)
        answered_at = DateTimeField(null=True)
        ended_at = DateTimeField(null=True)
        duration = IntegerField(null=True)
        answered_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        answering_number = CharField(max_length=40, default='')
        cause = CharField(max_length=30, default='')
        queue = CharField(max_length=80, default='')
        notify_users = CharField(max_length=500, default='')
        missed = BooleanField(default=False)
        callback_requested = BooleanField(default=False)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'phone_call'

    db.create_tables([PhoneCall])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS phone_call')
