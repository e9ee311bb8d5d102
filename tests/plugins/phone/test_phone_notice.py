"""The incoming-call notice on every staff page (the phone plugin's ``page_notices``): where it shows and
where not, what it shows, the dismiss button with and without htmx, and the cost of its poll."""
import datetime as dt
import re

import pytest
from playhouse.test_utils import count_queries

from plugins.phone import views
from plugins.phone.models import PhoneCall
from portal.db import utcnow
from portal.models import Case, TimelineEntry
from phone_fixtures import TOKEN, app_config, in_db, officer_phone, outreach  # noqa: F401

CTI = f"/api/v1/cti/{TOKEN}"
HTMX = {"HX-Request": "true"}


def ring(client, call_id="n-1", frm="0501234567", **extra):
    response = client.post(CTI, json={"event": "newCall", "from": frm, "to": "0125550000", "direction": "in",
                                      "callId": call_id, **extra})
    assert response.status_code == 200 and response.get_json() == {}


def cti(client, event, call_id="n-1", **extra):
    response = client.post(CTI, json={"event": event, "from": "0501234567", "to": "0125550000", "direction": "in",
                                      "callId": call_id, **extra})
    assert response.status_code == 200


def notice_of(html: str) -> str | None:
    """The notice's container as drawn on a page, or None when the page has none."""
    found = re.search(r'<div id="call-notice".*?</div>\s*<script src="/phone/static/call-notice.js"', html, re.S)
    return found.group(0) if found else None


def cards(html: str) -> int:
    return html.count('class="notice-card incoming-call"')


@pytest.fixture
def caller(app, make_beneficiary, in_db):
    """A beneficiary with an open request and an earlier contact, whose mobile is 0501234567."""
    ben = make_beneficiary(first_name="هند", family_name="الزهراني", mobile="0501234567")
    with in_db():
        Case.create(reference="1448-000031", beneficiary=ben, status="in_research")
        TimelineEntry.create(beneficiary=ben, channel="letters", summary="خطاب سابق عن الإيجار")
    return ben


@pytest.mark.needs_plugins("letters")
def test_notice_shows_on_profile_case_and_other_plugin_pages_while_ringing(client, auth, caller):
    auth.login("officer")
    ring(client)
    with_call = [f"/beneficiaries/{caller}", "/cases/1448-000031", "/letters/", "/outreach/", "/"]
    for url in with_call:
        response = client.get(url)
        assert response.status_code == 200, url
        notice = notice_of(response.get_data(as_text=True))
        assert notice is not None, url
        # The screen-pop: the number, who is calling (a link to the file), open requests, last contacts.
        assert cards(notice) == 1, url
        assert "050 123 4567" in notice and "هند" in notice and f'href="/beneficiaries/{caller}"' in notice, url
        assert "1448-000031" in notice and "خطاب سابق عن الإيجار" in notice, url
        assert "مكالمة واردة من" not in notice, url  # the ringing call's own entry is no earlier contact
        assert 'hx-get="/phone/notice"' in notice and 'aria-live="polite"' in notice, url
    # The dashboard shows it once: the notice replaced the dashboard's own incoming-calls panel.
    dashboard = client.get("/").get_data(as_text=True)
    assert dashboard.count('id="call-notice"') == 1 and 'id="incoming"' not in dashboard
    # The Calls page lists the ringing calls itself, so the notice stays away there.
    desk = client.get("/phone/").get_data(as_text=True)
    assert 'id="incoming"' in desk and notice_of(desk) is None


def test_notice_in_english_and_for_a_withheld_number(client, auth):
    auth.login("officer")
    ring(client, frm="anonymous")
    notice = notice_of(client.get("/?lang=en").get_data(as_text=True))
    assert "Incoming call" in notice and "withheld number" in notice and "Dismiss" in notice
    notice = notice_of(client.get("/").get_data(as_text=True))
    assert "مكالمة واردة" in notice and "رقم محجوب" in notice and "إخفاء" in notice


@pytest.mark.needs_plugins("website")
def test_no_notice_for_visitors_other_roles_or_the_public_site(client, auth, caller):
    ring(client)
    login_page = client.get("/login").get_data(as_text=True)
    assert notice_of(login_page) is None and "page-notices" not in login_page
    assert client.get(f"/beneficiaries/{caller}").status_code == 302
    assert notice_of(client.get("/site/").get_data(as_text=True)) is None
    auth.login("researcher")  # does not take calls
    assert notice_of(client.get(f"/beneficiaries/{caller}").get_data(as_text=True)) is None
    auth.logout()
    auth.login("officer")
    for url in ("/site/", "/site/contact"):  # signed in, but on the public website: its own layout
        page = client.get(url).get_data(as_text=True)
        assert notice_of(page) is None and "page-notices" not in page and "call-notice" not in page, url
    auth.logout()
    auth.login("admin")
    assert cards(notice_of(client.get("/").get_data(as_text=True))) == 1


def test_call_addressed_to_another_user_is_not_shown(client, auth, caller, officer_phone):
    ring(client, "for-admin", user=["admin"])
    ring(client, "for-me", frm="0559998887", user=["201"])  # the officer's extension
    auth.login("officer")
    notice = notice_of(client.get(f"/beneficiaries/{caller}").get_data(as_text=True))
    assert cards(notice) == 1 and "055 999 8887" in notice and "050 123 4567" not in notice


@pytest.mark.parametrize("event", ["answer", "hangup"])
def test_answered_or_hung_up_call_leaves_the_notice(client, auth, caller, event):
    auth.login("officer")
    ring(client)
    assert cards(client.get(f"/beneficiaries/{caller}").get_data(as_text=True)) == 1
    shown = client.get("/phone/notice", headers=HTMX).get_data(as_text=True)
    assert cards(shown) == 1
    cti(client, event, cause="normalClearing")
    page = client.get(f"/beneficiaries/{caller}").get_data(as_text=True)
    assert notice_of(page) is not None and cards(page) == 0  # the container stays, polling
    with_id = re.search(r'name="shown" value="([^"]*)"', shown).group(1)
    polled = client.get(f"/phone/notice?shown={with_id}", headers=HTMX)
    assert polled.status_code == 200 and cards(polled.get_data(as_text=True)) == 0


def test_a_call_ringing_for_minutes_without_hangup_is_dropped(client, auth, caller, in_db):
    auth.login("officer")
    ring(client)
    with in_db():
        PhoneCall.update(started_at=utcnow() - dt.timedelta(minutes=4)).execute()
    assert cards(client.get("/").get_data(as_text=True)) == 0


def test_poll_answers_the_fragment_or_204_when_nothing_changed(client, auth, caller, in_db):
    auth.login("officer")
    response = client.get("/phone/notice?shown=", headers=HTMX)
    assert response.status_code == 204 and response.get_data() == b""  # nothing rings, nothing was shown
    ring(client)
    with in_db():
        call = PhoneCall.get()
    response = client.get("/phone/notice?shown=", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and cards(html) == 1
    assert f'name="shown" value="{call.id}"' in html and 'id="call-notice"' not in html  # the inner part only
    assert client.get(f"/phone/notice?shown={call.id}", headers=HTMX).status_code == 204
    for garbage in ("abc", "1,2,3", f"{call.id},", "-1", "x" * 500):
        response = client.get("/phone/notice", query_string={"shown": garbage}, headers=HTMX)
        assert response.status_code == 200 and cards(response.get_data(as_text=True)) == 1, garbage
    # The no-JavaScript dismiss button of a polled notice comes back to the page htmx polled from.
    polled_from = {**HTMX, "HX-Current-URL": f"http://localhost/beneficiaries/{caller}?tab=2"}
    html = client.get("/phone/notice", headers=polled_from).get_data(as_text=True)
    assert f'name="next" value="/beneficiaries/{caller}?tab=2"' in html
    # Without htmx the address leads to the Calls page's list of ringing calls.
    response = client.get("/phone/notice")
    assert response.status_code == 302 and response.headers["Location"].endswith("/phone/incoming")


def test_poll_when_signed_out_stops_polling_instead_of_drawing_the_sign_in_page(client, auth):
    response = client.get("/phone/notice", headers=HTMX)
    assert response.status_code == 286 and response.get_data() == b""
    response = client.get("/phone/notice")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login("researcher")
    assert client.get("/phone/notice", headers=HTMX).status_code == 403


def test_dismiss_without_javascript_redirects_back_and_hides_only_that_call(client, auth, caller, in_db):
    ring(client, "first")
    ring(client, "second", frm="0559998887")
    auth.login("officer")
    with in_db():
        first = PhoneCall.get(PhoneCall.call_id == "first")
    page = client.get(f"/beneficiaries/{caller}").get_data(as_text=True)
    assert cards(page) == 2
    assert f'<input type="hidden" name="next" value="/beneficiaries/{caller}">' in notice_of(page)
    response = client.post(f"/phone/notice/{first.id}/dismiss", data={"next": f"/beneficiaries/{caller}"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/beneficiaries/{caller}")
    notice = notice_of(client.get(f"/beneficiaries/{caller}").get_data(as_text=True))
    assert cards(notice) == 1 and "055 999 8887" in notice and "050 123 4567" not in notice
    # Only this officer's notice: the Calls page still lists the call, and the admin still sees it.
    assert "050 123 4567" in client.get("/phone/incoming").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert cards(client.get("/").get_data(as_text=True)) == 2
    with in_db():
        assert PhoneCall.get_by_id(first.id).state == "ringing"  # nothing about the call itself changed


def test_dismiss_with_htmx_answers_the_notice_without_the_call(client, auth, caller, in_db):
    ring(client)
    auth.login("officer")
    with in_db():
        call = PhoneCall.get()
    response = client.post(f"/phone/notice/{call.id}/dismiss", data={"next": "/letters/"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and cards(html) == 0
    assert 'name="shown" value=""' in html
    assert client.get("/phone/notice?shown=", headers=HTMX).status_code == 204  # stays dismissed


def test_notice_on_a_page_answering_a_form_post_comes_back_to_the_form(client, auth, caller):
    auth.login("officer")
    ring(client)
    response = client.post("/phone/calls/new", data={"direction": "in", "number": "12", "topic": ""},
                           headers={"Referer": "http://localhost/phone/calls/new?number=05"})
    assert response.status_code == 422
    notice = notice_of(response.get_data(as_text=True))
    assert cards(notice) == 1 and 'name="next" value="/phone/calls/new?number=05"' in notice
    response = client.post("/phone/calls/new", data={"direction": "in", "number": "12", "topic": ""},
                           headers={"Referer": "https://evil.example/phish"})
    notice = notice_of(response.get_data(as_text=True))
    assert 'name="next" value="/phish"' in notice and "evil.example" not in notice  # only ever a path here


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x", ""])
def test_dismiss_never_redirects_off_site(client, auth, caller, in_db, target):
    ring(client)
    auth.login("officer")
    with in_db():
        call = PhoneCall.get()
    response = client.post(f"/phone/notice/{call.id}/dismiss", data={"next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_dismiss_refuses_unknown_calls_other_roles_and_visitors(client, auth, caller, in_db):
    ring(client)
    with in_db():
        call = PhoneCall.get()
    response = client.post(f"/phone/notice/{call.id}/dismiss")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login("researcher")
    assert client.post(f"/phone/notice/{call.id}/dismiss").status_code == 403
    auth.logout()
    auth.login("officer")
    assert client.post(f"/phone/notice/{call.id + 999}/dismiss").status_code == 404
    assert client.get(f"/phone/notice/{call.id}/dismiss").status_code == 405
    assert cards(client.get("/").get_data(as_text=True)) == 1  # none of that dismissed anything


def test_dismiss_needs_the_csrf_token(app_config, users, caller, in_db):
    from portal import create_app

    app = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    ring(client)
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery", "csrf_token": token})
    page = client.get("/").get_data(as_text=True)
    with in_db():
        call = PhoneCall.get()
    assert client.post(f"/phone/notice/{call.id}/dismiss", data={"next": "/"}).status_code == 400
    assert cards(client.get("/").get_data(as_text=True)) == 1
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', notice_of(page)).group(1)
    response = client.post(f"/phone/notice/{call.id}/dismiss", data={"next": "/", "csrf_token": form_token})
    assert response.status_code == 303
    assert cards(client.get("/").get_data(as_text=True)) == 0


def test_dismissals_kept_in_the_session_are_bounded(client, auth, in_db):
    auth.login("officer")
    with in_db():
        ids = [PhoneCall.create(call_id=f"b-{i}", source="cti", number="+966501234567").id for i in range(30)]
    for call_id in ids:
        assert client.post(f"/phone/notice/{call_id}/dismiss", data={"next": "/"}).status_code == 303
    with client.session_transaction() as session:
        kept = session[views.DISMISSED_KEY]
    assert kept["calls"] == ids[-views.DISMISSED_KEEP:]
    # The oldest dismissals were forgotten: those calls (still ringing here) show again, the latest do not.
    html = client.get("/phone/notice", headers=HTMX).get_data(as_text=True)
    assert cards(html) == 5 and all(f"/phone/calls/{i}\"" not in html for i in ids[-views.DISMISSED_KEEP:])


def _bulk_calls(in_db, count, start=0):
    """``count`` ended calls in the log (and some stale "ringing" ones whose hangup never came)."""
    old = utcnow() - dt.timedelta(days=30)
    rows = [{"source": "cdr", "cdr_key": f"k-{start + i}", "number": f"+9665{(start + i) % 10**8:08d}",
             "state": "ringing" if i % 10 == 0 else "ended", "started_at": old + dt.timedelta(minutes=i),
             "updated_at": old} for i in range(count)]
    with in_db():
        for chunk in range(0, len(rows), 500):
            PhoneCall.insert_many(rows[chunk:chunk + 500]).execute()


def test_poll_query_count_does_not_grow_with_the_call_log(client, auth, caller, in_db):
    auth.login("officer")
    ring(client)
    with in_db():
        call_id = PhoneCall.get().id

    def measure():
        with count_queries() as unchanged:
            assert client.get(f"/phone/notice?shown={call_id}", headers=HTMX).status_code == 204
        with count_queries() as drawn:
            assert client.get("/phone/notice?shown=", headers=HTMX).status_code == 200
        return unchanged.count, drawn.count

    _bulk_calls(in_db, 20)
    few = measure()
    _bulk_calls(in_db, 3000, start=20)
    many = measure()
    assert few == many, (few, many)
    assert few[0] == 2, few  # the signed-in user, then the one look-up of the ringing calls


def test_the_ringing_look_up_is_one_query_on_the_state_and_start_index(app, users, in_db):
    from plugins.phone import calls
    from portal.db import database, is_postgres
    from portal.models import User

    with in_db():
        officer = User.get_by_id(users["officer"])
        with count_queries() as look_up:
            calls.ringing_calls(officer, exclude=[3, 4])
        assert look_up.count == 1
        sql, params = look_up.get_queries()[0].msg
        indexes = {i.name: i.columns for i in database.obj.get_indexes("phone_call")}
        assert indexes.get("phone_call_state_started_at") == ["state", "started_at"]
        if is_postgres():
            return  # PostgreSQL chooses its plan by the table's statistics; the index is there
        plan = " ".join(str(row) for row in database.obj.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "phone_call_state_started_at" in plan, plan
