"""The support-request workflow: request types, declarations, research, committee, enrolment, deliveries,
library, outreach; the case's step dates and decision fields (frozen copies of the models at the time)."""
from peewee import *


def up(migrator, db):
    class Beneficiary(Model):
        class Meta:
            database = db
            table_name = 'beneficiary'

    class Case(Model):
        class Meta:
            database = db
            table_name = 'case'

    class Document(Model):
        class Meta:
            database = db
            table_name = 'document'

    class TimelineEntry(Model):
        class Meta:
            database = db
            table_name = 'timeline_entry'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class CommitteeSession(Model):
        held_on = DateField()
        title = CharField(max_length=200, default='')
        quorum = IntegerField(default=3)
        chair = ForeignKeyField(User, on_delete='RESTRICT')
        closed_at = DateTimeField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'committee_session'
    db.create_tables([CommitteeSession])

    class AgendaItem(Model):
        session = ForeignKeyField(CommitteeSession, on_delete='CASCADE')
        case = ForeignKeyField(Case, on_delete='CASCADE')
        position = IntegerField()
        decision = CharField(max_length=20, default='')
        class Meta:
            database = db
            table_name = 'agenda_item'
            indexes = ((('session', 'case'), True),)
    db.create_tables([AgendaItem])

    class DeclarationText(Model):
        version = IntegerField(unique=True)
        text_ar = TextField()
        text_en = TextField(default='')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'declaration_text'
    db.create_tables([DeclarationText])

    class Declaration(Model):
        case = ForeignKeyField(Case, on_delete='CASCADE')
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        text = ForeignKeyField(DeclarationText, on_delete='RESTRICT')
        given_at = DateTimeField()
        channel = CharField(max_length=30)
        method = CharField(max_length=20)
        witness = ForeignKeyField(User, null=True, on_delete='SET NULL')
        document = ForeignKeyField(Document, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'declaration'
    db.create_tables([Declaration])

    class Delivery(Model):
        case = ForeignKeyField(Case, on_delete='CASCADE')
        what = CharField(max_length=200)
        amount = DecimalField(null=True, max_digits=12, decimal_places=2)
        quantity = IntegerField(null=True)
        delivered_on = DateField()
        delivered_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        receipt_number = CharField(max_length=60, default='')
        receipt_sha256 = CharField(max_length=64, default='')
        receipt_name = CharField(max_length=200, default='')
        receipt_type = CharField(max_length=100, default='')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'delivery'
    db.create_tables([Delivery])

    class RequestType(Model):
        code = CharField(unique=True, max_length=60)
        name_ar = CharField(max_length=120)
        name_en = CharField(max_length=120, default='')
        description_ar = TextField(default='')
        description_en = TextField(default='')
        active = BooleanField(default=True)
        public = BooleanField(default=True)
        eligible_categories = CharField(max_length=300, default='')
        season_hijri_month = IntegerField(null=True)
        position = IntegerField(default=100)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'request_type'
    db.create_tables([RequestType])

    class EligibilityQuestion(Model):
        request_type = ForeignKeyField(RequestType, on_delete='CASCADE')
        text_ar = CharField(max_length=300)
        text_en = CharField(max_length=300, default='')
        answer_kind = CharField(max_length=10, default='yes_no')
        required = BooleanField(default=True)
        active = BooleanField(default=True)
        position = IntegerField(default=100)
        class Meta:
            database = db
            table_name = 'eligibility_question'
    db.create_tables([EligibilityQuestion])

    class Enrolment(Model):
        case = ForeignKeyField(Case, unique=True, on_delete='CASCADE')
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        programme = CharField(max_length=60)
        starts_on = DateField()
        ends_on = DateField(null=True)
        notes = TextField(default='')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'enrolment'
    db.create_tables([Enrolment])

    class LibraryDocument(Model):
        kind = CharField(max_length=30, default='other')
        title_ar = CharField(max_length=200)
        title_en = CharField(max_length=200, default='')
        title_search = CharField(index=True, max_length=400, default='')
        position = IntegerField(default=100)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'library_document'
    db.create_tables([LibraryDocument])

    class LibraryVersion(Model):
        document = ForeignKeyField(LibraryDocument, on_delete='CASCADE')
        label = CharField(max_length=40)
        effective_from = DateField()
        notes = TextField(default='')
        text_search = TextField(default='')
        sha256 = CharField(max_length=64, default='')
        file_name = CharField(max_length=200, default='')
        content_type = CharField(max_length=100, default='')
        size = IntegerField(default=0)
        uploaded_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'library_version'
    db.create_tables([LibraryVersion])

    class OutreachTask(Model):
        beneficiary = ForeignKeyField(Beneficiary, null=True, on_delete='CASCADE')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        kind = CharField(index=True, max_length=40)
        reason = CharField(max_length=300)
        due = DateField(index=True)
        source = TextField(null=True)
        key = CharField(unique=True, max_length=200)
        status = CharField(index=True, max_length=10, default='open')
        outcome = TextField(default='')
        entry = ForeignKeyField(TimelineEntry, null=True, on_delete='SET NULL')
        done_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        done_at = DateTimeField(null=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'outreach_task'
    db.create_tables([OutreachTask])

    class RequiredDocument(Model):
        request_type = ForeignKeyField(RequestType, on_delete='CASCADE')
        kind = CharField(max_length=40)
        note_ar = CharField(max_length=300, default='')
        note_en = CharField(max_length=300, default='')
        position = IntegerField(default=100)
        class Meta:
            database = db
            table_name = 'required_document'
            indexes = ((('request_type', 'kind'), True),)
    db.create_tables([RequiredDocument])

    class ResearchReport(Model):
        case = ForeignKeyField(Case, on_delete='CASCADE')
        researcher = ForeignKeyField(User, null=True, on_delete='SET NULL')
        visit_date = DateField()
        household_situation = TextField()
        monthly_income = DecimalField(null=True, max_digits=12, decimal_places=2)
        housing = TextField(default='')
        needs = TextField()
        recommendation = CharField(max_length=10)
        recommendation_notes = TextField(default='')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'research_report'
    db.create_tables([ResearchReport])

    class ResearchAttachment(Model):
        report = ForeignKeyField(ResearchReport, on_delete='CASCADE')
        sha256 = CharField(max_length=64)
        file_name = CharField(max_length=200)
        content_type = CharField(max_length=100)
        size = IntegerField()
        class Meta:
            database = db
            table_name = 'research_attachment'
    db.create_tables([ResearchAttachment])

    class SessionMember(Model):
        session = ForeignKeyField(CommitteeSession, on_delete='CASCADE')
        user = ForeignKeyField(User, on_delete='CASCADE')
        class Meta:
            database = db
            table_name = 'session_member'
            indexes = ((('session', 'user'), True),)
    db.create_tables([SessionMember])

    class Vote(Model):
        session = ForeignKeyField(CommitteeSession, on_delete='CASCADE')
        case = ForeignKeyField(Case, on_delete='CASCADE')
        member = ForeignKeyField(User, on_delete='CASCADE')
        vote = CharField(max_length=10)
        comment = TextField(default='')
        at = DateTimeField()
        class Meta:
            database = db
            table_name = 'vote'
            indexes = ((('session', 'case', 'member'), True),)
    db.create_tables([Vote])

    migrator.migrate(migrator.add_column('case', 'answers', TextField(null=True)))
    migrator.migrate(migrator.add_column('case', 'missing_documents', TextField(null=True)))
    migrator.migrate(migrator.add_column('case', 'referred_at', DateTimeField(null=True)))
    migrator.migrate(migrator.add_column('case', 'referral_reason', TextField(default='')))
    migrator.migrate(migrator.add_column('case', 'awaiting_committee_at', DateTimeField(null=True)))
    migrator.migrate(migrator.add_column('case', 'escalated_at', DateTimeField(null=True)))
    migrator.migrate(migrator.add_column('case', 'quantity', IntegerField(null=True)))
    migrator.migrate(migrator.add_column('case', 'conditions', TextField(default='')))
    migrator.migrate(migrator.add_column('case', 'decided_at', DateTimeField(null=True)))
    migrator.migrate(migrator.add_column('case', 'decided_by_id', ForeignKeyField(User, field=User.id, null=True, on_delete='SET NULL')))
    migrator.migrate(migrator.add_column('case', 'registered_at', DateTimeField(null=True)))
    migrator.migrate(migrator.add_column('case', 'closed_at', DateTimeField(null=True)))
    migrator.migrate(migrator.add_column('case', 'withdrawn_reason', TextField(default='')))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('case', 'case_decided_by_id'))
    migrator.migrate(migrator.drop_column('case', 'withdrawn_reason'))
    migrator.migrate(migrator.drop_column('case', 'closed_at'))
    migrator.migrate(migrator.drop_column('case', 'registered_at'))
    migrator.migrate(migrator.drop_column('case', 'decided_by_id'))
    migrator.migrate(migrator.drop_column('case', 'decided_at'))
    migrator.migrate(migrator.drop_column('case', 'conditions'))
    migrator.migrate(migrator.drop_column('case', 'quantity'))
    migrator.migrate(migrator.drop_column('case', 'escalated_at'))
    migrator.migrate(migrator.drop_column('case', 'awaiting_committee_at'))
    migrator.migrate(migrator.drop_column('case', 'referral_reason'))
    migrator.migrate(migrator.drop_column('case', 'referred_at'))
    migrator.migrate(migrator.drop_column('case', 'missing_documents'))
    migrator.migrate(migrator.drop_column('case', 'answers'))
    migrator.migrate(migrator.drop_table('vote'))
    migrator.migrate(migrator.drop_table('session_member'))
    migrator.migrate(migrator.drop_table('research_attachment'))
    migrator.migrate(migrator.drop_table('research_report'))
    migrator.migrate(migrator.drop_table('required_document'))
    migrator.migrate(migrator.drop_table('outreach_task'))
    migrator.migrate(migrator.drop_table('library_version'))
    migrator.migrate(migrator.drop_table('library_document'))
    migrator.migrate(migrator.drop_table('enrolment'))
    migrator.migrate(migrator.drop_table('eligibility_question'))
    migrator.migrate(migrator.drop_table('request_type'))
    migrator.migrate(migrator.drop_table('delivery'))
    migrator.migrate(migrator.drop_table('declaration'))
    migrator.migrate(migrator.drop_table('declaration_text'))
    migrator.migrate(migrator.drop_table('agenda_item'))
    migrator.migrate(migrator.drop_table('committee_session'))
