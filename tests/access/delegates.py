"""Access rules of the delegates channel's routes: the delegate's phone screens (route, field visit, contact,
request in the field), the planning of visits, the branch reports and the visits API."""
from . import STAFF, rule

FIELD = ("delegate",)
PLAN = ("delegate", "officer", "admin")
REPORT = ("manager", "admin", "delegate")
API_READ = ("delegate", "officer", "manager", "admin")

ACCESS = {
    "delegates.today": rule("GET", "/delegates/", FIELD),
    "delegates.csrf_token": rule("GET", "/delegates/csrf-token", FIELD),
    "delegates.visit_form": rule("GET", "/delegates/beneficiaries/{ben}/visit", FIELD),
    "delegates.visit_create": rule("POST", "/delegates/beneficiaries/{ben}/visit", FIELD),
    "delegates.contact_form": rule("GET", "/delegates/beneficiaries/{ben}/contact", FIELD),
    "delegates.contact_create": rule("POST", "/delegates/beneficiaries/{ben}/contact", FIELD),
    "delegates.request_form": rule("GET", "/delegates/beneficiaries/{ben}/request", FIELD),
    "delegates.request_create": rule("POST", "/delegates/beneficiaries/{ben}/request", FIELD),
    # the TAIF delegate is refused the files of another branch, whatever the form
    "delegates.visit_form@other_branch": rule("GET", "/delegates/beneficiaries/{ben_other}/visit", ()),
    "delegates.visit_create@other_branch": rule("POST", "/delegates/beneficiaries/{ben_other}/visit", ()),
    "delegates.contact_create@other_branch": rule("POST", "/delegates/beneficiaries/{ben_other}/contact", ()),
    "delegates.request_create@other_branch": rule("POST", "/delegates/beneficiaries/{ben_other}/request", ()),
    "delegates.plan_form": rule("GET", "/delegates/plan", PLAN),
    "delegates.plan_add": rule("POST", "/delegates/plan", PLAN),
    "delegates.reports": rule("GET", "/delegates/reports", REPORT),
    "delegates.static": rule("GET", "/delegates/static/offline.js", STAFF, anonymous="ok"),
    "delegates.api_visits": rule("GET", "/api/v1/delegates/visits", API_READ, anonymous="401"),
    "delegates.api_visit_create": rule("POST", "/api/v1/delegates/visits", FIELD, anonymous="401"),
}
