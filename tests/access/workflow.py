"""Access rules of the support-request workflow (cases, committee, outreach, library, request types)."""
from . import STAFF, rule

INTAKE = ("officer", "delegate", "admin")
COMMITTEE_READ = ("committee", "manager", "admin")
OUTREACH_READ = ("officer", "delegate", "manager", "admin")
FULL = ("admin", "officer", "manager", "committee")  # see every file and request (portal.scope)
NOT_RESEARCHER = tuple(r for r in STAFF if r != "researcher")

ACCESS = {
    "cases.index": rule("GET", "/cases/", STAFF),
    "cases.research_queue": rule("GET", "/cases/research", ("researcher",)),
    "cases.new": rule("GET", "/beneficiaries/{ben}/cases/new", INTAKE),
    "cases.show": rule("GET", "/cases/{case}", STAFF),
    "cases.submit": rule("POST", "/cases/{case}/submit", INTAKE),
    "cases.incomplete": rule("POST", "/cases/{case}/incomplete", INTAKE),
    "cases.add_document": rule("POST", "/cases/{case}/documents", INTAKE),
    "cases.declaration": rule("POST", "/cases/{case}/declaration", INTAKE),
    "cases.refer": rule("POST", "/cases/{case}/refer", INTAKE),
    "cases.report": rule("POST", "/cases/{case}/report", ("researcher", "admin")),
    "cases.send_to_committee": rule("POST", "/cases/{case}/send-to-committee", ("officer", "researcher", "admin")),
    "cases.register": rule("POST", "/cases/{case}/register", INTAKE),
    "cases.delivery": rule("POST", "/cases/{case}/deliveries", INTAKE),
    "cases.close": rule("POST", "/cases/{case}/close", INTAKE),
    "cases.withdraw": rule("POST", "/cases/{case}/withdraw", INTAKE),
    "cases.file": rule("GET", "/cases/{case}/files/research/{attachment}", STAFF),
    "cases.request_form": rule("GET", "/cases/{case}/request-form", STAFF),
    "cases.blank_request_form": rule("GET", "/beneficiaries/{ben}/request-form", STAFF),
    "committee.sessions": rule("GET", "/committee/", COMMITTEE_READ),
    "committee.create_session": rule("POST", "/committee/sessions", ("committee", "admin")),
    "committee.session": rule("GET", "/committee/sessions/{session}", COMMITTEE_READ),
    "committee.refresh": rule("POST", "/committee/sessions/{session}/refresh", ("committee", "admin")),
    "committee.vote": rule("POST", "/committee/sessions/{session}/cases/{case}/vote", ("committee",)),
    "committee.decide": rule("POST", "/committee/sessions/{session}/cases/{case}/decide", ("committee",)),
    "committee.close": rule("POST", "/committee/sessions/{session}/close", ("committee",)),
    "committee.minutes": rule("GET", "/committee/sessions/{session}/minutes", COMMITTEE_READ),
    "outreach.queue": rule("GET", "/outreach/", OUTREACH_READ),
    "outreach.complete": rule("POST", "/outreach/{task}/complete", INTAKE),
    "outreach.assign": rule("POST", "/outreach/{task}/assign", INTAKE),
    "library.index": rule("GET", "/library/", STAFF),
    "library.create": rule("POST", "/library/", ("admin",)),
    "library.show": rule("GET", "/library/{libdoc}", STAFF),
    "library.add_version": rule("POST", "/library/{libdoc}/versions", ("admin",)),
    "library.file": rule("GET", "/library/versions/{libversion}/file", STAFF),
    "request_types.index": rule("GET", "/admin/request-types", ("admin",)),
    "request_types.new": rule("GET", "/admin/request-types/new", ("admin",)),
    "request_types.edit": rule("GET", "/admin/request-types/{rtype}", ("admin",)),
    "request_types.add_question": rule("POST", "/admin/request-types/{rtype}/questions", ("admin",)),
    "request_types.retire_question": rule("POST", "/admin/request-types/{rtype}/questions/{question}/retire",
                                          ("admin",)),
    "request_types.declaration": rule("GET", "/admin/declaration", ("admin",)),
    "request_types.notice_texts": rule("GET", "/admin/notices", ("admin",)),
    "request_types.notice_text": rule("GET", "/admin/notices/submitted", ("admin",)),
    "cases_api.get_case": rule("GET", "/api/v1/cases/{case}", STAFF, anonymous="401"),
    "cases_api.open_case": rule("POST", "/api/v1/cases", INTAKE, anonymous="401"),
    "cases_api.transition": rule("POST", "/api/v1/cases/{case}/withdraw", INTAKE, anonymous="401"),
    # branch and assignment: {case} is assigned to the researcher, {case_unassigned} (TAIF) is not,
    # {case_other} belongs to the MKK file (neither the TAIF delegate's nor the researcher's)
    "cases.show@unassigned": rule("GET", "/cases/{case_unassigned}", NOT_RESEARCHER),
    "cases.show@other_branch": rule("GET", "/cases/{case_other}", FULL),
    "cases.request_form@unassigned": rule("GET", "/cases/{case_unassigned}/request-form", NOT_RESEARCHER),
    "cases.request_form@other_branch": rule("GET", "/cases/{case_other}/request-form", FULL),
    "cases.new@other_branch": rule("GET", "/beneficiaries/{ben_other}/cases/new", ("officer", "admin")),
    "cases.submit@other_branch": rule("POST", "/cases/{case_other}/submit", ("officer", "admin")),
    "cases.blank_request_form@other_branch": rule("GET", "/beneficiaries/{ben_other}/request-form", FULL),
    "cases_api.get_case@unassigned": rule("GET", "/api/v1/cases/{case_unassigned}", NOT_RESEARCHER,
                                          anonymous="401", hidden=("researcher",)),
    "cases_api.get_case@other_branch": rule("GET", "/api/v1/cases/{case_other}", FULL, anonymous="401",
                                            hidden=("researcher", "delegate")),
    "cases_api.transition@other_branch": rule("POST", "/api/v1/cases/{case_other}/withdraw", ("officer", "admin"),
                                              anonymous="401", hidden=("delegate", "researcher")),
}


def FIXTURES(app):
    """An in-research request of the TAIF beneficiary assigned to the researcher, with a report
    attachment; a committee session chaired by the committee user; an outreach task; a library
    document with a version; a request type with a question."""
    import datetime as dt
    import io

    from werkzeug.datastructures import FileStorage

    from portal.models import Beneficiary, Branch, Document, User
    from portal.workflow import intake, research
    from portal.workflow.committee import open_session
    from portal.workflow.defaults import ensure_default_request_types
    from portal.workflow.library import add_version, ensure_default_tools
    from portal.workflow.models import EligibilityQuestion, LibraryDocument, RequestType
    from portal.workflow.outreach import create_task

    ensure_default_request_types()
    ensure_default_tools()
    taif = Branch.get(Branch.code == "TAIF")
    ben = Beneficiary.select().where(Beneficiary.branch == taif).first()
    officer = User.get(User.username == "officer")
    researcher = User.get(User.username == "researcher")
    chair = User.get(User.username == "committee")
    Document.create(beneficiary=ben, kind="national_id", expiry_date=dt.date.today() + dt.timedelta(days=300))
    Document.create(beneficiary=ben, kind="family_card")
    case = intake.open_request(ben, "food_basket", channel="interview", actor=officer,
                               answers={str(q.id): "3" for q in intake.questions(intake.get_request_type("food_basket"))})
    intake.submit(case, actor=officer)
    research.refer(case, researcher=researcher, reason="زيارة", actor=officer)
    from pdf_samples import MINIMAL_PDF as pdf
    report = research.record_report(case, actor=researcher, data={
        "visit_date": dt.date.today().isoformat(), "household_situation": "x", "needs": "y",
        "recommendation": "approve"}, files=[FileStorage(io.BytesIO(pdf), filename="visit.pdf")])
    from committee_helpers import open_trio_session

    session = open_trio_session()
    task = create_task(beneficiary=ben, kind="follow_up", reason="اتصال", due=dt.date.today(), key="access-test")
    libdoc = LibraryDocument.get(LibraryDocument.kind == "bylaws")
    version = add_version(libdoc, label="1", effective_from="1445-01-01",
                          upload=FileStorage(io.BytesIO(pdf), filename="bylaws.pdf"))
    rtype = RequestType.get(RequestType.code == "financial_aid")
    question = EligibilityQuestion.select().where(EligibilityQuestion.request_type == rtype).first()
    answers = {str(q.id): "3" for q in intake.questions(intake.get_request_type("food_basket"))}
    unassigned = intake.open_request(ben, "food_basket", channel="interview", actor=officer, answers=answers)
    other = Beneficiary.select().where(Beneficiary.branch == Branch.get(Branch.code == "MKK")).first()
    other_case = intake.open_request(other, "food_basket", channel="interview", actor=officer, answers=answers)
    return {"case": case.reference, "case_unassigned": unassigned.reference, "case_other": other_case.reference,
            "attachment": report.attachments[0].id, "session": session.id, "task": task.id,
            "libdoc": libdoc.id, "libversion": version.id, "rtype": rtype.id, "question": question.id}
