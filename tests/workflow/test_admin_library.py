"""Request types and the declaration text (admin), the officer's library, printable pages, no N+1."""
import datetime as dt
import io

import pytest
from committee_helpers import committee_trio, open_trio_session  # noqa: F401
from playhouse.test_utils import count_queries

from portal.db import database
from portal.workflow import library
from portal.workflow.models import DeclarationText, EligibilityQuestion, LibraryVersion, RequestType, RequiredDocument

from pdf_samples import MINIMAL_PDF as PDF  # noqa: E402  (a valid one-page PDF)


def test_admin_creates_a_request_type_with_checklist_and_questions(client, wf, auth):
    database.close()
    auth.login("admin")
    bad = client.post("/admin/request-types/new?lang=en", data={"code": "Bad Code!", "name_ar": "",
                                                                "documents": ["passport"]})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "lower-case Latin letters" in page and "Unknown document type" in page and 'value="Bad Code!"' in page
    taken = client.post("/admin/request-types/new?lang=en", data={"code": "rent", "name_ar": "إيجار"})
    assert "already used" in taken.get_data(as_text=True)
    ok = client.post("/admin/request-types/new", data={
        "code": "school_bag", "name_ar": "حقيبة مدرسية", "name_en": "School bag", "active": "1", "public": "1",
        "documents": ["national_id", "family_card"], "eligible_categories": ["orphan"], "season_hijri_month": "2",
        "position": "70"})
    assert ok.status_code == 302
    with database.connection_context():
        rtype = RequestType.get(RequestType.code == "school_bag")
        assert {d.kind for d in rtype.required_documents} == {"national_id", "family_card"}
        assert (rtype.season_hijri_month, rtype.eligible_categories) == (2, "orphan")
    edit = client.post(f"/admin/request-types/{rtype.id}", data={"name_ar": "حقيبة مدرسية", "documents": ["family_card"],
                                                                 "active": "1"})
    assert edit.status_code == 302
    with database.connection_context():
        assert [d.kind for d in RequiredDocument.select().where(RequiredDocument.request_type == rtype)] == [
            "family_card"]
    assert client.post(f"/admin/request-types/{rtype.id}/questions", data={
        "text_ar": "هل يوجد طلاب؟", "answer_kind": "yes_no", "required": "1"}).status_code == 302
    assert client.post(f"/admin/request-types/{rtype.id}/questions", data={"text_ar": ""}).status_code == 422
    with database.connection_context():
        question = EligibilityQuestion.get(EligibilityQuestion.request_type == rtype)
    assert client.post(f"/admin/request-types/{rtype.id}/questions/{question.id}/retire").status_code == 302
    with database.connection_context():
        assert EligibilityQuestion.get_by_id(question.id).active is False
    assert client.post(f"/admin/request-types/{rtype.id}/questions/999999/retire").status_code == 404
    assert client.get("/admin/request-types/999999").status_code == 404


def test_declaration_text_versions_are_kept(client, wf, auth):
    database.close()
    auth.login("admin")
    assert "أقر أنا المتقدم" in client.get("/admin/declaration").get_data(as_text=True)
    assert client.post("/admin/declaration", data={"text_ar": "", "text_en": "x"}).status_code == 422
    assert client.post("/admin/declaration", data={"text_ar": "أقر بصحة البيانات", "text_en": "I declare"}).status_code == 302
    with database.connection_context():
        assert [t.version for t in DeclarationText.select().order_by(DeclarationText.version)] == [1, 2]


def test_library_versions_search_and_effective_dates(client, wf, auth):
    library.ensure_default_tools()
    database.close()
    auth.login("admin")
    created = client.post("/library/", data={"kind": "other", "title_ar": "دليل الإجراءات", "title_en": "Procedures"})
    assert created.status_code == 302
    doc_url = created.headers["Location"]
    # a Hijri effective date, typed text; a file that is not a PDF is refused
    fake = client.post(f"{doc_url}/versions?lang=en", content_type="multipart/form-data", data={
        "label": "1", "effective_from": "1446-01-01", "file": (io.BytesIO(b"MZ\x90\x00binary"), "guide.pdf")})
    assert fake.status_code == 422 and "not accepted" in fake.get_data(as_text=True)
    bad_date = client.post(f"{doc_url}/versions?lang=en", data={"label": "1", "effective_from": "1447-02-30",
                                                                "notes": "نص"})
    assert bad_date.status_code == 422 and "Hijri date does not exist" in bad_date.get_data(as_text=True)
    assert client.post(f"{doc_url}/versions", data={"label": "1", "effective_from": "1446-01-01",
                                                    "notes": "يُقدَّم طلبُ الإعانة خلال أسبوعين"}).status_code == 302
    assert client.post(f"{doc_url}/versions", content_type="multipart/form-data", data={
        "label": "2", "effective_from": "2999-01-01", "file": (io.BytesIO(PDF), "v2.pdf")}).status_code == 302
    page = client.get(doc_url).get_data(as_text=True)
    assert "دليل الإجراءات" in page
    with database.connection_context():
        versions = list(LibraryVersion.select().order_by(LibraryVersion.id))
        assert versions[0].effective_from == dt.date(2024, 7, 7)  # 1 Muharram 1446
        assert library.current_version(versions[0].document).label == "1"  # version 2 is not in force yet
    # search: Arabic-normalised, in titles and in texts
    auth.logout()
    auth.login("officer")
    assert "دليل الإجراءات" in client.get("/library/?q=الاعانه").get_data(as_text=True)
    assert "دليل الإجراءات" in client.get("/library/?q=اجراءات").get_data(as_text=True)
    assert "دليل الإجراءات" not in client.get("/library/?q=%25_").get_data(as_text=True)
    assert "اللائحة الأساسية للجمعية" in client.get("/library/?q=اللائحه").get_data(as_text=True)
    assert client.post("/library/", data={"kind": "other", "title_ar": "x"}).status_code == 403
    with database.connection_context():
        v2 = LibraryVersion.get(LibraryVersion.label == "2")
    response = client.get(f"/library/versions/{v2.id}/file")
    assert response.status_code == 200 and response.data == PDF
    assert client.get("/library/versions/999999/file").status_code == 404


def test_printable_request_form_is_pre_filled(client, wf, auth):
    ben = wf.ready_beneficiary(first_name="هدى")
    case = wf.case("submitted", ben=ben)
    database.close()
    auth.login("officer")
    page = client.get(f"/cases/{case.reference}/request-form").get_data(as_text=True)
    assert "هدى" in page and case.reference in page and ben.national_id in page and "أقر أنا المتقدم" in page
    assert "data-print" in page and "js/print.js" in page
    blank = client.get(f"/beneficiaries/{ben.id}/request-form").get_data(as_text=True)
    assert "هدى" in blank and ben.file_number in blank
    assert client.get("/cases/1448-999999/request-form").status_code == 404


def test_case_list_and_agenda_run_a_constant_number_of_queries(client, wf, auth):
    from portal.workflow import committee

    for _ in range(2):
        wf.case("awaiting_committee")
    session = open_trio_session()
    database.close()
    auth.login("manager")

    def queries(url):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    few = (queries("/cases/"), queries(f"/committee/sessions/{session.id}"), queries("/committee/"))
    database.connect(reuse_if_open=True)
    for _ in range(4):
        wf.case("awaiting_committee")
    committee.refresh_agenda(session)
    database.close()
    many = (queries("/cases/"), queries(f"/committee/sessions/{session.id}"), queries("/committee/"))
    assert all(n > 3 for n in few) and few == many, (few, many)
