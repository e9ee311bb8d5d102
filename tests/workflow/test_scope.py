"""Scope leaks closed: a branch delegate searches and registers only in their branch and learns nothing of
other branches' files; a researcher sees only the requests assigned to them (lists, pages, counts,
search, dashboard, the profile's requests and timeline, the API)."""
from __future__ import annotations

import html
import re

import pytest
from conftest import luhn_id

from portal.db import database
from portal.models import Beneficiary, Branch, User


def page_text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def tokens(wf):
    from portal.api import create_token

    return {role: create_token(wf.user(role), "test") for role in
            ("admin", "officer", "researcher", "committee", "delegate", "manager")}


def call(client, token, method, url, json=None):
    return client.open(url, method=method, headers={"Authorization": f"Bearer {token}"}, json=json)


def new_data(**overrides):
    data = {"first_name": "نورة", "father_name": "سالم", "grandfather_name": "علي", "family_name": "القرشي",
            "national_id": luhn_id("112233445"), "gender": "f", "mobile": "0591112233", "city": "الطائف"}
    data.update(overrides)
    return data


# --- delegates ---------------------------------------------------------------------------------------

@pytest.fixture
def makkah(wf):
    """A file of the MKK branch (not the TAIF delegate's)."""
    ben = wf.beneficiary(branch="MKK", first_name="هند", family_name="المكية", mobile="0557778888")
    database.close()
    return ben


def test_a_delegate_typing_another_branchs_id_learns_nothing(client, auth, makkah):
    auth.login("delegate")
    response = client.post("/beneficiaries/new?lang=en", data=new_data(national_id=makkah.national_id))
    body = page_text(response)
    assert response.status_code == 422
    assert "cannot be registered from your branch" in body and "main office" in body
    assert "المكية" not in body and makkah.file_number not in body
    assert f"/beneficiaries/{makkah.id}" not in response.get_data(as_text=True)
    assert 'value="القرشي"' in response.get_data(as_text=True)  # the form keeps what was typed
    arabic = page_text(client.post("/beneficiaries/new", data=new_data(national_id=makkah.national_id)))
    assert "لا يمكن تسجيل" in arabic and "المكية" not in arabic
    with database.connection_context():
        assert Beneficiary.select().count() == 1


def test_an_officer_still_sees_the_duplicate_with_its_link(client, auth, makkah):
    auth.login("officer")
    response = client.post("/beneficiaries/new?lang=en", data=new_data(national_id=makkah.national_id))
    assert response.status_code == 422 and makkah.file_number in page_text(response)
    assert f"/beneficiaries/{makkah.id}" in response.get_data(as_text=True)


def test_a_delegate_registers_only_in_their_branch(client, auth, users, makkah):
    with database.connection_context():
        taif, mkk = Branch.get(Branch.code == "TAIF"), Branch.get(Branch.code == "MKK")
    auth.login("delegate")
    form = client.get("/beneficiaries/new").get_data(as_text=True)
    assert f'value="{taif.id}"' in form and f'value="{mkk.id}"' not in form
    response = client.post("/beneficiaries/new?lang=en", data=new_data(branch=str(mkk.id)))
    assert response.status_code == 422 and "only in your own branch" in page_text(response)
    with database.connection_context():
        assert Beneficiary.select().count() == 1
    response = client.post("/beneficiaries/new", data=new_data(branch=""))
    assert response.status_code == 302
    with database.connection_context():
        created = Beneficiary.get(Beneficiary.national_id == new_data()["national_id"])
        assert created.branch_id == taif.id
    # nor move a file of their branch to another one
    edit = {**new_data(branch=str(mkk.id)), "version": str(created.version)}
    response = client.post(f"/beneficiaries/{created.id}/edit?lang=en", data=edit)
    assert response.status_code == 422 and "only in your own branch" in page_text(response)
    with database.connection_context():
        assert Beneficiary.get_by_id(created.id).branch_id == taif.id


def test_a_delegates_warnings_name_no_file_of_another_branch(client, auth, makkah):
    auth.login("delegate")
    # same mobile and same name as the MKK file: no warning names it, the file is saved directly
    response = client.post("/beneficiaries/new", data=new_data(mobile="0557778888", first_name="هند",
                                                               father_name="عبدالله", grandfather_name="سعد",
                                                               family_name="المكية"))
    assert response.status_code == 302
    auth.logout()
    auth.login("officer")
    response = client.post("/beneficiaries/new?lang=en", data=new_data(national_id=luhn_id("112233446"),
                                                                       mobile="0557778888"))
    assert response.status_code == 200 and "same mobile number" in page_text(response)


def test_a_delegate_searches_only_their_branch(client, auth, wf, makkah):
    with database.connection_context():
        case = wf.case("draft", ben=Beneficiary.get_by_id(makkah.id))
    database.close()
    auth.login("delegate")
    for query in (makkah.national_id, makkah.file_number, "هند المكية", "0557778888", case.reference):
        response = client.get(f"/beneficiaries/?q={query}")
        assert f"/beneficiaries/{makkah.id}" not in response.get_data(as_text=True), query
    auth.logout()
    auth.login("officer")
    assert f"/beneficiaries/{makkah.id}" in client.get(f"/beneficiaries/?q={case.reference}").get_data(as_text=True)
    auth.logout()
    auth.login("delegate")
    assert client.get(f"/beneficiaries/{makkah.id}").status_code == 403
    assert client.get(f"/beneficiaries/{makkah.id}/cases/new").status_code == 403
    response = client.post(f"/beneficiaries/{makkah.id}/cases/new", data={"request_type": "food_basket",
                                                                          "channel": "interview"})
    assert response.status_code == 403


def test_the_api_tells_a_delegate_no_more(client, tokens, makkah):
    response = call(client, tokens["delegate"], "POST", "/api/v1/beneficiaries",
                    new_data(national_id=makkah.national_id))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "existing" not in response.get_json()
    assert makkah.file_number not in body and "المكية" not in body and str(makkah.id) not in response.get_json()
    assert call(client, tokens["delegate"], "GET", f"/api/v1/beneficiaries?q={makkah.national_id}").get_json() == {
        "beneficiaries": []}
    assert call(client, tokens["delegate"], "GET", f"/api/v1/beneficiaries/{makkah.id}").status_code == 404
    officer = call(client, tokens["officer"], "POST", "/api/v1/beneficiaries", new_data(national_id=makkah.national_id))
    assert officer.status_code == 409 and officer.get_json()["existing"]["file_number"] == makkah.file_number


# --- researchers -------------------------------------------------------------------------------------

@pytest.fixture
def assignment(wf):
    """``mine``: assigned to the researcher; ``sibling``: another request of the same file, not assigned;
    ``stranger``: a request of another file referred to a second researcher."""
    from portal.auth import hash_password
    from portal.timeline import log_entry
    from portal.workflow import research

    other = User.create(username="researcher2", full_name="باحث آخر", roles="researcher",
                        password_hash=hash_password("x"))
    ben = wf.ready_beneficiary(first_name="ريم", family_name="العتيبي")
    mine = wf.case("in_research", ben=ben)
    sibling = wf.case("submitted", ben=ben)
    log_entry(channel="system", summary="ملاحظة سرية عن الطلب الآخر", beneficiary=ben, case=sibling,
              direction="internal")
    stranger_ben = wf.ready_beneficiary(first_name="منى", family_name="الشهري")
    stranger = wf.case("submitted", ben=stranger_ben)
    research.refer(stranger, researcher=other, reason="س", actor=wf.user("officer"))
    database.close()
    return {"ben": ben, "mine": mine, "sibling": sibling, "stranger": stranger, "stranger_ben": stranger_ben}


def test_a_researcher_sees_only_assigned_requests_everywhere(client, auth, assignment):
    mine, sibling, stranger = assignment["mine"], assignment["sibling"], assignment["stranger"]
    auth.login("researcher")
    listing = page_text(client.get("/cases/"))
    assert mine.reference in listing and sibling.reference not in listing and stranger.reference not in listing
    for ref in (sibling.reference, stranger.reference):
        assert client.get(f"/cases/{ref}").status_code == 403
        assert client.get(f"/cases/{ref}/request-form").status_code == 403
    # the file of an assigned request: the other request, its reference and its timeline stay hidden
    profile = page_text(client.get(f"/beneficiaries/{assignment['ben'].id}"))
    assert mine.reference in profile and sibling.reference not in profile
    assert "ملاحظة سرية" not in profile
    timeline = page_text(client.get(f"/beneficiaries/{assignment['ben'].id}/timeline"))
    assert "ملاحظة سرية" not in timeline and sibling.reference not in timeline
    # a file without an assigned request is not theirs
    assert client.get(f"/beneficiaries/{assignment['stranger_ben'].id}").status_code == 403
    # the dashboard's open requests and counts
    dashboard = page_text(client.get("/"))
    assert mine.reference in dashboard and sibling.reference not in dashboard
    assert stranger.reference not in dashboard and "ملاحظة سرية" not in dashboard


def test_a_researchers_search_finds_only_their_files(client, auth, assignment):
    def found(query):
        return {int(n) for n in re.findall(r'href="/beneficiaries/(\d+)"',
                                           client.get(f"/beneficiaries/?q={query}").get_data(as_text=True))}

    mine, stranger = assignment["ben"].id, assignment["stranger_ben"].id
    auth.login("researcher")
    assert found("العتيبي") == {mine}
    assert found("الشهري") == set() and found("") == {mine}
    assert found(assignment["stranger"].reference) == set()
    # the reference of the other request of their own file does not answer either
    assert found(assignment["sibling"].reference) == set()
    assert found(assignment["mine"].reference) == {mine}
    auth.logout()
    auth.login("officer")
    assert found(assignment["sibling"].reference) == {mine} and found("الشهري") == {stranger}


def test_the_api_follows_the_same_rule(client, tokens, assignment):
    token = tokens["researcher"]
    assert call(client, token, "GET", f"/api/v1/cases/{assignment['mine'].reference}").status_code == 200
    for case in (assignment["sibling"], assignment["stranger"]):
        assert call(client, token, "GET", f"/api/v1/cases/{case.reference}").status_code == 404
    names = {b["family_name"] for b in call(client, token, "GET", "/api/v1/beneficiaries").get_json()["beneficiaries"]}
    assert names == {"العتيبي"}
    timeline = call(client, token, "GET", f"/api/v1/beneficiaries/{assignment['ben'].id}/timeline").get_json()
    assert all(e["case"] != assignment["sibling"].reference for e in timeline["entries"])
    assert call(client, token, "GET", f"/api/v1/beneficiaries/{assignment['stranger_ben'].id}").status_code == 404
    # nor write onto a request that is not theirs
    posted = call(client, token, "POST", "/api/v1/timeline", {
        "beneficiary": assignment["ben"].id, "channel": "phone", "summary": "اتصال",
        "case": assignment["sibling"].reference})
    assert posted.status_code == 422 and "case" in posted.get_json()["fields"]
    posted = call(client, token, "POST", "/api/v1/timeline", {
        "beneficiary": assignment["ben"].id, "channel": "phone", "summary": "اتصال",
        "case": assignment["mine"].reference})
    assert posted.status_code == 201, posted.get_json()
    # the officer sees everything
    officer = call(client, tokens["officer"], "GET", f"/api/v1/beneficiaries/{assignment['ben'].id}/timeline")
    assert any(e["case"] == assignment["sibling"].reference for e in officer.get_json()["entries"])


def test_the_scope_service(wf, assignment):
    from portal import scope
    from portal.models import Case

    database.connect(reuse_if_open=True)
    researcher, delegate, officer = wf.user("researcher"), wf.user("delegate"), wf.user("officer")
    mine = Case.get_by_id(assignment["mine"].id)
    sibling = Case.get_by_id(assignment["sibling"].id)
    assert scope.can_see_case(mine, researcher) and not scope.can_see_case(sibling, researcher)
    assert scope.can_see_case(sibling, officer) and scope.can_see_case(sibling, delegate)  # TAIF files
    assert not scope.can_see_case(None, officer)
    assert [c.id for c in scope.scope_cases(Case.select(), researcher)] == [mine.id]
    # a delegate without a branch sees no file, not the files without a branch
    delegate.branch = None
    delegate.save()
    orphan = wf.beneficiary(branch="")
    assert not scope.can_see_beneficiary(orphan, delegate)
    assert list(scope.scope_beneficiaries(Beneficiary.select(), delegate)) == []


def test_a_researcher_cannot_close_a_follow_up_of_a_hidden_request(client, auth, assignment):
    import datetime as dt

    from portal.models import TimelineEntry

    with database.connection_context():
        hidden = TimelineEntry.create(beneficiary=assignment["ben"].id, case=assignment["sibling"].id,
                                      channel="system", summary="متابعة", follow_up_due=dt.date.today())
        own = TimelineEntry.create(beneficiary=assignment["ben"].id, case=assignment["mine"].id,
                                   channel="system", summary="متابعة", follow_up_due=dt.date.today())
    auth.login("researcher")
    assert client.post(f"/timeline/{hidden.id}/follow-up-done").status_code == 403
    assert client.post(f"/timeline/{own.id}/follow-up-done").status_code == 302
    with database.connection_context():
        assert not TimelineEntry.get_by_id(hidden.id).follow_up_done
        assert TimelineEntry.get_by_id(own.id).follow_up_done
