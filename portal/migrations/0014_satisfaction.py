"""Satisfaction surveys: question sets with versions, surveys, answers, opt-outs (frozen copy of the models)."""
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

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class Branch(Model):
        class Meta:
            database = db
            table_name = 'branch'

    class FeedbackTheme(Model):  # core migration 0013 (the complaints register)
        class Meta:
            database = db
            table_name = 'feedback_theme'

    class SurveyQuestionSet(Model):
        version = IntegerField(unique=True)
        texts = TextField()
        dimensions = TextField()
        note = CharField(max_length=300, default='')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'survey_question_set'

    class Survey(Model):
        nonce = CharField(max_length=32, unique=True)
        beneficiary = ForeignKeyField(Beneficiary, on_delete='CASCADE')
        case = ForeignKeyField(Case, null=True, on_delete='SET NULL')
        kind = CharField(max_length=20)
        channel = CharField(max_length=30, default='')
        request_type = CharField(max_length=60, default='')
        staff = ForeignKeyField(User, null=True, on_delete='SET NULL')
        branch = ForeignKeyField(Branch, null=True, on_delete='SET NULL')
        source = CharField(max_length=120, unique=True)
        question_set = ForeignKeyField(SurveyQuestionSet, on_delete='RESTRICT')
        created_at = DateTimeField(index=True)
        expires_at = DateTimeField()
        sent_channel = CharField(max_length=30, default='')
        sent_state = CharField(max_length=10, default='')
        sent_at = DateTimeField(null=True)
        not_sent_reason = CharField(max_length=30, default='')
        reminded_at = DateTimeField(null=True)
        answered_at = DateTimeField(null=True)
        comment_until = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'survey'
            indexes = ((('beneficiary', 'created_at'), False),)

    class SurveyAnswer(Model):
        survey = ForeignKeyField(Survey, unique=True, on_delete='CASCADE')
        question_set = ForeignKeyField(SurveyQuestionSet, on_delete='RESTRICT')
        overall = IntegerField()
        recommend = IntegerField(null=True)
        speed = IntegerField(null=True)
        courtesy = IntegerField(null=True)
        clarity = IntegerField(null=True)
        fairness = IntegerField(null=True)
        reach = IntegerField(null=True)
        comment = TextField(default='')
        via = CharField(max_length=10)
        via_channel = CharField(max_length=30, default='')
        wants_contact = BooleanField(default=False)
        wants_complaint = BooleanField(default=False)
        complaint_id = IntegerField(null=True)
        recorded_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        at = DateTimeField(index=True)
        month = CharField(max_length=7, index=True)
        theme = ForeignKeyField(FeedbackTheme, null=True, on_delete='SET NULL')

        class Meta:
            database = db
            table_name = 'survey_answer'

    class SurveyOptOut(Model):
        beneficiary = ForeignKeyField(Beneficiary, unique=True, on_delete='CASCADE')
        via = CharField(max_length=10, default='')
        recorded_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        at = DateTimeField()

        class Meta:
            database = db
            table_name = 'survey_opt_out'

    db.create_tables([SurveyQuestionSet, Survey, SurveyAnswer, SurveyOptOut])
