"""Steps 1, 2 and 4 through the services: opening, the checklist, the declaration, submitting."""
import datetime as dt

import pytest

from portal.models import AuditEvent, Case, TimelineEntry
from portal.workflow import intake
from portal.workflow.errors import ChecklistIncomplete, TransitionNotAllowed, WorkflowError
from portal.workflow.models import Declaration, DeclarationText


def test_open_request_gives_a_hijri_year_reference_and_a_timeline_entry(wf):
    ben = wf.ready_beneficiary()
    case = intake.open_request(ben, "food_basket", channel="phone", actor=wf.user("officer"), summary="سلة",
                               answers=wf.answers("food_basket"))
    year = intake.hijri_year(intake.saudi_today())
    assert case.reference == f"{year}-000001"
    assert (case.status, case.channel, case.request_type) == ("draft", "phone", "food_basket")
    second = intake.open_request(ben, "food_basket", channel="phone", answers=wf.answers("food_basket"))
    assert second.reference == f"{year}-000002"
    entry = TimelineEntry.get(TimelineEntry.case == case)
    assert entry.channel == "system" and entry.data["channel"] == "phone" and case.reference in entry.summary
    assert AuditEvent.select().where((AuditEvent.object_type == "case") & (AuditEvent.action == "create")).count() == 2


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"request_type": "no_such_type"}, "request_type"),
    ({"channel": "carrier_pigeon"}, "channel"),
    ({"summary": "x" * 2001}, "summary"),
    ({"answers": {}}, "answer_"),
])
def test_open_request_refuses_bad_input_and_writes_nothing(wf, kwargs, field):
    ben = wf.ready_beneficiary()
    args = {"request_type": "financial_aid", "channel": "interview", "answers": wf.answers("financial_aid")}
    args.update(kwargs)
    with pytest.raises(WorkflowError) as info:
        intake.open_request(ben, args.pop("request_type"), **args)
    assert any(k.startswith(field) for k in info.value.fields)
    assert Case.select().count() == 0


def test_number_answers_accept_eastern_digits_and_refuse_words(wf):
    rtype = intake.get_request_type("financial_aid")
    qs = intake.questions(rtype)
    yes_no, number = qs[0], qs[1]
    assert intake.validate_answers(rtype, {yes_no.id: "yes", number.id: "١٥٠٠"}) == {
        str(yes_no.id): "yes", str(number.id): "1500"}
    with pytest.raises(WorkflowError) as info:
        intake.validate_answers(rtype, {yes_no.id: "maybe", number.id: "كثير"})
    assert set(info.value.fields) == {f"answer_{yes_no.id}", f"answer_{number.id}"}


def test_checklist_present_missing_expired_at_submission_date(wf):
    ben = wf.beneficiary()
    today = intake.saudi_today()
    wf.document(ben, "national_id", today - dt.timedelta(days=1))
    wf.document(ben, "lease", today)  # expires today: still valid today
    rtype = intake.get_request_type("rent")
    states = {i.kind: i.state for i in intake.checklist_for(ben, rtype).items}
    assert states == {"national_id": "expired", "family_card": "missing", "lease": "present",
                      "income_proof": "missing"}
    # the day after, the lease is expired too
    later = {i.kind: i.state for i in intake.checklist_for(ben, rtype, today + dt.timedelta(days=1)).items}
    assert later["lease"] == "expired"


def test_a_newer_valid_id_replaces_an_expired_one_but_the_file_id_expiry_counts(wf):
    ben = wf.beneficiary()
    today = intake.saudi_today()
    wf.document(ben, "national_id", today - dt.timedelta(days=30))
    wf.document(ben, "iqama", today + dt.timedelta(days=30))
    rtype = intake.get_request_type("ramadan_basket")
    assert intake.checklist_for(ben, rtype).ok
    ben.id_expiry = today - dt.timedelta(days=2)
    ben.save()
    item = intake.checklist_for(ben, rtype).items[0]
    assert (item.state, item.expiry_date) == ("expired", today - dt.timedelta(days=2))


def test_expired_id_blocks_submission_with_the_list_and_changes_nothing(wf):
    ben = wf.beneficiary()
    wf.document(ben, "national_id", intake.saudi_today() - dt.timedelta(days=3))
    case = wf.case("draft", ben=ben)
    before = TimelineEntry.select().count()
    with pytest.raises(ChecklistIncomplete) as info:
        intake.submit(case, actor=wf.user("officer"))
    assert {(i.kind, i.state) for i in info.value.checklist.problems} == {("national_id", "expired"),
                                                                           ("family_card", "missing")}
    fresh = Case.get_by_id(case.id)
    assert (fresh.status, fresh.version) == ("draft", 1)
    assert TimelineEntry.select().count() == before


def test_submit_or_incomplete_with_the_missing_list_sent_or_recorded_not_sent(wf):
    ben = wf.beneficiary()
    case = wf.case("draft", ben=ben)
    result = intake.submit(case, actor=wf.user("officer"), incomplete_if_missing=True)
    assert result.case.status == "incomplete"
    assert {m["kind"] for m in result.case.missing_documents} == {"national_id", "family_card"}
    note = (TimelineEntry.select().where(TimelineEntry.data.contains("missing_documents"))
            .order_by(TimelineEntry.id.desc()).first())
    assert note is not None and note.direction == "out"
    assert note.data["sent"] is False and note.channel == "system"
    assert "سجل الأسرة (غير مقدَّمة)" in note.body and "بطاقة الهوية الوطنية" in note.body  # in Arabic
    # documents arrive: the request is submitted from incomplete
    wf.document(ben, "national_id", intake.saudi_today() + dt.timedelta(days=100))
    wf.document(ben, "family_card")
    again = intake.submit(result.case, actor=wf.user("officer"))
    assert again.case.status == "submitted" and again.case.submitted_at is not None
    assert again.case.missing_documents is None


def test_double_submission_happens_once(wf):
    case = wf.case("draft")
    first = intake.submit(case, actor=wf.user("officer"), expected_version=1)
    second = intake.submit(case, actor=wf.user("officer"), expected_version=1)
    assert (first.changed, second.changed) == (True, False)
    assert AuditEvent.select().where(AuditEvent.action == "transition").count() == 1
    with pytest.raises(TransitionNotAllowed):
        intake.submit(case, actor=wf.user("officer"))


def test_declaration_records_version_method_witness_and_new_versions_keep_old(wf):
    case = wf.case("submitted")
    first = intake.current_declaration_text()
    decl = intake.record_declaration(case, method="read_out", channel="phone", witness=wf.user("officer"))
    assert (decl.text.version, decl.method, decl.channel, decl.witness.username) == (1, "read_out", "phone",
                                                                                      "officer")
    newer = intake.publish_declaration_text("نص جديد للإقرار", "New wording", actor=wf.user("admin"))
    assert newer.version == 2 and intake.current_declaration_text().version == 2
    assert DeclarationText.get_by_id(first.id).text_ar == intake.DEFAULT_DECLARATION_AR
    web = intake.record_declaration(case, method="self_tick", channel="website")
    assert web.text.version == 2 and web.witness is None
    assert Declaration.get_by_id(decl.id).text.version == 1


def test_migration_0007_renames_the_declaration_methods_that_named_channels(wf):
    """Declarations (and their timeline entries) recorded as ``website_tick``/``phone_read`` read
    ``self_tick``/``read_out`` after migration 0007, and ``down`` gives the old names back."""
    import importlib.util
    from pathlib import Path

    from portal.db import database

    path = Path(intake.__file__).parent.parent / "migrations" / "0007_declaration_methods.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    case = wf.case("submitted")
    spoken = intake.record_declaration(case, method="read_out", channel="phone", witness=wf.user("officer"))
    ticked = intake.record_declaration(case, method="self_tick", channel="website")
    migration.down(None, database.obj)  # as written before the rename
    assert {d.method for d in Declaration.select()} == {"phone_read", "website_tick"}

    def kinds():
        return sorted(e.data["method"] for e in TimelineEntry.select() if (e.data or {}).get("kind") == "declaration")

    assert kinds() == ["phone_read", "website_tick"]
    migration.up(None, database.obj)
    assert (Declaration.get_by_id(spoken.id).method, Declaration.get_by_id(ticked.id).method) == (
        "read_out", "self_tick")
    assert kinds() == ["read_out", "self_tick"]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"method": "telepathy"}, "method"),
    ({"method": "read_out", "witness": None}, "witness"),
    ({"method": "paper_scan"}, "document"),
    ({"text_version": 99}, "text_version"),
    ({"channel": "nowhere"}, "channel"),
])
def test_declaration_bad_input(wf, kwargs, field):
    case = wf.case("draft")
    args = {"method": "read_out", "channel": "phone", "witness": wf.user("officer")}
    args.update(kwargs)
    with pytest.raises(WorkflowError) as info:
        intake.record_declaration(case, **args)
    assert field in info.value.fields
    assert Declaration.select().count() == 0


def test_paper_declaration_scan_must_belong_to_the_same_beneficiary(wf):
    case = wf.case("draft")
    other = wf.beneficiary()
    scan = wf.document(other, "other")
    with pytest.raises(WorkflowError) as info:
        intake.record_declaration(case, method="paper_scan", channel="interview", witness=wf.user("officer"),
                                  document=scan)
    assert "document" in info.value.fields
    own = wf.document(case.beneficiary, "other")
    decl = intake.record_declaration(case, method="paper_scan", channel="interview", witness=wf.user("officer"),
                                     document=own)
    assert decl.document.id == own.id


def test_attach_document_of_another_beneficiary_is_refused(wf):
    case = wf.case("draft")
    foreign = wf.document(wf.beneficiary(), "income_proof")
    with pytest.raises(WorkflowError):
        intake.attach_document(case, foreign)
    from portal.models import Document

    assert Document.get_by_id(foreign.id).case_id is None
