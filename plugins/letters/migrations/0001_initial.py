"""Letters: templates with versions, outgoing and incoming registries, batches (frozen copies)."""
from peewee import *


def up(migrator, db):
    class _Ref(Model):
        class Meta:
            database = db

    class User(_Ref):
        class Meta:
            table_name = 'user'

    class Beneficiary(_Ref):
        class Meta:
            table_name = 'beneficiary'

    class Case(_Ref):
        class Meta:
            table_name = 'case'

    class TimelineEntry(_Ref):
        class Meta:
            table_name = 'timeline_entry'

    class LetterTemplate(Model):
        key = CharField(max_length=60, unique=True)
        name_ar = CharField(max_length=160)
        name_en = CharField(max_length=160)
        purpose = CharField(max_length=40, default='general')
        builtin = BooleanField(default=False)
        active = BooleanField(default=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'letter_template'

    class LetterTemplateVersion(Model):
        template = ForeignKeyField(LetterTemplate, on_delete='CASCADE')
        number = IntegerField()
        subject = CharField(max_length=300)
        body = TextField()
        css = TextField(default='')
        extra_fields = TextField(default='')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'letter_template_version'
            indexes = ((('template', 'number'), True),)

    class LetterBatch(Model):
        template = ForeignKeyField(LetterTemplate, on_delete='CASCADE')
        description = CharField(max_length=300, default='')
        case_ids = TextField(null=True)
        status = CharField(max_length=20, default='queued')
        total = IntegerField(default=0)
        done = IntegerField(default=0)
        failed = IntegerField(default=0)
        errors = TextField(null=True)
        pdf_sha256 = CharField(max_length=64, default='')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        finished_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'letter_batch'

    class Letter(Model):
        number = CharField(max_length=30, unique=True)
        hijri_year = IntegerField()
        sequence = IntegerField()
        template = ForeignKeyField(LetterTemplate, null=True, on_delete='SET NULL')
        template_version = ForeignKeyField(LetterTemplateVersion, null=True, on_delete='SET NULL')
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        recipient = CharField(max_length=200, default='')
        recipient_initials = CharField(max_length=20, default='')
        subject = CharField(max_length=300)
        fields = TextField(null=True)
        issued_at = DateTimeField(index=True)
        issued_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        pdf_sha256 = CharField(max_length=64)
        pdf_size = IntegerField()
        page_count = IntegerField(default=1)
        verify_code = CharField(max_length=20)
        status = CharField(max_length=10, default='valid')
        revoked_at = DateTimeField(null=True)
        revoked_reason = CharField(max_length=300, default='')
        replaces = ForeignKeyField('self', null=True, on_delete='SET NULL')
        batch = ForeignKeyField(LetterBatch, null=True, on_delete='SET NULL')
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')

        class Meta:
            database = db
            table_name = 'letter'

    class IncomingLetter(Model):
        number = CharField(max_length=30, unique=True)
        hijri_year = IntegerField()
        sequence = IntegerField()
        sender = CharField(max_length=200)
        sender_reference = CharField(max_length=60, default='')
        subject = CharField(max_length=300)
        letter_date = DateField(null=True)
        received_at = DateTimeField(index=True)
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        notes = TextField(default='')
        file_sha256 = CharField(max_length=64)
        file_name = CharField(max_length=200)
        content_type = CharField(max_length=100)
        size = IntegerField()
        page_count = IntegerField(default=1)
        ocr_status = CharField(max_length=20, default='pending')
        ocr_text = TextField(default='')
        search_text = TextField(default='')
        registered_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')

        class Meta:
            database = db
            table_name = 'incoming_letter'

    db.create_tables([LetterTemplate, LetterTemplateVersion, LetterBatch, Letter, IncomingLetter])


def down(migrator, db):
    for table in ('incoming_letter', 'letter', 'letter_batch', 'letter_template_version', 'letter_template'):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
