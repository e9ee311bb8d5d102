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
    # {delegates_plan}: a stop of the TAIF delegate's route (theirs to change; officers and admins change any)
    "delegates.plan_move": rule("POST", "/delegates/plan/{delegates_plan}/move", PLAN),
    "delegates.plan_remove": rule("POST", "/delegates/plan/{delegates_plan}/remove", PLAN),
    "delegates.reports": rule("GET", "/delegates/reports", REPORT),
    # a photo of a visit to {ben} ({delegates_photo}): whoever sees the file's timeline (as timeline.timeline);
    # the TAIF delegate and the researcher are refused one of an MKK file
    "delegates.photo": rule("GET", "/delegates/photos/{delegates_photo}", STAFF),
    "delegates.photo@other_branch": rule("GET", "/delegates/photos/{delegates_photo_other}",
                                         ("admin", "officer", "manager", "committee")),
    "delegates.static": rule("GET", "/delegates/static/offline.js", STAFF, anonymous="ok"),
    "delegates.api_visits": rule("GET", "/api/v1/delegates/visits", API_READ, anonymous="401"),
    "delegates.api_visit_create": rule("POST", "/api/v1/delegates/visits", FIELD, anonymous="401"),
}


def FIXTURES(app):
    """``{delegates_photo}`` a photo of a visit to ``{ben}`` (TAIF), ``{delegates_photo_other}`` one to a file
    of MKK, ``{delegates_plan}`` a visit to ``{ben}`` on the TAIF delegate's route of today."""
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from plugins.delegates.models import Plan
    from portal.dates import saudi_today
    from portal.models import Attachment, Beneficiary, Branch, User
    from portal.timeline import log_entry
    from portal.uploads import store_upload

    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    stored = store_upload(FileStorage(io.BytesIO(out.getvalue()), filename="card.png"))
    values = {}
    for key, code in (("delegates_photo", "TAIF"), ("delegates_photo_other", "MKK")):
        ben = Beneficiary.select().join(Branch).where(Branch.code == code).order_by(Beneficiary.id).first()
        entry = log_entry(channel="delegates", direction="out", summary="زيارة", beneficiary=ben,
                          data={"kind": "visit", "needs": "ترميم"})
        values[key] = Attachment.create(entry=entry, sha256=stored.sha256, file_name="card.png",
                                        content_type=stored.content_type, size=stored.size).id
    ben = Beneficiary.select().join(Branch).where(Branch.code == "TAIF").order_by(Beneficiary.id).first()
    values["delegates_plan"] = Plan.create(delegate=User.get(User.username == "delegate"), beneficiary=ben,
                                           day=saudi_today(), position=1).id
    return values
