"""Logging by hand a contact seen on a platform the portal is not connected to, with the post's address."""
from social_helpers import text_of

from portal.db import database
from portal.models import TimelineEntry


def test_log_a_tiktok_comment_with_its_link(app, client, auth, make_beneficiary):
    ben = make_beneficiary(first_name="ريم")
    auth.login("officer")
    found = text_of(client.get("/social/log?q=ريم&lang=en"))
    assert "ريم" in found
    form = client.get(f"/social/log?ben={ben}&lang=en")
    assert form.status_code == 200 and "TikTok" in text_of(form)
    r = client.post("/social/log", data={"ben": ben, "platform": "tiktok", "direction": "in",
                                         "url": "https://www.tiktok.com/@sila/video/7301234567890123456",
                                         "summary": "تعليق يسأل عن موعد توزيع السلال", "body": ""})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/beneficiaries/{ben}#timeline")
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get()
        assert (entry.beneficiary_id, entry.channel, entry.direction) == (ben, "social", "in")
        assert entry.data == {"platform": "tiktok", "kind": "manual",
                              "url": "https://www.tiktok.com/@sila/video/7301234567890123456"}
    html = client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
    assert 'href="https://www.tiktok.com/@sila/video/7301234567890123456"' in html
    assert "تعليق يسأل عن موعد توزيع السلال" in html


def test_bad_input_keeps_what_was_typed_and_writes_nothing(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    auth.login("officer")
    cases = [
        ({"platform": "myspace", "url": "https://x.com/a/status/1", "summary": "س"}, "Choose the platform."),
        ({"platform": "x", "url": "javascript:alert(1)", "summary": "س"}, "Enter a full web address"),
        ({"platform": "x", "url": "", "summary": "س"}, "Paste the address"),
        ({"platform": "x", "url": "https://x.com/a/status/1", "summary": ""}, "Write a short summary."),
        ({"platform": "x", "url": "https://x.com/a/status/1", "summary": "س" * 301}, "At most 300 characters."),
    ]
    for data, message in cases:
        r = client.post("/social/log?lang=en", data={"ben": ben, "direction": "in", **data})
        assert r.status_code == 422, data
        assert message in text_of(r)
        if data["summary"]:
            assert data["summary"][:50] in r.get_data(as_text=True)
    r = client.post("/social/log?lang=ar", data={"ben": ben, "platform": "", "url": "", "summary": ""})
    assert "اختر المنصة." in text_of(r)
    r = client.post("/social/log?lang=en", data={"ben": "", "platform": "x", "url": "https://x.com/a", "summary": "s"})
    assert r.status_code == 422 and "Choose a beneficiary" in text_of(r)
    assert client.post("/social/log", data={"ben": "999999", "platform": "x"}).status_code == 404
    with app.app_context(), database.connection_context():
        assert TimelineEntry.select().count() == 0


def test_delegate_cannot_log_for_another_branch(app, client, auth, make_beneficiary):
    other = make_beneficiary(branch="MKK")
    auth.login("delegate")
    r = client.post("/social/log", data={"ben": other, "platform": "x", "direction": "in",
                                         "url": "https://x.com/a/status/1", "summary": "s"})
    assert r.status_code == 403


def test_link_in_stored_data_is_only_drawn_for_web_addresses(app, client, auth, make_beneficiary):
    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        TimelineEntry.create(beneficiary=ben, channel="social", summary="s",
                             data={"platform": "x", "kind": "manual", "url": "javascript:alert(1)"})
    auth.login("officer")
    assert "javascript:alert" not in client.get(f"/beneficiaries/{ben}").get_data(as_text=True)
