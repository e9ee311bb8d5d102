"""Spreadsheet imports of beneficiaries: one row per uploaded file, its column mapping, progress and report."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class ImportRun(Model):
        file_name = CharField(max_length=200)
        file_sha256 = CharField(max_length=64, index=True)
        kind = CharField(max_length=4)
        headers = TextField(null=True)
        mapping = TextField(null=True)
        status = CharField(max_length=20, default='uploaded', index=True)
        total_rows = IntegerField(default=0)
        processed_rows = IntegerField(default=0)
        created_count = IntegerField(default=0)
        existing_count = IntegerField(default=0)
        member_count = IntegerField(default=0)
        rejected_count = IntegerField(default=0)
        report = TextField(null=True)
        error = TextField(default='')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        finished_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'import_run'

    db.create_tables([ImportRun])
