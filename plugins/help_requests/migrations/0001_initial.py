"""Self-service tables (frozen copy of plugins/help_requests/models.py at the time)."""
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Beneficiary(Model):
        class Meta:
            database = db
            table_name = "beneficiary"

    class TimelineEntry(Model):
        class Meta:
            database = db
            table_name = "timeline_entry"

    class SelfServiceSession(Model):
        channel = CharField(max_length=30)
        sender = CharField(max_length=20)
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete="SET NULL")
        matches = IntegerField(default=0)
        state = CharField(max_length=12, default="menu", index=True)
        lang = CharField(max_length=2, default="ar")
        last_choice = CharField(max_length=20, default="")
        exchanges = IntegerField(default=0)
        started_at = DateTimeField(index=True)
        last_at = DateTimeField()
        expires_at = DateTimeField()

        class Meta:
            database = db
            table_name = "help_requests_session"
            indexes = ((("channel", "sender", "expires_at"), False),)

    class SelfServiceExchange(Model):
        session = ForeignKeyField(SelfServiceSession, on_delete="CASCADE")
        channel = CharField(max_length=30)
        provider_id = CharField(max_length=200)
        received = TextField(default="")
        choice = CharField(max_length=20, default="")
        reply = TextField(default="")
        delivery = CharField(max_length=100, default="")
        sent = BooleanField(default=False)
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete="SET NULL")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "help_requests_exchange"
            indexes = ((("channel", "provider_id"), True),)

    db.create_tables([SelfServiceSession, SelfServiceExchange])
