"""Access rules of the core's routes."""
from . import STAFF, rule

EDIT = ("officer", "delegate", "admin")
CONTACT = ("officer", "delegate", "researcher", "admin")
FULL = ("admin", "officer", "manager", "committee")  # see every file (portal.scope)

ACCESS = {
    "static": rule("GET", "/static/css/app.css", STAFF, anonymous="ok"),
    "assets.font": rule("GET", "/fonts/amiri-400.ttf", STAFF, anonymous="ok"),
    "assets.set_language": rule("POST", "/language", STAFF, anonymous="ok"),
    "auth.login": rule("GET", "/login", STAFF, anonymous="ok"),
    "auth.logout": rule("POST", "/logout", STAFF, signs_out=True),
    # Without a password just accepted (a pending two-step sign-in) everyone is sent back to /login.
    "auth.login_two_step": rule("GET", "/login/two-step", STAFF, signs_out=True),
    "auth.change_password": rule("GET", "/account/password", STAFF),
    "auth.two_step": rule("GET", "/account/two-step", ("admin",)),
    "dashboard.index": rule("GET", "/", STAFF),
    "beneficiaries.index": rule("GET", "/beneficiaries/", STAFF),
    "beneficiaries.create": rule("GET", "/beneficiaries/new", EDIT),
    "beneficiaries.edit": rule("GET", "/beneficiaries/{ben}/edit", EDIT),
    "beneficiaries.profile": rule("GET", "/beneficiaries/{ben}", STAFF),
    "beneficiaries.add_household": rule("POST", "/beneficiaries/{ben}/household", EDIT),
    "beneficiaries.add_document": rule("POST", "/beneficiaries/{ben}/documents", EDIT),
    "beneficiaries.document_file": rule("GET", "/beneficiaries/{ben}/documents/{doc}/file", STAFF),
    "timeline.timeline": rule("GET", "/beneficiaries/{ben}/timeline", STAFF),
    "timeline.log_contact": rule("POST", "/beneficiaries/{ben}/contacts", CONTACT),
    "timeline.follow_up_done": rule("POST", "/timeline/{entry}/follow-up-done", CONTACT),
    "admin.users": rule("GET", "/admin/users", ("admin",)),
    "admin.new_user": rule("GET", "/admin/users/new", ("admin",)),
    "admin.edit_user": rule("GET", "/admin/users/{user}", ("admin",)),
    "admin.plugins": rule("GET", "/admin/plugins", ("admin",)),
    "admin.health": rule("GET", "/admin/health", ("admin",)),
    "admin.health_probe": rule("POST", "/admin/health/probe", ("admin",)),
    "api.list_beneficiaries": rule("GET", "/api/v1/beneficiaries", STAFF, anonymous="401"),
    "api.create_beneficiary": rule("POST", "/api/v1/beneficiaries", EDIT, anonymous="401"),
    "api.get_beneficiary": rule("GET", "/api/v1/beneficiaries/{ben}", STAFF, anonymous="401"),
    "api.get_timeline": rule("GET", "/api/v1/beneficiaries/{ben}/timeline", STAFF, anonymous="401"),
    "api.post_timeline": rule("POST", "/api/v1/timeline", CONTACT, anonymous="401"),
    "api.openapi": rule("GET", "/api/v1/openapi.json", STAFF, anonymous="ok"),
    # branch and assignment: {ben} (TAIF) has a request assigned to the researcher; {ben_other} (MKK)
    # is neither the TAIF delegate's nor the researcher's
    "beneficiaries.profile@other_branch": rule("GET", "/beneficiaries/{ben_other}", FULL),
    "beneficiaries.edit@other_branch": rule("GET", "/beneficiaries/{ben_other}/edit", ("officer", "admin")),
    "beneficiaries.add_household@other_branch": rule("POST", "/beneficiaries/{ben_other}/household",
                                                     ("officer", "admin")),
    "timeline.timeline@other_branch": rule("GET", "/beneficiaries/{ben_other}/timeline", FULL),
    "timeline.log_contact@other_branch": rule("POST", "/beneficiaries/{ben_other}/contacts", ("officer", "admin")),
    "api.get_beneficiary@other_branch": rule("GET", "/api/v1/beneficiaries/{ben_other}", FULL, anonymous="401",
                                             hidden=("delegate", "researcher")),
    "api.get_timeline@other_branch": rule("GET", "/api/v1/beneficiaries/{ben_other}/timeline", FULL,
                                          anonymous="401", hidden=("delegate", "researcher")),
}
ACCESS.update({
    "beneficiaries.export": rule("GET", "/beneficiaries/export.csv", STAFF),
    "cases.export": rule("GET", "/cases/export.xlsx", STAFF),
    "outreach.export": rule("GET", "/outreach/export.csv", ("officer", "delegate", "manager", "admin")),
    "outbox.export": rule("GET", "/outbox/export.xlsx", ("officer", "admin")),
    "audit.export_xlsx": rule("GET", "/admin/audit.xlsx", ("admin", "manager")),
})
ACCESS.update({
    "imports.index": rule("GET", "/imports/", EDIT),
    "imports.mapping": rule("GET", "/imports/{import_run}/mapping", EDIT),
    "imports.show": rule("GET", "/imports/{import_run}", EDIT),
    "imports.progress": rule("GET", "/imports/{import_run}/progress", EDIT),
    "imports.start": rule("POST", "/imports/{import_run}/run", EDIT),
    "imports.rejected": rule("GET", "/imports/{import_run}/rejected.xlsx", EDIT),
    "api.post_import": rule("POST", "/api/v1/imports", EDIT, anonymous="401"),
})


def FIXTURES(app):
    """``{import_run}``: a stored, checked spreadsheet (the delegate's own, so every editing role may open it)."""
    from portal import imports
    from portal.models import User

    data = "الاسم,رقم الهوية,الجوال,الجنس\nسارة عبدالله سعد الحربي,1000000008,0501234567,أنثى\n".encode()
    run = imports.store_file(data, "a.csv", actor=User.get(User.username == "delegate"))
    imports.execute(run.id, dry_run=True)
    return {"import_run": run.id}
