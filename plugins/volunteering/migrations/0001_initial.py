"""The volunteering service's tables (frozen copy of the models at the time)."""
from peewee import *


def up(migrator, db):
    def ref(name):
        class Meta:
            database = db
            table_name = name
        return type(name.title().replace("_", ""), (Model,), {"Meta": Meta})

    Branch, User, Beneficiary, Case, TimelineEntry = (ref(n) for n in (
        "branch", "user", "beneficiary", "case", "timeline_entry"))

    class Volunteer(Model):
        name = CharField(max_length=160)
        mobile = CharField(max_length=20, index=True)
        email = CharField(max_length=200, default='')
        national_id = CharField(max_length=10, default='', index=True)
        city = CharField(max_length=80, default='')
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        weekdays = IntegerField(default=0)
        time_from = CharField(max_length=5, default='08:00')
        time_to = CharField(max_length=5, default='22:00')
        state = CharField(max_length=10, default='pending', index=True)
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='SET NULL')
        notes = TextField(default='')
        source = CharField(max_length=10, default='staff')
        site_ref = IntegerField(null=True, unique=True)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'volunteering_volunteer'

    class VolunteerSkill(Model):
        volunteer = ForeignKeyField(Volunteer, on_delete='CASCADE')
        skill = CharField(max_length=30)

        class Meta:
            database = db
            table_name = 'volunteering_skill'
            indexes = ((('volunteer', 'skill'), True), (('skill',), False))

    class Opportunity(Model):
        title = CharField(max_length=200)
        kind = CharField(max_length=20, default='other')
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        place = CharField(max_length=200, default='')
        starts_at = DateTimeField(index=True)
        ends_at = DateTimeField()
        skills = TextField(null=True)
        places = IntegerField(default=1)
        notes = TextField(default='')
        cancelled_at = DateTimeField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'volunteering_opportunity'

    class Assignment(Model):
        opportunity = ForeignKeyField(Opportunity, on_delete='CASCADE')
        volunteer = ForeignKeyField(Volunteer, on_delete='CASCADE')
        state = CharField(max_length=10, default='assigned', index=True)
        token = CharField(max_length=40, unique=True)
        outside_availability = BooleanField(default=False)
        message_state = CharField(max_length=12, default='')
        confirmed_at = DateTimeField(null=True)
        reminded_at = DateTimeField(null=True)
        reminder_state = CharField(max_length=12, default='')
        attendance_at = DateTimeField(null=True)
        assigned_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'volunteering_assignment'
            indexes = ((('opportunity', 'volunteer'), True),)

    class Certificate(Model):
        volunteer = ForeignKeyField(Volunteer, on_delete='CASCADE')
        number = CharField(max_length=40, unique=True)
        hours = DecimalField(max_digits=8, decimal_places=2)
        first_day = DateField()
        last_day = DateField()
        by_letters = BooleanField(default=False)
        issued_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        issued_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'volunteering_certificate'

    class HoursLog(Model):
        assignment = ForeignKeyField(Assignment, unique=True, on_delete='CASCADE')
        volunteer = ForeignKeyField(Volunteer, on_delete='CASCADE')
        hours = DecimalField(max_digits=6, decimal_places=2)
        day = DateField()
        note = TextField(default='')
        state = CharField(max_length=10, default='pending', index=True)
        logged_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        decided_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        decided_at = DateTimeField(null=True)
        certificate = ForeignKeyField(Certificate, null=True, on_delete='SET NULL')
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'volunteering_hours'

    class Service(Model):
        assignment = ForeignKeyField(Assignment, on_delete='CASCADE')
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        delivery_id = IntegerField(null=True)
        entry = ForeignKeyField(TimelineEntry, unique=True, on_delete='CASCADE')
        note = TextField(default='')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'volunteering_service'

    db.create_tables([Volunteer, VolunteerSkill, Opportunity, Assignment, Certificate, HoursLog, Service])
