"""The one complaints and suggestions register, feedback themes and "You said, we did" improvements (frozen
copy of the models at the time)."""
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

    class FeedbackTheme(Model):
        name_ar = CharField(max_length=120, unique=True)
        name_en = CharField(max_length=120, default='')
        active = BooleanField(default=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'feedback_theme'

    class Complaint(Model):
        reference = CharField(max_length=20, unique=True)
        kind = CharField(max_length=20, index=True)
        channel = CharField(max_length=30, index=True)
        text = TextField()
        state = CharField(max_length=20, default='open')
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        contact_name = CharField(max_length=160, default='')
        contact_mobile = CharField(max_length=20, default='')
        contact_reference = CharField(max_length=20, default='')
        contact_national_id = CharField(max_length=10, default='')
        contact_email = CharField(max_length=200, default='')
        contact_requested = BooleanField(default=False)
        source = CharField(max_length=40, default='')
        source_id = CharField(max_length=64, null=True)
        deadline = DateField()
        assigned_to = ForeignKeyField(User, null=True, on_delete='SET NULL', index=True)
        escalated_at = DateTimeField(null=True)
        answer = TextField(default='')
        answered_at = DateTimeField(null=True)
        answered_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        answer_delivery = CharField(max_length=120, default='')
        outcome = CharField(max_length=20, default='')
        outcome_note = TextField(default='')
        closed_at = DateTimeField(null=True)
        closed_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        satisfaction = IntegerField(null=True)
        satisfaction_at = DateTimeField(null=True)
        theme = ForeignKeyField(FeedbackTheme, null=True, on_delete='SET NULL')
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')
        task_id = IntegerField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'complaint'
            indexes = (
                (('source', 'source_id'), True),
                (('state', 'deadline'), False),
                (('state', 'id'), False),
            )

    class Improvement(Model):
        theme = ForeignKeyField(FeedbackTheme, null=True, on_delete='SET NULL')
        said_ar = TextField()
        did_ar = TextField()
        said_en = TextField(default='')
        did_en = TextField(default='')
        done_on = DateField()
        published = BooleanField(default=False)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'improvement'
            indexes = ((('published', 'done_on'), False),)

    db.create_tables([FeedbackTheme, Complaint, Improvement])
