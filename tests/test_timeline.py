"""The unified timeline: logging contacts (with and without htmx), keyset pages, filters, constant queries."""
import datetime as dt

import pytest
from conftest import text_of
from playhouse.test_utils import count_queries

from portal.db import database, utcnow
from portal.models import AuditEvent, TimelineEntry


def add_entries(app, ben, n, channels=("phone", "social", "letters", "interview", "website", "delegates")):
    now = utcnow()
    rows = [{"beneficiary": ben, "channel": channels[i % len(channels)], "direction": "in" if i % 2 else "out",
             "occurred_at": now - dt.timedelta(minutes=i), "summary": f"تواصل رقم {i}", "body": ""}
            for i in range(n)]
    with app.app_context(), database.connection_context():
        with database.atomic():
            for i in range(0, n, 200):
                TimelineEntry.insert_many(rows[i:i + 200]).execute()


def test_log_contact_with_htmx_returns_entry_and_fresh_form(client, auth, app, make_beneficiary):
    ben = make_beneficiary()
    auth.login()
    response = client.post(f"/beneficiaries/{ben}/contacts", headers={"HX-Request": "true"}, data={
        "channel": "interview", "direction": "in", "summary": "سأل عن موعد الصرف", "body": "اتصل صباحاً",
        "follow_up_due": "1448-06-25"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'hx-swap-oob="afterbegin:#timeline-rows"' in html
    assert "سأل عن موعد الصرف" in html
    assert 'id="contact-form"' in html and 'value="سأل' not in html  # the form is fresh
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get()
        assert (entry.channel, entry.direction, entry.actor.username) == ("interview", "in", "officer")
        assert entry.follow_up_due == dt.date(2026, 12, 5)
        assert AuditEvent.select().where(AuditEvent.object_type == "timeline_entry").count() == 1


def test_log_contact_without_javascript_redirects_to_profile(client, auth, make_beneficiary):
    ben = make_beneficiary()
    auth.login()
    response = client.post(f"/beneficiaries/{ben}/contacts", data={"channel": "interview", "direction": "out",
                                                                   "summary": "خطاب شكر"})
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/beneficiaries/{ben}")
    assert "خطاب شكر" in text_of(client.get(f"/beneficiaries/{ben}"))


@pytest.mark.parametrize(("data", "message"), [
    ({"channel": "interview", "summary": ""}, "required"),
    ({"channel": "fax", "summary": "x"}, "Not a valid choice"),
    ({"channel": "interview", "summary": "x" * 301}, "300"),
    ({"channel": "interview", "summary": "x", "follow_up_due": "1447-02-30"}, "Hijri date does not exist"),
    ({"channel": "interview", "summary": "x", "occurred_at": "2999-01-01T10:00"}, "future"),
    ({"channel": "interview", "summary": "x", "direction": "sideways"}, "Not a valid choice"),
])
def test_bad_contact_is_refused_and_keeps_input(client, auth, app, make_beneficiary, data, message):
    ben = make_beneficiary()
    auth.login()
    data = {"direction": "in", "body": "نص كتبه الموظف", **data}
    response = client.post(f"/beneficiaries/{ben}/contacts?lang=en", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "نص كتبه الموظف" in html
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().count() == 0


def test_generic_contact_form_leaves_out_channels_with_their_own_form(client, auth, app, make_beneficiary):
    """Letters, social and the website declare ``manual=False`` (they have their own form or source): the
    beneficiary's contact form neither offers nor accepts them; the other channels stay (phone too: a call
    logged there is recorded in the Calls log)."""
    ben = make_beneficiary()
    auth.login()
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    form = page[page.index('id="contact-form"'):]
    form = form[:form.index("</form>")]
    for key in ("letters", "social", "website"):
        assert f'value="{key}"' not in form
    for key in ("interview", "email", "delegates", "phone"):
        assert f'value="{key}"' in form
    response = client.post(f"/beneficiaries/{ben}/contacts?lang=en", headers={"HX-Request": "true"},
                           data={"channel": "letters", "direction": "out", "summary": "خطاب"})
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().count() == 0


def test_case_of_another_beneficiary_cannot_be_attached(client, auth, app, make_beneficiary):
    from portal.models import Case

    ben, other = make_beneficiary(), make_beneficiary()
    with app.app_context(), database.connection_context():
        case = Case.create(reference="1448-000001", beneficiary=other)
    auth.login()
    response = client.post(f"/beneficiaries/{ben}/contacts", data={"channel": "interview", "direction": "in",
                                                                   "summary": "x", "case": str(case.id)})
    assert response.status_code == 422
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().count() == 0


def test_timeline_newest_first_with_more_pages(client, auth, app, make_beneficiary):
    ben = make_beneficiary()
    add_entries(app, ben, 45)
    auth.login()
    page = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert page.index("تواصل رقم 0<") < page.index("تواصل رقم 1<")
    assert "تواصل رقم 19<" in page and "تواصل رقم 20<" not in page
    import re

    more = re.search(r'hx-get="([^"]+before=[^"]+)"', page).group(1).replace("&amp;", "&")
    fragment = client.get(more, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert "تواصل رقم 20<" in fragment and "تواصل رقم 39<" in fragment and "تواصل رقم 19<" not in fragment
    last = re.search(r'hx-get="([^"]+before=[^"]+)"', fragment).group(1).replace("&amp;", "&")
    tail = client.get(last, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "تواصل رقم 44<" in tail and "before=" not in tail
    # Without JavaScript the same link is a full page.
    assert "<html" in client.get(more).get_data(as_text=True)


def test_timeline_filters_by_channel_and_direction(client, auth, app, make_beneficiary):
    ben = make_beneficiary()
    add_entries(app, ben, 12)
    auth.login()
    html = client.get(f"/beneficiaries/{ben}/timeline?channel=letters&direction=out",
                      headers={"HX-Request": "true", "HX-Target": "timeline"}).get_data(as_text=True)
    assert html.lstrip().startswith('<div id="timeline">')
    shown = html.count('class="entry ')
    assert shown == 2  # entries 2 and 8 are letters; both even -> out
    assert 'class="entry dir-out ch-letters"' in html


def test_same_timestamp_entries_are_not_skipped(client, auth, app, make_beneficiary):
    ben = make_beneficiary()
    now = utcnow()
    with app.app_context(), database.connection_context():
        TimelineEntry.insert_many([{"beneficiary": ben, "channel": "phone", "occurred_at": now,
                                    "summary": f"نفس الوقت {i}", "body": ""} for i in range(30)]).execute()
    auth.login()
    seen, url = set(), f"/beneficiaries/{ben}/timeline"
    import re

    while url:
        html = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        seen.update(re.findall(r"نفس الوقت (\d+)<", html))
        match = re.search(r'hx-get="([^"]+before=[^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert len(seen) == 30


def _profile_queries(client, app, make_beneficiary, entries):
    from portal.models import Attachment, Case, Document, HouseholdMember

    ben = make_beneficiary()
    add_entries(app, ben, entries)
    with app.app_context(), database.connection_context():
        case = Case.create(reference=f"1448-{entries:06d}", beneficiary=ben)
        for entry in TimelineEntry.select().where(TimelineEntry.beneficiary == ben).limit(10):
            Attachment.create(entry=entry, sha256="0" * 64, file_name="scan.pdf", content_type="application/pdf",
                              size=2048)
            TimelineEntry.update(case=case).where(TimelineEntry.id == entry.id).execute()
        HouseholdMember.create(beneficiary=ben, name="ابن", relation="son")
        Document.create(beneficiary=ben, kind="national_id", expiry_date=dt.date(2020, 1, 1))
    client.get(f"/beneficiaries/{ben}")  # warm up
    with app.app_context():
        with count_queries() as profile:
            assert client.get(f"/beneficiaries/{ben}").status_code == 200
        with count_queries() as fragment:
            assert client.get(f"/beneficiaries/{ben}/timeline", headers={"HX-Request": "true"}).status_code == 200
    return profile.count, fragment.count


def test_profile_and_timeline_run_constant_queries(client, auth, app, make_beneficiary):
    auth.login()
    small = _profile_queries(client, app, make_beneficiary, 3)
    large = _profile_queries(client, app, make_beneficiary, 150)
    assert small == large, (small, large)
    # the file page: the file, its household, documents, requests, the complaints and survey panels, the link
    # to the volunteer record when the beneficiary volunteers (one query), the first timeline page with its
    # actors, cases and attachments
    assert small[0] <= 15 and small[1] <= 6, small


def test_follow_up_done_and_dashboard(client, auth, app, make_beneficiary):
    ben = make_beneficiary(family_name="المتابع")
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.create(beneficiary=ben, channel="phone", summary="عاود الاتصال",
                                     follow_up_due=dt.date.today())
    auth.login()
    marker = f'id="fu-{entry.id}"'
    assert marker in client.get("/").get_data(as_text=True)
    assert client.post(f"/timeline/{entry.id}/follow-up-done", headers={"HX-Request": "true"}).status_code == 200
    assert marker not in client.get("/").get_data(as_text=True)


def test_untrusted_text_is_escaped_and_direction_controls_removed(client, auth, app, make_beneficiary):
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        TimelineEntry.create(beneficiary=ben, channel="social", summary="<script>alert(1)</script>",
                             body="\u202eفاتورة gpj.exe <img src=x onerror=alert(1)>")
    auth.login()
    html = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html
    assert "\u202e" not in html


def test_dashboard_for_delegate_shows_only_own_branch(client, auth, app, make_beneficiary):
    inside = make_beneficiary(branch="TAIF", family_name="الطائفي")
    outside = make_beneficiary(branch="MKK", family_name="المكي")
    with app.app_context(), database.connection_context():
        for ben in (inside, outside):
            TimelineEntry.create(beneficiary=ben, channel="phone", summary=f"اتصال {ben}",
                                 follow_up_due=dt.date.today())
    auth.login("delegate")
    html = client.get("/").get_data(as_text=True)
    assert "الطائفي" in html and "المكي" not in html
    client.post("/logout")
    auth.login("officer")
    html = client.get("/").get_data(as_text=True)
    assert "الطائفي" in html and "المكي" in html


def test_core_draws_each_entry_frame_and_footer_around_the_channel_part(app_config, users, make_beneficiary):
    """A channel's renderer returns only its own part; the core draws the channel, direction, author and time
    above it and the request, follow-up and attachments below it, once, for every channel."""
    from markupsafe import Markup

    from portal import create_app, hookimpl
    from portal.models import Attachment, Beneficiary, Case, User

    class Renderer:
        @hookimpl
        def render_timeline_entry(self, entry, request):
            if entry.channel != "phone":
                return None
            return Markup('<p class="call-part">') + entry.summary + Markup("</p>")

    app = create_app(dict(app_config, EXTRA_PLUGINS=[Renderer()]))
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        case = Case.create(reference="1448-000321", beneficiary=Beneficiary.get_by_id(ben), request_type="rent",
                           status="submitted", channel="phone", submitted_at=dt.datetime(2026, 11, 20, 8, 0))
        officer = User.get_by_id(users["officer"])
        for channel in ("phone", "interview"):
            entry = TimelineEntry.create(beneficiary=ben, case=case, channel=channel, direction="in", actor=officer,
                                         summary=f"قيد {channel}", follow_up_due=dt.date(2026, 12, 1),
                                         occurred_at=utcnow())
            Attachment.create(entry=entry, sha256="0" * 64, file_name="صك.pdf", content_type="application/pdf",
                              size=2048)
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    page = client.get(f"/beneficiaries/{ben}?lang=en").get_data(as_text=True)
    for channel, part in (("phone", '<p class="call-part">قيد phone</p>'),
                          ("interview", '<p class="summary" dir="auto"><bdi dir="auto">قيد interview</bdi></p>')):
        entry = page.split(f'class="entry dir-in ch-{channel}"')[1].split("</li>")[0]
        head, rest = entry.split('<div class="entry-body">')
        body, foot = rest.split("</div>", 1)
        assert 'class="badge' in head and 'class="author">by <bdi>مستخدم officer</bdi>' in head
        assert '<span class="when">' in head and "1448" in head.split('<span class="when">')[1]  # Hijri beside Gregorian
        assert body.strip() == part
        assert 'href="/cases/1448-000321"><bdi>1448-000321</bdi></a>' in foot and "follow-up" in foot
        assert "<bdi>صك.pdf</bdi> (2 KB)" in foot
        assert entry.count("1448-000321</bdi>") == 1 and entry.count("صك.pdf") == 1
