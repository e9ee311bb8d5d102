"""Every route AND every method of the URL map is covered by an access rule, and the writing sides hold.

``tests/access/*.py`` declare one method per endpoint; ``EXTRA`` below declares the other methods of
the same endpoints (the POST side of a GET+POST form, the GET side of a public form, each action URL of
the case API). Then, for every POST side of a route that is not public:

- every role that must not use it gets its refusal (403, 401 for the API, the sign-in redirect when
  anonymous) and nothing is written: the row count of every table is the same before and after;
- with CSRF protection on (as in production), a signed-in user allowed to use it who sends no CSRF token
  is refused with 400, and nothing is written (the API and the signed webhooks use no cookies and are exempt).

The refusals are checked on one app per test (a refused request changes nothing, so one request cannot
disturb the next), so the whole table costs a handful of app builds.
"""
from __future__ import annotations

import pytest

from access import ROLES, STAFF, endpoint_of, rule
from access.core import CONTACT
from access.complaints import MANAGE as COMPLAINTS_MANAGE
from access.complaints import REGISTER as COMPLAINTS
from access.core import EDIT as CORE_EDIT
from access.letters import TEMPLATES as LETTERS_TEMPLATES
from access.letters import ISSUE, REGISTER
from access.phone import PHONE
from access.satisfaction import RECORD as SURVEY_RECORD
from access.workflow import INTAKE
from conftest import luhn_id
from portal.db import database
from test_access import TABLE, placeholders  # noqa: F401 - placeholders is a fixture used below

ADMIN = ("admin",)
ANSWER = ("officer", "admin")
# The case API's actions: one URL each (portal/workflow/api.py `_may`).
CASE_ACTIONS = {
    "submit": INTAKE, "mark_incomplete": INTAKE, "refer": INTAKE, "register": INTAKE, "serve": INTAKE,
    "close": INTAKE, "withdraw": INTAKE,
    # send_to_committee: officer, admin, and the researcher the request is assigned to ({case} is).
    "send_to_committee": ("officer", "researcher", "admin"),
    "approve": ("committee",), "reject": ("committee",),
}


def public(method, url):
    return rule(method, url, STAFF, anonymous="ok")


# The methods tests/access/*.py does not declare, keyed by (endpoint, method, url): same placeholders.
EXTRA = {
    ("auth.login", "POST", "/login"): public("POST", "/login"),
    ("auth.login_two_step", "POST", "/login/two-step"): rule("POST", "/login/two-step", STAFF, signs_out=True),
    ("auth.change_password", "POST", "/account/password"): rule("POST", "/account/password", STAFF),
    ("auth.two_step", "POST", "/account/two-step"): rule("POST", "/account/two-step", ADMIN),
    ("admin.new_user", "POST", "/admin/users/new"): rule("POST", "/admin/users/new", ADMIN),
    ("admin.edit_user", "POST", "/admin/users/{user}"): rule("POST", "/admin/users/{user}", ADMIN),
    ("beneficiaries.create", "POST", "/beneficiaries/new"): rule("POST", "/beneficiaries/new", CORE_EDIT),
    ("beneficiaries.edit", "POST", "/beneficiaries/{ben}/edit"): rule("POST", "/beneficiaries/{ben}/edit", CORE_EDIT),
    ("cases.new", "POST", "/beneficiaries/{ben}/cases/new"): rule("POST", "/beneficiaries/{ben}/cases/new", INTAKE),
    ("request_types.new", "POST", "/admin/request-types/new"): rule("POST", "/admin/request-types/new", ADMIN),
    ("request_types.edit", "POST", "/admin/request-types/{rtype}"): rule("POST", "/admin/request-types/{rtype}",
                                                                         ADMIN),
    ("request_types.declaration", "POST", "/admin/declaration"): rule("POST", "/admin/declaration", ADMIN),
    ("letters.batches", "POST", "/letters/batches"): rule("POST", "/letters/batches", ISSUE),
    ("letters.new_template", "POST", "/letters/templates/new"): rule("POST", "/letters/templates/new",
                                                                     LETTERS_TEMPLATES),
    ("letters.edit_template", "POST", "/letters/templates/{template}"): rule(
        "POST", "/letters/templates/{template}", LETTERS_TEMPLATES),
    ("phone.new_call", "POST", "/phone/calls/new"): rule("POST", "/phone/calls/new", PHONE),
    ("phone.call_detail", "POST", "/phone/calls/{call}"): rule("POST", "/phone/calls/{call}", PHONE),
    ("phone.cdr_upload", "POST", "/phone/cdr"): rule("POST", "/phone/cdr", PHONE),
    ("social.log_other", "POST", "/social/log"): rule("POST", "/social/log", CONTACT),
    ("sms.compose", "POST", "/sms/to/{ben}"): rule("POST", "/sms/to/{ben}", ("officer", "admin", "delegate")),
    # Managers read the website queue; only officers and admins answer or decide (ANSWER_ROLES).
    ("website.inquiry_detail", "POST", "/website/inbox/{inquiry}"): rule("POST", "/website/inbox/{inquiry}",
                                                                         ANSWER),
    ("website.application_detail", "POST", "/website/applications/{pending}"): rule(
        "POST", "/website/applications/{pending}", ANSWER),
    ("website.edit_page", "POST", "/website/pages/home/ar"): rule("POST", "/website/pages/home/ar", ADMIN),
    ("website.faq_admin", "POST", "/website/faq"): rule("POST", "/website/faq", ADMIN),
    ("website.contact_settings", "POST", "/website/contact-details"): rule("POST", "/website/contact-details", ADMIN),
    ("website.faq_edit", "POST", "/website/faq/{faq}"): rule("POST", "/website/faq/{faq}", ADMIN),
    ("website.ask", "GET", "/site/ask"): public("GET", "/site/ask"),
    ("website.volunteer", "GET", "/site/volunteer"): public("GET", "/site/volunteer"),
    ("website.track", "GET", "/site/track"): public("GET", "/site/track"),
    ("website.track_code", "GET", "/site/track/code"): public("GET", "/site/track/code"),
    ("website.apply_resume", "GET", "/site/apply/resume"): public("GET", "/site/apply/resume"),
    ("website.apply_step", "GET", "/site/apply/applicant"): public("GET", "/site/apply/applicant"),
    ("request_types.notice_text", "POST", "/admin/notices/submitted"): rule("POST", "/admin/notices/submitted", ADMIN),
    ("satisfaction.questions", "POST", "/admin/satisfaction/questions"): rule(
        "POST", "/admin/satisfaction/questions", ADMIN),
    ("satisfaction.record", "POST", "/beneficiaries/{ben}/survey"): rule("POST", "/beneficiaries/{ben}/survey",
                                                                          SURVEY_RECORD),
    ("satisfaction_public.rate", "POST", "/site/rate/{survey_token}"): public("POST", "/site/rate/{survey_token}"),
    ("complaints.new", "POST", "/complaints/new"): rule("POST", "/complaints/new", COMPLAINTS),
    ("complaints.themes", "POST", "/complaints/themes"): rule("POST", "/complaints/themes", COMPLAINTS_MANAGE),
    ("complaints.improvement_form", "POST", "/complaints/improvements/new"): rule(
        "POST", "/complaints/improvements/new", COMPLAINTS_MANAGE),
    ("complaints.improvement_form", "GET", "/complaints/improvements/{improvement}"): rule(
        "GET", "/complaints/improvements/{improvement}", COMPLAINTS_MANAGE),
    ("complaints.improvement_form", "POST", "/complaints/improvements/{improvement}"): rule(
        "POST", "/complaints/improvements/{improvement}", COMPLAINTS_MANAGE),
    ("imports.index", "POST", "/imports/"): rule("POST", "/imports/", CORE_EDIT),
    ("imports.mapping", "POST", "/imports/{import_run}/mapping"): rule("POST", "/imports/{import_run}/mapping",
                                                                        CORE_EDIT),
    ("website.apply_link", "POST", "/site/apply/link/{apply_link}"): public("POST", "/site/apply/link/{apply_link}"),
    **{("cases_api.transition", "POST", f"/api/v1/cases/{{case}}/{action}"):
       rule("POST", f"/api/v1/cases/{{case}}/{action}", roles, anonymous="401")
       for action, roles in CASE_ACTIONS.items() if action != "withdraw"},  # withdraw: tests/access/workflow.py
}

# Bodies that write when an allowed role sends them (test_bodies_write_for_an_allowed_role proves it), so
# that "a refused request writes nothing" is not only true of empty forms. Others are sent empty.
BODIES = {
    "timeline.log_contact": lambda v: {"channel": "interview", "direction": "in", "summary": "اتصال للمتابعة"},
    "privacy.correction": lambda v: {"field": "city", "requested_value": "جدة", "channel": "phone"},
    "website.inquiry_detail": lambda v: {"answer": "نعم، يمكنكم زيارة الفرع."},
    "website.contact_settings": lambda v: {"phone": "920012345", "address": "الطائف، حي الشهداء"},
    "beneficiaries.create": lambda v: {
        "first_name": "نورة", "father_name": "سالم", "grandfather_name": "فهد", "family_name": "العتيبي",
        "national_id": luhn_id("198765432"), "gender": "f", "mobile": "0559876543", "birth_date": "1985-03-14",
        "city": "الطائف", "district": "الشفا", "category": "low_income"},
    "api.post_timeline": lambda v: {"beneficiary": v["ben"], "channel": "phone", "summary": "اتصال"},
    "api.create_beneficiary": lambda v: {
        "first_name": "نورة", "father_name": "سالم", "grandfather_name": "فهد", "family_name": "العتيبي",
        "national_id": luhn_id("187654321"), "gender": "f", "mobile": "0558765432"},
}

# Every declaration: those of tests/access/*.py, then the ones above.
ALL = [(endpoint, spec) for endpoint, spec in sorted(TABLE.items())] + [
    (endpoint, spec) for (endpoint, _, _), spec in sorted(EXTRA.items())]
WRITES = [(endpoint, spec) for endpoint, spec in ALL if spec["method"] != "GET"]
GUARDED_WRITES = [(endpoint, spec) for endpoint, spec in WRITES if spec["anonymous"] != "ok"]
# CSRF-exempt: bearer-token API (no cookies) and the webhooks authenticated by a secret or a signature.
CSRF_EXEMPT = {"social.receive", "phone.cti", "letters.api_issue"}


class _AnyValue(dict):
    def __missing__(self, key):
        return "1"


def _path(url: str) -> str:
    return url.split("?")[0]


def test_every_route_and_method_is_declared(app):
    """Each (rule, method) of the URL map, HEAD and OPTIONS aside, has a declaration of its own."""
    adapter = app.url_map.bind("localhost")
    covered = set()
    for endpoint, spec in ALL:
        matched, _ = adapter.match(_path(spec["url"].format_map(_AnyValue())), method=spec["method"],
                                   return_rule=True)
        assert matched.endpoint == endpoint_of(endpoint), (
            f"{spec['url']} is {matched.endpoint}, declared as {endpoint}")
        if endpoint_of(endpoint) != endpoint:
            continue  # a branch or assignment case ("endpoint@case") checks a pair declared elsewhere again
        pair = (matched.rule, spec["method"])
        assert pair not in covered, f"{pair} declared twice (tests/access/ and EXTRA)"
        covered.add(pair)
    pairs = {(r.rule, m) for r in app.url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}}
    missing = sorted(pairs - covered)
    assert not missing, f"route and method without an access rule (tests/access/ or EXTRA here): {missing}"
    assert len(pairs) == len(covered) > 150


def _table_counts() -> dict[str, int]:
    return {t: database.obj.execute_sql(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # nosec B608 # catalog
            for t in sorted(database.obj.get_tables())}


def _counts(app) -> dict[str, int]:
    with app.app_context(), database.connection_context():
        return _table_counts()


def _send(client, spec, url, token=None, data=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if spec["method"] == "GET":
        return client.get(url, headers=headers)
    if url.startswith("/api/"):
        return client.open(url, method=spec["method"], headers=headers, json=data or {})
    return client.open(url, method=spec["method"], headers=headers, data=data or {})


def _changed(before: dict, after: dict) -> dict:
    return {t: (before.get(t), n) for t, n in after.items() if before.get(t) != n}


def test_refused_writes_change_nothing(app, client, auth, placeholders):  # noqa: F811
    """Every role (and an anonymous visitor) refused a POST side gets its refusal and writes no row."""
    values, tokens = placeholders
    failures = []
    for identity in (None, *ROLES):
        if identity:
            auth.login(identity)
        for endpoint, spec in GUARDED_WRITES:
            if identity is not None and identity in spec["allowed"]:
                continue
            url = spec["url"].format(**values)
            is_api = url.startswith("/api/")
            token = tokens[identity] if is_api and identity else None
            before = _counts(app)
            body = BODIES[endpoint](values) if endpoint in BODIES else None
            response = _send(client, spec, url, token=token, data=body)
            after = _counts(app)
            who = identity or "anonymous"
            if identity is None:
                if spec["anonymous"] == "login":
                    ok = response.status_code == 302 and "/login" in response.headers.get("Location", "")
                else:
                    ok = response.status_code == int(spec["anonymous"])
            elif identity in spec["hidden"]:
                ok = response.status_code == 404  # the API hides what this user may not see
            else:
                ok = response.status_code == spec["denied"]
            if not ok:
                failures.append(f"{who} {spec['method']} {url} ({endpoint}): status {response.status_code}")
            if before != after:
                failures.append(f"{who} {spec['method']} {url} ({endpoint}) wrote {_changed(before, after)}")
        if identity:
            auth.logout()
    assert not failures, "\n".join(failures)


def _spec(endpoint):
    return next(spec for e, spec in WRITES if e == endpoint)


@pytest.mark.parametrize("endpoint", sorted(BODIES))
def test_bodies_write_for_an_allowed_role(app, client, auth, placeholders, endpoint):  # noqa: F811
    """The bodies above are real changes: sent by a role that may, rows are written."""
    values, tokens = placeholders
    spec = _spec(endpoint)
    role = sorted(spec["allowed"])[0]
    url = spec["url"].format(**values)
    token = tokens[role] if url.startswith("/api/") else None
    if not token:
        auth.login(role)
    before = _counts(app)
    response = _send(client, spec, url, token=token, data=BODIES[endpoint](values))
    assert response.status_code in (200, 201, 302, 303), (role, response.status_code)
    assert _changed(before, _counts(app)), f"{role} on {endpoint}: the body wrote nothing"


def test_extra_methods_let_their_roles_through(app, client, auth, placeholders):  # noqa: F811
    """The roles EXTRA allows are not refused (the refusals are checked above)."""
    values, tokens = placeholders
    failures = []
    for role in ROLES:
        auth.login(role)
        for (endpoint, _, _), spec in sorted(EXTRA.items()):
            if role not in spec["allowed"]:
                continue
            url = spec["url"].format(**values)
            token = tokens[role] if url.startswith("/api/") else None
            response = _send(client, spec, url, token=token)
            if response.status_code in (401, 403):
                failures.append(f"{role} refused on {spec['method']} {url} ({endpoint})")
            elif (response.status_code == 302 and not spec["signs_out"]
                  and "/login" in response.headers.get("Location", "")):
                failures.append(f"{role} sent to sign in on {spec['method']} {url} ({endpoint})")
        auth.logout()
    assert not failures, "\n".join(failures)


@pytest.fixture
def csrf_app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_writes_without_csrf_token_are_refused(csrf_app_config, app, client, placeholders):  # noqa: F811
    """CSRF on: a signed-in user allowed to POST, sending no token, gets 400 and writes nothing."""
    from conftest import PASSWORD

    values, _ = placeholders
    failures = []
    checked = 0
    for role in ROLES:
        # Signing in is itself a form: take the token the sign-in page gives.
        page = client.get("/login").get_data(as_text=True)
        import re

        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        signed_in = client.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 302, f"{role} could not sign in with a CSRF token"
        for endpoint, spec in WRITES:
            url = spec["url"].format(**values)
            if endpoint in CSRF_EXEMPT or url.startswith("/api/") or endpoint == "auth.logout":
                continue
            if spec["anonymous"] != "ok" and role not in spec["allowed"]:
                continue
            before = _counts(app)
            response = _send(client, spec, url)
            after = _counts(app)
            checked += 1
            if response.status_code != 400:
                failures.append(f"{role} {spec['method']} {url} ({endpoint}) without token: {response.status_code}")
            if before != after:
                failures.append(f"{role} {spec['method']} {url} ({endpoint}) without token wrote "
                                f"{_changed(before, after)}")
        client.delete_cookie("session")
        client.delete_cookie("remember_token")
    assert not failures, "\n".join(failures)
    assert checked > 100
