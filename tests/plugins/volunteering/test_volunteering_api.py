"""The volunteering API: volunteers, opportunities and hours (bearer tokens), in the OpenAPI document."""
import datetime as dt

from portal.db import database
from volunteering_helpers import rows


def _token(app, users, role="officer"):
    from portal.api import create_token
    from portal.models import User

    with app.app_context(), database.connection_context():
        return {"Authorization": f"Bearer {create_token(User.get_by_id(users[role]), 't')}"}


def test_api_volunteers_opportunities_hours(app, client, users, make_opportunity, make_assignment):
    from plugins.volunteering.models import HoursLog, Volunteer
    from portal.dates import saudi_today

    h = _token(app, users)
    r = client.post("/api/v1/volunteers", headers=h, json={
        "name": "ريم", "mobile": "0553216549", "skills": ["delivery", "driving"], "weekdays": [6, 0],
        "time_from": "16:00", "time_to": "22:00"})
    assert r.status_code == 201 and r.json["state"] == "pending" and r.json["weekdays"] == [6, 0]
    bad = client.post("/api/v1/volunteers", headers=h, json={"name": "ريم", "mobile": "x", "skills": [{"a": 1}]})
    assert bad.status_code == 422 and "skills" in bad.json["fields"]
    assert len(rows(app, Volunteer)) == 1
    listed = client.get("/api/v1/volunteers?state=pending", headers=h).json["volunteers"]
    assert [v["name"] for v in listed] == ["ريم"]
    day = (saudi_today() + dt.timedelta(days=4)).isoformat()
    r = client.post("/api/v1/opportunities", headers=h, json={
        "title": "زيارة كبار السن", "kind": "home_visit", "place": "حي الشفا", "day": day, "time_from": "17:00",
        "time_to": "19:00", "places": 2, "skills": ["home_visits"]})
    assert r.status_code == 201 and r.json["taken"] == 0
    assert any(o["title"] == "زيارة كبار السن" for o in client.get("/api/v1/opportunities", headers=h).json["opportunities"])
    # hours: once per assignment (409 the second time), then approved
    opp = make_opportunity(days=-1)
    vol = rows(app, Volunteer)[0].id
    assign_id, _token_value = make_assignment(opp, vol, "attended")
    r = client.post("/api/v1/volunteer-hours", headers=h, json={"assignment": assign_id, "hours": 2.5})
    assert r.status_code == 201 and r.json["state"] == "pending"
    again = client.post("/api/v1/volunteer-hours", headers=h, json={"assignment": assign_id, "hours": "1"})
    assert again.status_code == 409
    assert len(rows(app, HoursLog)) == 1
    hours_id = r.json["id"]
    assert client.get("/api/v1/volunteer-hours", headers=h).json["hours"][0]["id"] == hours_id
    r = client.post(f"/api/v1/volunteer-hours/{hours_id}/decision", headers=h, json={"decision": "approve"})
    assert r.status_code == 200 and r.json["state"] == "approved"
    assert client.post(f"/api/v1/volunteer-hours/{hours_id}/decision", headers=h,
                       json={"decision": "approve"}).status_code == 409
    assert client.post("/api/v1/volunteer-hours/99999999999/decision", headers=h,
                       json={"decision": "approve"}).status_code == 404
    # a manager reads but does not write
    m = _token(app, users, "manager")
    assert client.get("/api/v1/volunteers", headers=m).status_code == 200
    assert client.post("/api/v1/volunteers", headers=m, json={"name": "x"}).status_code == 403


def test_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/volunteers", "/opportunities", "/volunteer-hours", "/volunteer-hours/{hours_id}/decision"} <= set(paths)


def test_api_timeline_refuses_volunteer_services(app, client, users, make_beneficiary):
    """A service by a volunteer is written from its assignment, never through the generic timeline API."""
    from portal.models import TimelineEntry

    ben = make_beneficiary()
    h = _token(app, users)
    r = client.post("/api/v1/timeline", headers=h, json={
        "beneficiary": ben, "channel": "volunteering", "summary": "توصيل", "direction": "out",
        "data": {"kind": "volunteer_service", "volunteer": "x"}})
    assert r.status_code == 422
    assert rows(app, TimelineEntry, TimelineEntry.channel == "volunteering") == []
