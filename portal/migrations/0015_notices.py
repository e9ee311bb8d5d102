"""Notices to beneficiaries: the admins' wording of each notice (Arabic, English, WhatsApp template) and
one row per notice due, unique by its key (one notice per status change), held through the quiet hours
and the daily cap (frozen copy of the models at the time)."""
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

    class Case(Model):
        class Meta:
            database = db
            table_name = 'case'

    class TimelineEntry(Model):
        class Meta:
            database = db
            table_name = 'timeline_entry'

    class NoticeText(Model):
        key = CharField(max_length=40, unique=True)
        text_ar = TextField()
        text_en = TextField()
        template = CharField(max_length=100, default='')
        updated_at = DateTimeField()
        updated_by = ForeignKeyField(User, null=True, backref='+', on_delete='SET NULL')

        class Meta:
            database = db
            table_name = 'notice_text'

    class Notice(Model):
        key = CharField(max_length=120, unique=True)
        beneficiary = ForeignKeyField(Beneficiary, null=True, backref='+', on_delete='CASCADE')
        case = ForeignKeyField(Case, null=True, backref='+', on_delete='SET NULL')
        purpose = CharField(max_length=40)
        text = TextField()
        context = TextField(null=True)
        urgent = BooleanField(default=False)
        state = CharField(max_length=12, default='waiting')
        held = CharField(max_length=12, default='')
        due_at = DateTimeField()
        channel = CharField(max_length=30, default='')
        entry = ForeignKeyField(TimelineEntry, null=True, backref='+', on_delete='SET NULL')
        actor = ForeignKeyField(User, null=True, backref='+', on_delete='SET NULL')
        created_at = DateTimeField()
        sent_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'notice'
            indexes = ((('state', 'due_at'), False), (('beneficiary', 'sent_at'), False))

    db.create_tables([NoticeText, Notice])
