"""The phone desk: screen-pop, logging a call by hand, linking unknown numbers, the call log,
the timeline rendering of calls, the menu and the incoming-call notice on the dashboard."""
import pytest
from playhouse.test_utils import count_queries

from plugins.phone.models import PhoneCall
from portal.models import Case, TimelineEntry
from portal.timeline import log_entry
from phone_fixtures import app_config, in_db, officer_phone, outreach  # noqa: F401



def text_of(response) -> str:
    import re

    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.mark.needs_plugins("interview")
def test_typing_eastern_digits_with_spaces_shows_the_matching_beneficiary(client, auth, make_beneficiary, in_db):
    ben = make_beneficiary(first_name="فاطمة", mobile="0501234567")
    make_beneficiary(first_name="ليلى", mobile="0551234567")
    with in_db():
        Case.create(reference="1448-000007", beneficiary=ben, status="in_research")
        Case.create(reference="1448-000008", beneficiary=ben, status="closed")
        for i in range(7):
            log_entry(channel="interview", summary=f"زيارة رقم {i}", beneficiary=ben)
    auth.login("officer")
    response = client.get("/phone/lookup", query_string={"number": "٠٥٠ ١٢٣ ٤٥٦٧"})
    text = text_of(response)
    assert response.status_code == 200 and "فاطمة" in text and "ليلى" not in text
    assert "1448-000007" in text and "1448-000008" not in text  # open requests only
    assert "زيارة رقم 6" in text and "زيارة رقم 2" in text and "زيارة رقم 1" not in text  # the last five
    fragment = client.get("/phone/lookup", query_string={"number": "+966 50 123 4567"},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="screen-pop"' in fragment and "فاطمة" in fragment


@pytest.mark.parametrize("typed", ["0501234567", "00966501234567", "+966501234567", "050-123-4567"])
def test_screen_pop_formats(client, auth, make_beneficiary, typed):
    make_beneficiary(first_name="فاطمة", mobile="0501234567")
    auth.login("officer")
    assert "فاطمة" in text_of(client.get("/phone/lookup", query_string={"number": typed}))


def test_screen_pop_unknown_shared_and_partial(client, auth, make_beneficiary):
    make_beneficiary(first_name="هدى", mobile="0501112222")
    make_beneficiary(first_name="منى", mobile="0501112222")
    auth.login("officer")
    text = text_of(client.get("/phone/lookup", query_string={"number": "0501112222", "lang": "en"}))
    assert "هدى" in text and "منى" in text and "2 beneficiaries share this number" in text
    text = text_of(client.get("/phone/lookup", query_string={"number": "0509999999", "lang": "en"}))
    assert "Unknown caller" in text
    text = text_of(client.get("/phone/lookup", query_string={"number": "0501", "lang": "en"}))
    assert "Type the whole number" in text


def test_log_a_call_lands_on_the_matched_timeline(client, auth, make_beneficiary, in_db, users):
    ben = make_beneficiary(mobile="0501234567")
    auth.login("officer")
    response = client.post("/phone/calls/new", data={
        "direction": "in", "number": "٠٥٠ ١٢٣ ٤٥٦٧", "duration": "3:25", "topic": "استفسار عن موعد الصرف",
        "outcome": "answered", "notes": "طلبت موعد الزيارة", "follow_up_due": "2026-12-01"})
    assert response.status_code == 302 and f"/beneficiaries/{ben}" in response.headers["Location"]
    with in_db():
        entry = TimelineEntry.get()
        call = PhoneCall.get()
        assert (entry.beneficiary_id, entry.channel, entry.summary) == (ben, "phone", "استفسار عن موعد الصرف")
        assert entry.data["outcome"] == "answered" and entry.data["duration"] == 205
        assert str(entry.follow_up_due) == "2026-12-01" and entry.actor_id == users["officer"]
        assert (call.number, call.source, call.entry_id) == ("+966501234567", "manual", entry.id)
    page = client.get(f"/beneficiaries/{ben}/timeline?lang=en").get_data(as_text=True)
    assert "Incoming call" in page and "3:25" in page and "Question answered" in page
    assert "answered by" in page and "050 123 4567" in page
    # the call log out to Excel, through the core's export service, right-to-left
    import io

    from openpyxl import load_workbook

    assert "/phone/export.xlsx" in client.get("/phone/").get_data(as_text=True)
    ws = load_workbook(io.BytesIO(client.get("/phone/export.xlsx?kind=in").get_data())).active
    rows = list(ws.values)
    assert ws.sheet_view.rightToLeft and len(rows) == 2
    assert "'+966501234567" in rows[1] and 205 in rows[1]
    auth.login("researcher")
    assert client.get("/phone/export.csv").status_code == 403


def test_several_beneficiaries_share_the_number_officer_must_choose(client, auth, make_beneficiary, in_db):
    first = make_beneficiary(first_name="هدى", mobile="0501112222")
    second = make_beneficiary(first_name="منى", mobile="0501112222")
    auth.login("officer")
    form = {"direction": "in", "number": "0501112222", "topic": "سؤال", "outcome": "answered"}
    response = client.post("/phone/calls/new?lang=en", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "choose who called" in html
    assert 'value="سؤال"' in html and "هدى" in html and "منى" in html  # the form keeps what was typed
    with in_db():
        assert TimelineEntry.select().count() == 0
    response = client.post("/phone/calls/new", data=dict(form, beneficiary=str(second)))
    assert response.status_code == 302
    response = client.post("/phone/calls/new", data=dict(form, beneficiary="999999"))
    assert response.status_code == 422
    with in_db():
        assert [e.beneficiary_id for e in TimelineEntry.select()] == [second]
        assert first


@pytest.mark.parametrize("field, value, message", [
    ("number", "12", "not"),
    ("number", "", "required"),
    ("duration", "abc", "minutes:seconds"),
    ("duration", "3:75", "minutes:seconds"),
    ("follow_up_due", "2026-13-45", ""),
    ("occurred_at", "2099-01-01T10:00", "future"),
    ("topic", "", "required"),
    ("outcome", "made-up", "Not a valid choice"),
])
def test_log_a_call_bad_input(client, auth, in_db, field, value, message):
    auth.login("officer")
    form = {"direction": "in", "number": "0501234567", "topic": "موضوع المكالمة", "outcome": "answered"}
    form[field] = value
    response = client.post("/phone/calls/new?lang=en", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    if field != "topic":
        assert "موضوع المكالمة" in html
    with in_db():
        assert TimelineEntry.select().count() == 0 and PhoneCall.select().count() == 0


def test_find_caller_without_javascript(client, auth, make_beneficiary):
    make_beneficiary(first_name="فاطمة", mobile="0501234567")
    auth.login("officer")
    response = client.get("/phone/calls/new", query_string={"number": "0501234567", "topic": "x", "direction": "in"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "فاطمة" in html and 'type="radio"' in html and 'value="x"' in html


def test_unknown_number_linked_later_moves_all_its_calls(client, auth, make_beneficiary, in_db):
    auth.login("officer")
    for topic in ("أول اتصال", "ثاني اتصال"):
        response = client.post("/phone/calls/new", data={"direction": "in", "number": "0547776666",
                                                          "topic": topic, "outcome": "answered"})
        assert response.status_code == 302 and "unmatched=1" in response.headers["Location"]
    client.post("/phone/calls/new", data={"direction": "in", "number": "0541110000", "topic": "غيره",
                                          "outcome": "answered"})
    page = text_of(client.get("/phone/?unmatched=1&lang=en"))
    assert "Unknown caller" in page and "054 777 6666" in page
    ben = make_beneficiary(mobile="0500000001")
    with in_db():
        from portal.models import Beneficiary

        file_number = Beneficiary.get_by_id(ben).file_number
    response = client.post("/phone/numbers/link", data={"number": "0547776666", "beneficiary": "0000"})
    assert response.status_code == 303
    with in_db():
        assert TimelineEntry.select().where(TimelineEntry.beneficiary.is_null(False)).count() == 0
    response = client.post("/phone/numbers/link", data={"number": "+966547776666", "beneficiary": file_number})
    assert response.status_code == 303 and f"/beneficiaries/{ben}" in response.headers["Location"]
    assert "نُقلت مكالمتان من 0547776666" in text_of(client.get(response.headers["Location"]))
    with in_db():
        moved = TimelineEntry.select().where(TimelineEntry.beneficiary == ben)
        assert sorted(e.summary for e in moved) == ["أول اتصال", "ثاني اتصال"]
        assert PhoneCall.select().where(PhoneCall.beneficiary == ben).count() == 2
        assert PhoneCall.get(PhoneCall.number == "+966541110000").beneficiary_id is None
    assert client.post("/phone/numbers/link", data={"number": "", "beneficiary": file_number}).status_code == 400


@pytest.mark.needs_plugins("interview")
def test_render_timeline_entry_only_for_calls(app, make_beneficiary, in_db):
    from portal.plugins import hook

    ben = make_beneficiary()
    with app.test_request_context("/?lang=en"), in_db():
        from flask import request

        other = log_entry(channel="interview", summary="زيارة", beneficiary=ben)
        # An internal note on the phone channel is not a call (a phone contact in or out is: test_phone_one_log).
        plain_phone = log_entry(channel="phone", summary="ملاحظة داخلية", beneficiary=ben, direction="internal")
        pm = app.extensions["portal_pm"]
        phone_plugin = pm.get_plugin("phone")
        assert phone_plugin.render_timeline_entry(entry=other, request=request) is None
        assert phone_plugin.render_timeline_entry(entry=plain_phone, request=request) is None
        call = log_entry(channel="phone", summary="s", beneficiary=ben, direction="out", data={
            "source": "cti", "direction": "out", "number": "+966501234567", "state": "ended", "duration": 75,
            "answered_by": "نورة", "cause": "normalClearing", "missed": False})
        html = str(hook().render_timeline_entry(entry=call, request=request))
        assert "↗" in html and "Outgoing call" in html and "1:15" in html and "answered by نورة" in html
        assert "ended normally" in html


def test_call_log_has_no_n_plus_one(client, auth, make_beneficiary, in_db):
    auth.login("officer")
    ben = make_beneficiary(mobile="0501234567")

    def add(n):
        for i in range(n):
            client.post("/phone/calls/new", data={"direction": "in", "number": f"05{i % 3}1234567", "topic": "t",
                                                  "outcome": "answered"})

    add(3)
    with count_queries() as few:
        client.get("/phone/")
    add(15)
    with count_queries() as many:
        assert client.get("/phone/").status_code == 200
    assert few.count > 0 and many.count == few.count, (few.count, many.count)
    assert ben


def test_call_log_pages(client, auth, in_db):
    import datetime as dt

    from plugins.phone import views

    auth.login("officer")
    start = dt.datetime(2026, 11, 1, 9, 0)
    with in_db():
        for i in range(views.PAGE_SIZE + 2):  # a CDR import: ids not in time order
            PhoneCall.create(number=f"+9665{i:08d}", state="ended", started_at=start - dt.timedelta(minutes=i * 7 % 60))
    page = client.get("/phone/").get_data(as_text=True)
    assert 'rel="next"' in page and "after=" in page
    after = page.split("after=")[1].split("&")[0].split('"')[0]
    more = client.get(f"/phone/?after={after}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in more and more.count("<tr>") == 3 and 'class="prev"' in more
    first = [int(i) for i in __import__("re").findall(r"/phone/calls/(\d+)", page)]
    second = [int(i) for i in __import__("re").findall(r"/phone/calls/(\d+)", more)]
    assert len(set(first) | set(second)) == views.PAGE_SIZE + 2 and not set(first) & set(second)


def test_call_log_filters(client, auth, in_db, users):
    import datetime as dt

    auth.login("officer")
    with in_db():
        PhoneCall.create(number="+966501111111", state="ended", direction="in", missed=True,
                         started_at=dt.datetime(2026, 11, 2, 6, 0))
        PhoneCall.create(number="+966502222222", state="ended", direction="out", answered_by=users["officer"],
                         started_at=dt.datetime(2026, 11, 3, 6, 0))
        PhoneCall.create(number="+966503333333", state="ended", direction="in",
                         started_at=dt.datetime(2026, 11, 4, 6, 0))

    def numbers(url):
        response = client.get(url)
        return response.status_code, __import__("re").findall(r"tel:\+96650(\d)", response.get_data(as_text=True))
    assert numbers("/phone/?kind=missed") == (200, ["1"])
    assert numbers("/phone/?kind=in") == (200, ["3"])
    assert numbers("/phone/?kind=out") == (200, ["2"])
    assert numbers("/phone/?mine=1") == (200, ["2"])
    assert numbers("/phone/?from=2026-11-03&to=2026-11-04") == (200, ["3", "2"])
    bad = client.get("/phone/?from=2026-13-01&lang=en")
    assert bad.status_code == 422 and 'value="2026-13-01"' in bad.get_data(as_text=True)


def test_menu_and_dashboard_for_officers_only(client, auth):
    auth.login("officer")
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "/phone/" in page and page.count('hx-get="/phone/notice"') == 1 and 'id="incoming"' not in page
    auth.logout()
    auth.login("researcher")
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "/phone/" not in page


def test_pages_in_both_languages(client, auth):
    auth.login("officer")
    for url in ("/phone/", "/phone/calls/new", "/phone/cdr", "/phone/lookup", "/phone/incoming"):
        ar = client.get(url).get_data(as_text=True)
        en = client.get(url + "?lang=en").get_data(as_text=True)
        assert 'dir="rtl"' in ar and 'dir="ltr"' in en, url
    assert "سجل المكالمات" in client.get("/phone/").get_data(as_text=True)
    assert "Call log" in client.get("/phone/?lang=en").get_data(as_text=True)


CTI = "/api/v1/cti/cti-secret-token-0123456789"


def test_officer_completes_a_call_the_pbx_reported(client, auth, make_beneficiary, in_db):
    ben = make_beneficiary(mobile="0501234567")
    client.post(CTI, json={"event": "newCall", "from": "0501234567", "to": "200", "direction": "in", "callId": "k1"})
    auth.login("officer")
    with in_db():
        call = PhoneCall.get()
    page = client.get("/phone/incoming").get_data(as_text=True)
    assert f"/phone/calls/{call.id}" in page
    response = client.post(f"/phone/calls/{call.id}", data={"topic": "سؤال عن السلة الغذائية", "outcome": "answered",
                                                             "notes": "ستتصل غدًا", "follow_up_due": "1448-06-20"})
    assert response.status_code == 302 and f"/beneficiaries/{ben}" in response.headers["Location"]
    client.post(CTI, json={"event": "hangup", "from": "0501234567", "direction": "in", "callId": "k1",
                           "cause": "normalClearing"})
    with in_db():
        entry = TimelineEntry.get()
        assert entry.summary == "سؤال عن السلة الغذائية" and entry.body == "ستتصل غدًا"
        assert entry.data["outcome"] == "answered" and entry.data["state"] == "ended"
        assert entry.follow_up_due is not None
    assert TimelineEntry  # one entry only
    with in_db():
        assert TimelineEntry.select().count() == 1


def test_call_detail_shared_number_bad_input_and_404(client, auth, make_beneficiary, in_db):
    make_beneficiary(first_name="هدى", mobile="0501112222")
    second = make_beneficiary(first_name="منى", mobile="0501112222")
    client.post(CTI, json={"event": "newCall", "from": "0501112222", "direction": "in", "callId": "k2"})
    auth.login("officer")
    with in_db():
        call = PhoneCall.get()
        assert call.beneficiary_id is None
    url = f"/phone/calls/{call.id}?lang=en"
    response = client.post(url, data={"topic": "استفسار", "outcome": "answered"})
    assert response.status_code == 422 and "choose who called" in response.get_data(as_text=True)
    response = client.post(url, data={"topic": "", "outcome": "answered", "beneficiary": str(second),
                                      "notes": "نص مكتوب"})
    assert response.status_code == 422 and "نص مكتوب" in response.get_data(as_text=True)
    response = client.post(url, data={"topic": "استفسار", "outcome": "answered", "beneficiary": str(second)})
    assert response.status_code == 302
    with in_db():
        assert TimelineEntry.get().beneficiary_id == second and PhoneCall.get().beneficiary_id == second
    assert client.get("/phone/calls/999999").status_code == 404
    assert client.get(f"/phone/calls/{call.id}").status_code == 200
