"""Bulk messages (frozen copy of plugins/sms/models.py's SmsBulk at the time)."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class SmsBulk(Model):
        token = CharField(max_length=40, unique=True)
        text = TextField()
        filters = TextField(null=True)
        recipients = IntegerField(default=0)
        parts = IntegerField(default=1)
        estimate = CharField(max_length=30, default='')
        state = CharField(max_length=10, default='queued')
        created_by = ForeignKeyField(User, null=True, backref='+', on_delete='SET NULL')
        created_at = DateTimeField()
        done_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'sms_bulk'

    db.create_tables([SmsBulk])


def down(migrator, db):
    db.execute_sql('DROP TABLE sms_bulk')
