"""Pending applications (an ID that matches a file waits for an officer), tracking tokens, one-time
codes and lockouts (frozen copy of plugins/website/models.py at the time)."""
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

    class ApplicationDraft(Model):
        class Meta:
            database = db
            table_name = 'application_draft'

    class PendingApplication(Model):
        draft = ForeignKeyField(ApplicationDraft, unique=True, on_delete='CASCADE')
        national_id = CharField(max_length=10, index=True)
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        data = TextField(null=True)
        status = CharField(max_length=20, default='pending', index=True)
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        decided_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        decided_at = DateTimeField(null=True)
        reason = TextField(default='')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'pending_application'

    class TrackingToken(Model):
        case = ForeignKeyField(Case, unique=True, on_delete='CASCADE')
        token_hash = CharField(max_length=64, unique=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'tracking_token'

    class TrackingChallenge(Model):
        case = ForeignKeyField(Case, on_delete='CASCADE')
        code_hash = CharField(max_length=64)
        nonce_hash = CharField(max_length=64, unique=True)
        attempts = IntegerField(default=0)
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'tracking_challenge'

    class TrackingLock(Model):
        key = CharField(max_length=64, unique=True)
        failures = IntegerField(default=0)
        window_start = DateTimeField()
        locked_until = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'tracking_lock'

    db.create_tables([PendingApplication, TrackingToken, TrackingChallenge, TrackingLock])


def down(migrator, db):
    for table in ('tracking_lock', 'tracking_challenge', 'tracking_token', 'pending_application'):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
