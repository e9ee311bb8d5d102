"""Every inquiry, complaint and suggestion the website received before the core's complaints register existed
becomes an entry of that register (source "website", source_id the inquiry's id): one register for every
channel, nothing lost. The entry keeps the inquiry's Q reference, its state, answer and deadline (the Saudi
day of its due time); the inquiry stays for the public tracking by that reference."""
import datetime as dt

from peewee import *


def up(migrator, db):
    class Inquiry(Model):
        reference = CharField()
        kind = CharField()
        name = CharField()
        mobile = CharField()
        national_id = CharField()
        email = CharField()
        subject = CharField()
        body = TextField()
        beneficiary_id = IntegerField(null=True)
        case_id = IntegerField(null=True)
        entry_id = IntegerField(null=True)
        status = CharField()
        due_at = DateTimeField()
        answer = TextField()
        answered_by_id = IntegerField(null=True)
        answered_at = DateTimeField(null=True)
        answer_delivery = CharField()
        created_at = DateTimeField()
        assigned_to_id = IntegerField(null=True)

        class Meta:
            database = db
            table_name = 'inquiry'

    class Complaint(Model):
        reference = CharField()
        kind = CharField()
        channel = CharField()
        text = TextField()
        state = CharField()
        beneficiary_id = IntegerField(null=True)
        case_id = IntegerField(null=True)
        contact_name = CharField()
        contact_mobile = CharField()
        contact_reference = CharField()
        contact_national_id = CharField()
        contact_email = CharField()
        contact_requested = BooleanField()
        source = CharField()
        source_id = CharField(null=True)
        deadline = DateField()
        assigned_to_id = IntegerField(null=True)
        answer = TextField()
        answered_at = DateTimeField(null=True)
        answered_by_id = IntegerField(null=True)
        answer_delivery = CharField()
        outcome = CharField()
        outcome_note = TextField()
        closed_at = DateTimeField(null=True)
        entry_id = IntegerField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'complaint'

    done = {row[0] for row in Complaint.select(Complaint.source_id).where(Complaint.source == 'website').tuples()}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with db.atomic():
        for q in Inquiry.select().order_by(Inquiry.id):
            if str(q.id) in done:
                continue
            answered = q.status in ('answered', 'closed') and bool(q.answer)
            delivery = q.answer_delivery or ''
            Complaint.create(
                reference=q.reference[:20], kind=q.kind, channel='website',
                text=f"{q.subject}\n\n{q.body}", state=q.status if q.status in ('open', 'answered', 'closed') else 'open',
                beneficiary_id=q.beneficiary_id, case_id=q.case_id, contact_name=(q.name or '')[:160],
                contact_mobile=(q.mobile or '')[:20], contact_reference='',
                contact_national_id='' if q.beneficiary_id else (q.national_id or '')[:10],
                contact_email=(q.email or '')[:200], contact_requested=True, source='website', source_id=str(q.id),
                deadline=(q.due_at + dt.timedelta(hours=3)).date(), assigned_to_id=q.assigned_to_id,
                answer=q.answer or '', answered_at=q.answered_at, answered_by_id=q.answered_by_id,
                answer_delivery=(f"sent|{delivery}" if delivery else ('not_sent' if answered else ''))[:120],
                outcome='resolved' if q.status == 'closed' else '', outcome_note='',
                closed_at=q.answered_at if q.status == 'closed' else None, entry_id=q.entry_id,
                created_at=q.created_at, updated_at=now)
