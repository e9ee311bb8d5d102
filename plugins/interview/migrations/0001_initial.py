"""The interview channel's tables (frozen copy of the models at the time)."""
from peewee import *


def up(migrator, db):
    def ref(name):
        class Meta:
            database = db
            table_name = name
        return type(name.title().replace("_", ""), (Model,), {"Meta": Meta})

    Branch, User, Beneficiary, Case, TimelineEntry = (ref(n) for n in (
        "branch", "user", "beneficiary", "case", "timeline_entry"))

    class Slot(Model):
        branch = ForeignKeyField(Branch, null=True, on_delete='CASCADE')
        branch_key = IntegerField(default=0)
        officer = ForeignKeyField(User, null=True, on_delete='SET NULL')
        officer_key = IntegerField(default=0)
        starts_at = DateTimeField(index=True)
        minutes = IntegerField(default=30)
        template_id = IntegerField(null=True)
        active = BooleanField(default=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'interview_slot'
            indexes = ((('branch_key', 'officer_key', 'starts_at'), True),)

    class SlotTemplate(Model):
        branch = ForeignKeyField(Branch, null=True, on_delete='CASCADE')
        officer = ForeignKeyField(User, null=True, on_delete='SET NULL')
        weekday = IntegerField()
        start = CharField(max_length=5)
        end = CharField(max_length=5)
        minutes = IntegerField(default=30)
        active = BooleanField(default=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'interview_slot_template'

    class Appointment(Model):
        slot = ForeignKeyField(Slot, on_delete='CASCADE')
        holds = IntegerField(null=True, unique=True)
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='CASCADE')
        name = CharField(max_length=160, default='')
        mobile = CharField(max_length=20, default='')
        reason = CharField(max_length=300, default='')
        status = CharField(max_length=12, default='booked', index=True)
        source = CharField(max_length=12, default='staff')
        booked_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        reminded_at = DateTimeField(null=True)
        reminder_state = CharField(max_length=12, default='')
        cancelled_at = DateTimeField(null=True)
        cancelled_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        cancel_reason = CharField(max_length=300, default='')
        marked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'interview_appointment'

    class Visit(Model):
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        branch_key = IntegerField(default=0)
        day = DateField()
        ticket = IntegerField()
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='CASCADE')
        name = CharField(max_length=160, default='')
        mobile = CharField(max_length=20, default='')
        reason = CharField(max_length=300, default='')
        appointment = ForeignKeyField(Appointment, null=True, on_delete='SET NULL')
        status = CharField(max_length=12, default='waiting', index=True)
        checked_in_at = DateTimeField()
        checked_in_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        called_at = DateTimeField(null=True)
        officer = ForeignKeyField(User, null=True, on_delete='SET NULL')
        started_at = DateTimeField(null=True)
        ended_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'interview_visit'
            indexes = ((('branch_key', 'day', 'ticket'), True), (('branch_key', 'day', 'status'), False))

    class Interview(Model):
        entry = ForeignKeyField(TimelineEntry, unique=True, on_delete='CASCADE')
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        visit = ForeignKeyField(Visit, null=True, on_delete='SET NULL')
        appointment = ForeignKeyField(Appointment, null=True, on_delete='SET NULL')
        form_token = CharField(max_length=40, unique=True)
        purpose = CharField(max_length=300)
        present = TextField(default='')
        questions = TextField(null=True)
        documents_seen = TextField(default='')
        outcome = TextField(default='')
        follow_up_due = DateField(null=True)
        follow_up_task = IntegerField(null=True)
        referred_to = ForeignKeyField(User, null=True, on_delete='SET NULL')
        referral_question = TextField(default='')
        referral_done_at = DateTimeField(null=True)
        started_at = DateTimeField(null=True)
        ended_at = DateTimeField(null=True)
        officer = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'interview_record'

    db.create_tables([Slot, SlotTemplate, Appointment, Visit, Interview])
