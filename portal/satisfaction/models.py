"""Satisfaction surveys: the question sets (versioned), one survey per finished service, its one answer, and the
beneficiaries who asked not to be surveyed. Created by core migration 0014."""
from __future__ import annotations

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from ..complaints.models import FeedbackTheme
from ..db import BaseModel, JSONField, utcnow
from ..models import Beneficiary, Branch, Case, User
from ..workflow.machine import SURVEYED_STATUSES

# The five dimensions asked beside the overall score (each 1-5).
DIMENSIONS = ("speed", "courtesy", "clarity", "fairness", "reach")
# Every question of a set, in the order the form shows them.
QUESTIONS = ("overall", "recommend", *DIMENSIONS, "comment")
# What finished: the service a survey asks about.
SERVICE_KINDS = (*SURVEYED_STATUSES, "inquiry", "complaint", "call", "meeting", "conversation")
# Who records an answer given by phone or at the desk, and who reads the report and the summary API.
RECORD_ROLES = ("officer", "delegate", "researcher", "admin")
REPORT_ROLES = ("manager", "admin")
# How an answer reached us: the public page (``link``), the page opened from a printed code (``qr``), a reply
# on the channel the survey was sent on (``reply``), the officer recording what the beneficiary said on a call
# (``call``) or at the office (``desk``).
ANSWER_WAYS = ("link", "qr", "reply", "call", "desk")


class SurveyQuestionSet(BaseModel):
    """One version of the questions. Editing makes a new version; each answer keeps the one it was given on."""

    class Meta:
        table_name = "survey_question_set"

    version = IntegerField(unique=True)
    texts = JSONField()  # {question key: {"ar": str, "en": str}}
    dimensions = JSONField()  # the dimension keys asked, a subset of DIMENSIONS in order
    note = CharField(max_length=300, default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


class Survey(BaseModel):
    """One invitation to rate one finished service. ``nonce`` is the random part of the signed link."""

    nonce = CharField(max_length=32, unique=True)
    beneficiary = ForeignKeyField(Beneficiary, backref="+", on_delete="CASCADE")
    case = ForeignKeyField(Case, null=True, backref="+", on_delete="SET NULL")
    kind = CharField(max_length=20)  # SERVICE_KINDS
    channel = CharField(max_length=30, default="")  # the channel the service was given on
    request_type = CharField(max_length=60, default="")  # the request's type (the "service" of the reports)
    staff = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    branch = ForeignKeyField(Branch, null=True, backref="+", on_delete="SET NULL")
    source = CharField(max_length=120, unique=True)  # what finished, e.g. "case:12": one survey per service
    question_set = ForeignKeyField(SurveyQuestionSet, backref="+", on_delete="RESTRICT")
    created_at = DateTimeField(default=utcnow, index=True)
    expires_at = DateTimeField()
    sent_channel = CharField(max_length=30, default="")  # the channel whose transport accepted the invitation
    sent_state = CharField(max_length=10, default="")  # "" not sent, "queued", "sent"
    sent_at = DateTimeField(null=True)
    not_sent_reason = CharField(max_length=30, default="")  # no_consent, no_channel
    reminded_at = DateTimeField(null=True)
    answered_at = DateTimeField(null=True)
    comment_until = DateTimeField(null=True)  # a reply on a channel: the next message is the comment until then

    class Meta:
        indexes = ((("beneficiary", "created_at"), False),)


class SurveyAnswer(BaseModel):
    """The one answer of a survey, whichever way it came. Staff screens show answers only in aggregate."""

    class Meta:
        table_name = "survey_answer"

    survey = ForeignKeyField(Survey, unique=True, backref="+", on_delete="CASCADE")
    question_set = ForeignKeyField(SurveyQuestionSet, backref="+", on_delete="RESTRICT")
    overall = IntegerField()
    recommend = IntegerField(null=True)
    speed = IntegerField(null=True)
    courtesy = IntegerField(null=True)
    clarity = IntegerField(null=True)
    fairness = IntegerField(null=True)
    reach = IntegerField(null=True)
    comment = TextField(default="")
    via = CharField(max_length=10)  # ANSWER_WAYS
    via_channel = CharField(max_length=30, default="")  # the channel a reply came on
    wants_contact = BooleanField(default=False)
    wants_complaint = BooleanField(default=False)
    complaint_id = IntegerField(null=True)
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    at = DateTimeField(default=utcnow, index=True)
    month = CharField(max_length=7, index=True)  # the Saudi month of ``at``, "YYYY-MM" (the reports' month)
    theme = ForeignKeyField(FeedbackTheme, null=True, backref="+", on_delete="SET NULL")  # a manager's tag


class SurveyOptOut(BaseModel):
    """The beneficiary asked not to be surveyed again (kept on the file; every way of asking respects it)."""

    class Meta:
        table_name = "survey_opt_out"

    beneficiary = ForeignKeyField(Beneficiary, unique=True, backref="+", on_delete="CASCADE")
    via = CharField(max_length=10, default="")  # ANSWER_WAYS, or "record" for the file
    recorded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    at = DateTimeField(default=utcnow)


SATISFACTION_MODELS = [SurveyQuestionSet, Survey, SurveyAnswer, SurveyOptOut]
