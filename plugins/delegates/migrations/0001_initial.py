"""The delegates channel's tables (frozen copy of the models at the time)."""
from peewee import (BooleanField, CharField, DateField, DateTimeField, DecimalField, ForeignKeyField, IntegerField,
                    Model, TextField)

from portal.db import table_of


def up(migrator, db):
    Branch, User, Beneficiary, Case, TimelineEntry = (table_of(db, n) for n in (
        "branch", "user", "beneficiary", "case", "timeline_entry"))

    class Activity(Model):
        kind = CharField(max_length=10)
        client_id = CharField(max_length=36, unique=True)
        delegate = ForeignKeyField(User, on_delete="CASCADE")
        branch = ForeignKeyField(Branch, null=True, on_delete="SET NULL")
        beneficiary = ForeignKeyField(Beneficiary, on_delete="CASCADE")
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete="SET NULL")
        case = ForeignKeyField(Case, null=True, on_delete="SET NULL")
        day = DateField()
        week = DateField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "delegates_activity"
            indexes = ((("branch", "week", "delegate"), False), (("delegate", "week"), False))

    class Plan(Model):
        delegate = ForeignKeyField(User, on_delete="CASCADE")
        beneficiary = ForeignKeyField(Beneficiary, on_delete="CASCADE")
        day = DateField()
        position = IntegerField(default=0)
        note = CharField(max_length=300, default="")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        done = ForeignKeyField(Activity, null=True, on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "delegates_plan"
            indexes = ((("delegate", "day", "position"), False), (("delegate", "day", "beneficiary"), True))

    class Visit(Model):
        activity = ForeignKeyField(Activity, unique=True, on_delete="CASCADE")
        plan = ForeignKeyField(Plan, null=True, on_delete="SET NULL")
        household_seen = TextField(default="")
        needs = TextField(default="")
        location_consent = BooleanField(default=False)
        latitude = DecimalField(max_digits=9, decimal_places=6, null=True)
        longitude = DecimalField(max_digits=9, decimal_places=6, null=True)

        class Meta:
            database = db
            table_name = "delegates_visit"

    db.create_tables([Activity, Plan, Visit])
