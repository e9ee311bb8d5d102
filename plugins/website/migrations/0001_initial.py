"""The website's tables (frozen copy of plugins/website/models.py at the time)."""
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

    class SitePage(Model):
        slug = CharField(max_length=40)
        lang = CharField(max_length=5)
        title = CharField(max_length=200)
        body = TextField()
        updated_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'site_page'
            indexes = ((('slug', 'lang'), True),)

    class FaqItem(Model):
        question_ar = CharField(max_length=300)
        answer_ar = TextField()
        question_en = CharField(max_length=300, default='')
        answer_en = TextField(default='')
        position = IntegerField(default=0)
        published = BooleanField(default=True)
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'faq_item'

    class Inquiry(Model):
        reference = CharField(max_length=20, unique=True)
        kind = CharField(max_length=20)
        name = CharField(max_length=160)
        mobile = CharField(max_length=20, default='')
        national_id = CharField(max_length=10, default='')
        email = CharField(max_length=200, default='')
        subject = CharField(max_length=200)
        body = TextField()
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')
        status = CharField(max_length=20, default='open', index=True)
        due_at = DateTimeField(index=True)
        answer = TextField(default='')
        answered_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        answered_at = DateTimeField(null=True)
        answer_delivery = CharField(max_length=120, default='')
        form_nonce = CharField(max_length=32, null=True, unique=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'inquiry'

    class Volunteer(Model):
        name = CharField(max_length=160)
        mobile = CharField(max_length=20)
        email = CharField(max_length=200, default='')
        city = CharField(max_length=80, default='')
        skills = TextField()
        availability = CharField(max_length=40)
        notes = TextField(default='')
        status = CharField(max_length=20, default='new')
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')
        form_nonce = CharField(max_length=32, null=True, unique=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'volunteer'

    class ApplicationDraft(Model):
        code_hash = CharField(max_length=64, unique=True)
        data = TextField(null=True)
        step = CharField(max_length=20, default='applicant')
        national_id = CharField(max_length=10, default='', index=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        expires_at = DateTimeField(index=True)
        submitted_at = DateTimeField(null=True)
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'application_draft'

    db.create_tables([SitePage, FaqItem, Inquiry, Volunteer, ApplicationDraft])


def down(migrator, db):
    for table in ('application_draft', 'volunteer', 'inquiry', 'faq_item', 'site_page'):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
