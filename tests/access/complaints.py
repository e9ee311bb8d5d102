"""Access rules of the complaints register: officers, managers and admins handle it; managers and admins keep
the themes and "You said, we did"; researchers, committee members and delegates do not see it."""
from . import rule

REGISTER = ("officer", "manager", "admin")
MANAGE = ("manager", "admin")

ACCESS = {
    "complaints.index": rule("GET", "/complaints/", REGISTER),
    "complaints.new": rule("GET", "/complaints/new", REGISTER),
    "complaints.show": rule("GET", "/complaints/{complaint}", REGISTER),
    "complaints.link_file": rule("POST", "/complaints/{complaint}/link-file", REGISTER),
    "complaints.link_request": rule("POST", "/complaints/{complaint}/link-request", REGISTER),
    "complaints.assign": rule("POST", "/complaints/{complaint}/assign", REGISTER),
    "complaints.answer": rule("POST", "/complaints/{complaint}/answer", REGISTER),
    "complaints.close": rule("POST", "/complaints/{complaint}/close", REGISTER),
    "complaints.theme": rule("POST", "/complaints/{complaint}/theme", MANAGE),
    "complaints.themes": rule("GET", "/complaints/themes", MANAGE),
    "complaints.improvements": rule("GET", "/complaints/improvements", MANAGE),
    "complaints.improvement_form": rule("GET", "/complaints/improvements/new", MANAGE),
    "complaints_api.list_complaints": rule("GET", "/api/v1/complaints", REGISTER, anonymous="401"),
}


def FIXTURES(app):
    """``{complaint}``: an entry not linked to a file; ``{improvement}``: a "you said, we did" entry."""
    import datetime as dt

    from portal.complaints import open_complaint
    from portal.complaints.models import Improvement

    improvement = Improvement.create(said_ar="الانتظار طويل", did_ar="زدنا موظفي الاستقبال", done_on=dt.date(2026, 11, 1))
    return {"complaint": open_complaint(kind="complaint", channel="phone", text="شكوى").id,
            "improvement": improvement.id}
