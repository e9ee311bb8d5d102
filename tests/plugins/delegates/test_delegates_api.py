"""The visits API: create once per client_id, scoped to the token user's branch, listed."""
import uuid

from delegates_helpers import count


def _token(app, users, role):
    from portal.api import create_token
    from portal.db import database
    from portal.models import User

    with app.app_context(), database.connection_context():
        return create_token(User.get_by_id(users[role]), "test")


def test_the_visits_api(app, client, users, taif_ben, mkk_ben):
    from plugins.delegates.models import Activity, Visit

    headers = {"Authorization": f"Bearer {_token(app, users, 'delegate')}"}
    body = {"client_id": str(uuid.uuid4()), "beneficiary": taif_ben, "needs": "سقف يحتاج إلى ترميم",
            "location_consent": False, "latitude": 21.27, "longitude": 40.41}
    first = client.post("/api/v1/delegates/visits", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["location"] is None and first.get_json()["needs"] == "سقف يحتاج إلى ترميم"
    for _ in range(2):
        again = client.post("/api/v1/delegates/visits", json=body, headers=headers)
        assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert count(app, Visit) == 1
    located = client.post("/api/v1/delegates/visits", headers=headers, json=dict(
        body, client_id=str(uuid.uuid4()), location_consent=True))
    assert located.status_code == 201 and located.get_json()["location"] == {"latitude": 21.27, "longitude": 40.41}
    # another branch's file is unknown to this token; nothing is stored
    other = client.post("/api/v1/delegates/visits", headers=headers,
                        json=dict(body, client_id=str(uuid.uuid4()), beneficiary=mkk_ben))
    assert other.status_code == 422 and "beneficiary" in other.get_json()["fields"]
    for bad in ({"client_id": "not-a-uuid", "beneficiary": taif_ben, "needs": "x"},
                {"client_id": str(uuid.uuid4()), "beneficiary": taif_ben},
                {"client_id": str(uuid.uuid4()), "beneficiary": taif_ben, "needs": "x", "latitude": "NaN",
                 "location_consent": True, "longitude": 1},
                {"client_id": str(uuid.uuid4()), "beneficiary": 2 ** 70, "needs": "x"}):
        assert client.post("/api/v1/delegates/visits", json=bad, headers=headers).status_code == 422
    assert client.post("/api/v1/delegates/visits", data="[]", headers=headers,
                       content_type="application/json").status_code == 400
    assert count(app, Activity) == 2
    listed = client.get("/api/v1/delegates/visits", headers=headers).get_json()["visits"]
    assert len(listed) == 2
    officer = {"Authorization": f"Bearer {_token(app, users, 'officer')}"}
    assert client.post("/api/v1/delegates/visits", json=body, headers=officer).status_code == 403
    assert len(client.get("/api/v1/delegates/visits?limit=1", headers=officer).get_json()["visits"]) == 1
    assert client.get("/api/v1/delegates/visits?limit=0", headers=officer).status_code == 422
    assert client.get("/api/v1/delegates/visits?day=1448-13-40", headers=officer).status_code == 422


def test_the_visits_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert {"get", "post"} <= set(doc["paths"]["/delegates/visits"])


def test_the_timeline_api_logs_contacts_on_the_channel_but_no_visits(app, client, users, taif_ben):
    headers = {"Authorization": f"Bearer {_token(app, users, 'delegate')}"}
    body = {"beneficiary": taif_ben, "channel": "delegates", "summary": "زيارة", "direction": "out",
            "data": {"kind": "visit", "needs": "x"}}
    refused = client.post("/api/v1/timeline", json=body, headers=headers)
    assert refused.status_code == 422 and "/api/v1/delegates/visits" in str(refused.get_json())
    body["data"] = {"note": "x"}
    assert client.post("/api/v1/timeline", json=body, headers=headers).status_code == 201
