"""Access rules of the letters plugin's routes."""
from . import STAFF, rule

READ = ("admin", "officer", "manager", "researcher", "committee")
# {letter} and {incoming} belong to no request: a researcher sees only the letters of requests assigned to
# them ({letter_assigned}, {incoming_assigned})
READ_ALL = ("admin", "officer", "manager", "committee")
ISSUE = ("admin", "officer", "manager")
REGISTER = ("admin", "officer")
DOWNLOAD = ("admin", "officer", "manager")
REVOKE = ("admin", "manager")
ADMIN = ("admin",)
TEMPLATES = ("admin", "manager")  # the structured template editor (the raw one is for admins inside it)
MINUTES = ("admin", "officer", "manager", "committee")


def FIXTURES(app):
    """An outgoing letter, an incoming scan, a batch and a template to aim the rules at."""
    import datetime as dt
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from plugins.letters import service
    from plugins.letters.models import LetterBatch
    from portal.models import Beneficiary
    from portal.uploads import store_upload

    if True:  # runs inside the access test's app context and connection
        ben = Beneficiary.select().order_by(Beneficiary.id).first()
        general = service.template_by_key("general")
        letter = service.issue_letter(template=general, beneficiary=ben,
                                      extra={"subject_text": "اختبار", "body_text": "نص"})
        buffer = io.BytesIO()
        Image.new("L", (200, 280), 255).save(buffer, "PNG")
        stored = store_upload(FileStorage(io.BytesIO(buffer.getvalue()), filename="scan.png"))
        incoming = service.register_incoming(stored=stored, sender="مستشفى", subject="تقرير", beneficiary=ben)
        batch = LetterBatch.create(template=general, case_ids=[], status="done")
        from plugins.letters.models import PrintJob

        print_job = PrintJob.create(letter=letter, purpose="research_referral")
        from portal.models import Case, User

        researcher = User.get(User.username == "researcher")
        assigned = Case.create(reference="1448-990001", beneficiary=ben, request_type="food_basket",
                               status="in_research", assigned_researcher=researcher)
        letter_assigned = service.issue_letter(template=general, beneficiary=ben, case=assigned,
                                               extra={"subject_text": "اختبار", "body_text": "نص"})
        stored = store_upload(FileStorage(io.BytesIO(buffer.getvalue()), filename="scan2.png"))
        incoming_assigned = service.register_incoming(stored=stored, sender="مستشفى", subject="تقرير",
                                                      beneficiary=ben, case=assigned)
        session_id = 0
        workflow = service.workflow_models()
        if workflow is not None:
            from portal.models import User

            chair = User.get(User.username == "committee")
            session_id = workflow.CommitteeSession.create(held_on=dt.date.today(), chair=chair, quorum=1).id
    return {"letter_assigned": letter_assigned.id, "letter_assigned_number": letter_assigned.number,
            "incoming_assigned": incoming_assigned.id,
            "session": session_id, "letter": letter.id, "letter_number": letter.number, "incoming": incoming.id, "batch": batch.id,
            "template": general.id, "verify_code": letter.verify_code, "print_job": print_job.id}


ACCESS = {
    "letters.print_queue": rule("GET", "/letters/print-queue", REGISTER),
    "letters.print_done": rule("POST", "/letters/print-queue/{print_job}/printed", REGISTER),
    "letters.outgoing": rule("GET", "/letters/", READ),
    "letters.outgoing_csv": rule("GET", "/letters/outgoing.csv", READ),
    "letters.outgoing_xlsx": rule("GET", "/letters/outgoing.xlsx", READ),
    "letters.letter": rule("GET", "/letters/out/{letter}", READ_ALL),
    "letters.letter_pdf": rule("GET", "/letters/out/{letter}/pdf", READ_ALL),
    "letters.revoke": rule("POST", "/letters/out/{letter}/revoke", REVOKE),
    "letters.reissue": rule("POST", "/letters/out/{letter}/reissue", ISSUE),
    "letters.send": rule("POST", "/letters/out/{letter}/send", ISSUE),
    "letters.issue_form": rule("GET", "/letters/issue", ISSUE),
    "letters.issue": rule("POST", "/letters/issue", ISSUE),
    "letters.issue_preview_pdf": rule("POST", "/letters/issue/preview.pdf", ISSUE),
    "letters.verify_form": rule("GET", "/letters/verify", STAFF, anonymous="ok"),
    "letters.verify": rule("GET", "/letters/verify/{letter_number}?c={verify_code}", STAFF, anonymous="ok"),
    "letters.incoming": rule("GET", "/letters/incoming", READ),
    "letters.incoming_csv": rule("GET", "/letters/incoming.csv", READ),
    "letters.incoming_xlsx": rule("GET", "/letters/incoming.xlsx", READ),
    "letters.new_incoming": rule("GET", "/letters/incoming/new", REGISTER),
    "letters.create_incoming": rule("POST", "/letters/incoming/new", REGISTER),
    "letters.incoming_letter": rule("GET", "/letters/incoming/{incoming}", READ_ALL),
    "letters.incoming_file": rule("GET", "/letters/incoming/{incoming}/file", DOWNLOAD),
    "letters.incoming_page": rule("GET", "/letters/incoming/{incoming}/pages/1.png", DOWNLOAD),
    "letters.rerun_ocr": rule("POST", "/letters/incoming/{incoming}/ocr", REGISTER),
    "letters.templates": rule("GET", "/letters/templates", TEMPLATES),
    "letters.new_template": rule("GET", "/letters/templates/new", TEMPLATES),
    "letters.edit_template": rule("GET", "/letters/templates/{template}", TEMPLATES),
    "letters.preview_template": rule("POST", "/letters/templates/preview", TEMPLATES),
    "letters.batches": rule("GET", "/letters/batches", ISSUE),
    "letters.batch": rule("GET", "/letters/batches/{batch}", ISSUE),
    "letters.batch_pdf": rule("GET", "/letters/batches/{batch}/pdf", ISSUE),
    "letters.session_minutes": rule("POST", "/letters/committee/{session}/minutes", MINUTES),
    "letters.static": rule("GET", "/letters/static/template-editor.js", STAFF, anonymous="ok"),
    "letters.status": rule("GET", "/letters/status", ADMIN),
    "letters.api_issue": rule("POST", "/api/v1/letters", ISSUE, anonymous="401"),
    "letters.api_pdf": rule("GET", "/api/v1/letters/{letter_number}.pdf", READ_ALL, anonymous="401",
                            hidden=("researcher",)),
    "letters.letter@assigned": rule("GET", "/letters/out/{letter_assigned}", READ),
    "letters.letter_pdf@assigned": rule("GET", "/letters/out/{letter_assigned}/pdf", READ),
    "letters.incoming_letter@assigned": rule("GET", "/letters/incoming/{incoming_assigned}", READ),
    "letters.incoming_page@assigned": rule("GET", "/letters/incoming/{incoming_assigned}/pages/1.png", DOWNLOAD),
    "letters.api_pdf@assigned": rule("GET", "/api/v1/letters/{letter_assigned_number}.pdf", READ,
                                     anonymous="401"),
}
