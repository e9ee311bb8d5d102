"""The volunteer registry: staff entry (bad input keeps what was typed), vetting, website sign-ups through the
``volunteer_signed_up`` hook and their import, the link to a beneficiary's file, roles."""
from volunteering_helpers import rows, text_of


def _form(**extra):
    data = {"name": "منيرة العتيبي", "mobile": "0557654321", "national_id": "", "city": "الطائف",
            "skills": ["delivery", "home_visits"], "weekdays": ["6", "0", "1"], "time_from": "16:00",
            "time_to": "21:00", "notes": "لديها سيارة"}
    data.update(extra)
    return data


def test_staff_adds_a_volunteer_then_approves(app, client, auth):
    from plugins.volunteering.models import Volunteer, VolunteerSkill

    auth.login("officer")
    page = client.get("/volunteering/volunteers/new")
    assert page.status_code == 200 and 'dir="rtl"' in page.get_data(as_text=True)
    r = client.post("/volunteering/volunteers/new", data=_form())
    assert r.status_code == 302
    vol = rows(app, Volunteer)[0]
    assert vol.state == "pending" and vol.mobile == "+966557654321" and vol.time_from == "16:00"
    assert vol.weekdays == (1 << 6) | 1 | 2
    assert sorted(s.skill for s in rows(app, VolunteerSkill)) == ["delivery", "home_visits"]
    detail = text_of(client.get(f"/volunteering/volunteers/{vol.id}"))
    assert "منيرة العتيبي" in detail and "قيد التدقيق" in detail
    client.post(f"/volunteering/volunteers/{vol.id}/state", data={"state": "approved"})
    assert rows(app, Volunteer)[0].state == "approved"


def test_bad_volunteer_form_keeps_what_was_typed_and_writes_nothing(app, client, auth):
    from plugins.volunteering.models import Volunteer

    auth.login("officer")
    r = client.post("/volunteering/volunteers/new", data=_form(mobile="12", weekdays=[], time_to="10:00"))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'value="منيرة العتيبي"' in page and 'value="12"' in page and "لديها سيارة" in page
    text = text_of(r)
    assert "اختر يومًا واحدًا على الأقل" in text and "لم يُحفظ المتطوع" in text
    assert 'value="home_visits" checked' in page
    assert rows(app, Volunteer) == []


def test_website_sign_up_reaches_the_registry_through_the_hook(app, client):
    from plugins.volunteering import service as svc
    from plugins.volunteering.models import Volunteer
    from portal.db import database

    with app.test_request_context(), database.connection_context():
        app.extensions["portal_pm"].hook.volunteer_signed_up(data={
            "id": 41, "name": "متطوع من الموقع", "mobile": "0551112222", "email": "", "city": "جدة",
            "skills": "قيادة السيارات", "availability": "weekends", "notes": ""})
        app.extensions["portal_pm"].hook.volunteer_signed_up(data={"id": 41, "name": "مرة ثانية", "mobile": "0551112222"})
        assert svc.from_signup({"id": 42, "name": "رقم خاطئ", "mobile": "x"}) is None
    [vol] = rows(app, Volunteer)
    assert vol.source == "site" and vol.site_ref == 41 and vol.state == "pending"
    assert vol.weekdays == (1 << 4) | (1 << 5) and "قيادة السيارات" in vol.notes


def test_hook_volunteer_signed_up(app, client):
    """The hook is answered by this plugin: one pending volunteer per sign-up id."""
    from plugins.volunteering.models import Volunteer
    from portal.db import database

    with app.test_request_context(), database.connection_context():
        results = app.extensions["portal_pm"].hook.volunteer_signed_up(data={
            "id": 7, "name": "هيا", "mobile": "0559998887", "availability": "any"})
    assert results == [] or all(r is None for r in results)
    assert [v.name for v in rows(app, Volunteer)] == ["هيا"]


def test_import_of_earlier_sign_ups_from_the_timeline(app, client, auth):
    from plugins.volunteering.models import Volunteer
    from portal.db import database
    from portal.timeline import log_entry

    with app.test_request_context(), database.connection_context():
        log_entry(channel="volunteering", summary="تسجيل متطوع: ليلى", body="تصوير",
                  data={"kind": "volunteer", "volunteer": 3, "name": "ليلى", "mobile": "+966553334444",
                        "availability": "evenings"})
    auth.login("officer")
    client.post("/volunteering/import")
    client.post("/volunteering/import")
    [vol] = rows(app, Volunteer)
    assert vol.name == "ليلى" and vol.time_from == "16:00" and vol.site_ref == 3


def test_volunteer_who_is_a_beneficiary_is_linked_once_staff_confirms(app, client, auth, make_beneficiary,
                                                                       make_volunteer):
    from plugins.volunteering.models import Volunteer

    ben = make_beneficiary(mobile="0551231234")
    other = make_beneficiary(mobile="0559871234")
    vol = make_volunteer(mobile="0551231234")
    assert rows(app, Volunteer)[0].beneficiary_id is None  # never linked automatically
    auth.login("officer")
    page = text_of(client.get(f"/volunteering/volunteers/{vol}"))
    assert "تأكيد: الشخص نفسه" in page
    client.post(f"/volunteering/volunteers/{vol}/link", data={"beneficiary": str(other)})
    assert rows(app, Volunteer)[0].beneficiary_id is None  # a file that does not match is refused
    client.post(f"/volunteering/volunteers/{vol}/link", data={"beneficiary": str(ben)})
    assert rows(app, Volunteer)[0].beneficiary_id == ben
    # the file offers the volunteer record
    assert f"/volunteering/volunteers/{vol}" in client.get(f"/beneficiaries/{ben}").get_data(as_text=True)


def test_roles(app, client, auth, make_volunteer):
    from plugins.volunteering.models import Volunteer

    vol = make_volunteer()
    auth.login("researcher")
    assert client.get("/volunteering/volunteers").status_code == 403
    assert client.post("/volunteering/volunteers/new", data=_form()).status_code == 403
    auth.logout()
    auth.login("manager")
    assert client.get("/volunteering/volunteers").status_code == 200
    assert client.post(f"/volunteering/volunteers/{vol}/state", data={"state": "paused"}).status_code == 403
    assert rows(app, Volunteer)[0].state == "approved"


def test_the_same_mobile_is_not_registered_twice(app, client, auth, make_volunteer):
    from plugins.volunteering.models import Volunteer
    from portal.db import database

    vol = make_volunteer(mobile="0557654321")
    auth.login("officer")
    r = client.post("/volunteering/volunteers/new", data=_form())
    assert r.status_code == 422 and "يوجد في السجل متطوع بهذا الرقم" in text_of(r)
    assert client.post(f"/volunteering/volunteers/{vol}/edit", data=_form()).status_code == 302  # itself
    with app.test_request_context(), database.connection_context():
        app.extensions["portal_pm"].hook.volunteer_signed_up(data={"id": 9, "name": "مكرر", "mobile": "0557654321"})
    assert len(rows(app, Volunteer)) == 1
