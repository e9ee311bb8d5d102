"""Data protection: consent history, correction requests, erasure records, the erased mark on a file and
an index to find the audit events of one record (frozen copies of the models at the time)."""
from peewee import *


def up(migrator, db):
    class Beneficiary(Model):
        class Meta:
            database = db
            table_name = 'beneficiary'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    migrator.migrate(migrator.add_column('beneficiary', 'erased_at', DateTimeField(null=True)))

    class ConsentChange(Model):
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        kind = CharField(max_length=10)
        granted = BooleanField()
        channel = CharField(max_length=20)
        note = CharField(max_length=300, default='')
        recorded_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = 'consent_change'

    class CorrectionRequest(Model):
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        field = CharField(max_length=30)
        current_value = CharField(max_length=2000, default='')
        requested_value = CharField(max_length=2000, default='')
        reason = CharField(max_length=1000, default='')
        channel = CharField(max_length=20)
        status = CharField(max_length=10, default='pending', index=True)
        requested_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        requested_at = DateTimeField()
        reviewed_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        reviewed_at = DateTimeField(null=True)
        review_note = CharField(max_length=1000, default='')

        class Meta:
            database = db
            table_name = 'correction_request'

    class Erasure(Model):
        beneficiary = ForeignKeyField(Beneficiary, unique=True, on_delete='CASCADE')
        actor = ForeignKeyField(User, null=True, on_delete='SET NULL')
        at = DateTimeField()
        retain_until = DateField(null=True)
        summary = TextField(null=True)

        class Meta:
            database = db
            table_name = 'erasure'

    db.create_tables([ConsentChange, CorrectionRequest, Erasure])
    migrator.migrate(migrator.add_index('audit_event', ('object_type', 'object_id'), False))
