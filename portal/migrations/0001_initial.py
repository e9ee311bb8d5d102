"""Initial core schema (frozen copy of the models at the time)."""
from peewee import *


def up(migrator, db):
    class Branch(Model):
        code = CharField(unique=True, max_length=20)
        name_ar = CharField(max_length=120)
        name_en = CharField(max_length=120, default='')
        city = CharField(max_length=80, default='')
        class Meta:
            database = db
            table_name = 'branch'
    db.create_tables([Branch])

    class User(Model):
        username = CharField(unique=True, max_length=60)
        full_name = CharField(max_length=160)
        email = CharField(max_length=200, default='')
        phone = CharField(index=True, max_length=20, default='')
        password_hash = CharField()
        roles = CharField(max_length=200, default='')
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        is_active = BooleanField(default=True)
        created_at = DateTimeField()
        last_login_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'user'
    db.create_tables([User])

    class ApiToken(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        name = CharField(max_length=100, default='')
        prefix = CharField(max_length=12)
        token_hash = CharField(unique=True, max_length=64)
        created_at = DateTimeField()
        last_used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'api_token'
    db.create_tables([ApiToken])

    class Beneficiary(Model):
        file_number = CharField(unique=True, max_length=20)
        first_name = CharField(max_length=60)
        father_name = CharField(max_length=60)
        grandfather_name = CharField(max_length=60, default='')
        family_name = CharField(max_length=60)
        name_search = CharField(index=True, max_length=260)
        national_id = CharField(unique=True, max_length=10)
        id_kind = CharField(max_length=10, default='citizen')
        id_expiry = DateField(null=True)
        nationality = CharField(max_length=60, default='SA')
        gender = CharField(max_length=1)
        birth_date = DateField(null=True)
        mobile = CharField(index=True, max_length=20, default='')
        email = CharField(max_length=200, default='')
        preferred_channel = CharField(max_length=30, default='phone')
        district = CharField(max_length=80, default='')
        city = CharField(max_length=80, default='')
        national_address = CharField(max_length=120, default='')
        category = CharField(max_length=30, default='other')
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        consent_data = BooleanField(default=False)
        consent_contact = BooleanField(default=False)
        status = CharField(max_length=20, default='active')
        notes = TextField(default='')
        version = IntegerField(default=1)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'beneficiary'
    db.create_tables([Beneficiary])

    class Case(Model):
        reference = CharField(unique=True, max_length=20)
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        request_type = CharField(max_length=60, default='general')
        channel = CharField(max_length=30, default='interview')
        status = CharField(index=True, max_length=30, default='draft')
        summary = TextField(default='')
        submitted_at = DateTimeField(null=True)
        status_changed_at = DateTimeField()
        committee_due_at = DateTimeField(null=True)
        assigned_researcher = ForeignKeyField(User, null=True, on_delete='SET NULL')
        decision = CharField(max_length=20, default='')
        decision_reasons = TextField(default='')
        amount = DecimalField(null=True, max_digits=12, decimal_places=2)
        version = IntegerField(default=1)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'case'
    db.create_tables([Case])

    class TimelineEntry(Model):
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='CASCADE')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        channel = CharField(index=True, max_length=30)
        direction = CharField(max_length=10, default='in')
        occurred_at = DateTimeField()
        summary = CharField(max_length=300)
        body = TextField(default='')
        actor = ForeignKeyField(User, null=True, on_delete='SET NULL')
        data = TextField(null=True)
        follow_up_due = DateField(index=True, null=True)
        follow_up_done = BooleanField(default=False)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'timeline_entry'
            indexes = ((('beneficiary', 'occurred_at', 'id'), False),)
    db.create_tables([TimelineEntry])

    class Attachment(Model):
        entry = ForeignKeyField(TimelineEntry, on_delete='CASCADE')
        sha256 = CharField(max_length=64)
        file_name = CharField(max_length=200)
        content_type = CharField(max_length=100)
        size = IntegerField()
        class Meta:
            database = db
            table_name = 'attachment'
    db.create_tables([Attachment])

    class AuditEvent(Model):
        actor = ForeignKeyField(User, null=True, on_delete='SET NULL')
        action = CharField(max_length=30)
        object_type = CharField(max_length=40)
        object_id = CharField(max_length=40, default='')
        details = TextField(null=True)
        ip = CharField(max_length=64, default='')
        at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'audit_event'
    db.create_tables([AuditEvent])

    class Counter(Model):
        name = CharField(primary_key=True, max_length=60)
        value = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'counter'
    db.create_tables([Counter])

    class Document(Model):
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        kind = CharField(max_length=40)
        number = CharField(max_length=60, default='')
        issue_date = DateField(null=True)
        expiry_date = DateField(null=True)
        file_sha256 = CharField(max_length=64, default='')
        file_name = CharField(max_length=200, default='')
        content_type = CharField(max_length=100, default='')
        size = IntegerField(default=0)
        uploaded_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        uploaded_at = DateTimeField()
        verified_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        verified_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'document'
    db.create_tables([Document])

    class HouseholdMember(Model):
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        name = CharField(max_length=200)
        relation = CharField(max_length=30)
        national_id = CharField(max_length=10, default='')
        birth_date = DateField(null=True)
        gender = CharField(max_length=1, default='')
        has_income = BooleanField(default=False)
        notes = CharField(max_length=300, default='')
        class Meta:
            database = db
            table_name = 'household_member'
    db.create_tables([HouseholdMember])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('household_member'))
    migrator.migrate(migrator.drop_table('document'))
    migrator.migrate(migrator.drop_table('counter'))
    migrator.migrate(migrator.drop_table('audit_event'))
    migrator.migrate(migrator.drop_table('attachment'))
    migrator.migrate(migrator.drop_table('timeline_entry'))
    migrator.migrate(migrator.drop_table('case'))
    migrator.migrate(migrator.drop_table('beneficiary'))
    migrator.migrate(migrator.drop_table('api_token'))
    migrator.migrate(migrator.drop_table('user'))
    migrator.migrate(migrator.drop_table('branch'))
