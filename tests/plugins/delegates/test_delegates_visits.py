"""The field visit: on the timeline as channel ``delegates``, once per client_id however often it is sent,
scoped to the delegate's branch, photos through the core's upload service, the place only with consent."""
import io

from delegates_helpers import count, new_id, png_bytes, rows, text_of, visit_form


def test_a_visit_reaches_the_timeline_and_the_route(app, client, auth, users, taif_ben, in_db):
    from plugins.delegates import service as svc
    from plugins.delegates.models import Activity, Plan, Visit
    from portal.dates import saudi_today
    from portal.models import Attachment, Beneficiary, TimelineEntry, User

    with in_db():
        me = User.get_by_id(users["delegate"])
        plan = svc.add_plan(delegate=me, beneficiary=Beneficiary.get_by_id(taif_ben), day=saudi_today(), note="بعد العصر",
                            actor=User.get_by_id(users["officer"]))
    auth.login("delegate")
    route = client.get("/delegates/")
    assert route.status_code == 200
    page = route.get_data(as_text=True)
    assert f"/delegates/beneficiaries/{taif_ben}/visit?plan={plan.id}" in page and "بعد العصر" in page
    form = client.get(f"/delegates/beneficiaries/{taif_ben}/visit?plan={plan.id}").get_data(as_text=True)
    assert 'name="client_id" value="' in form and "data-offline-form" in form and 'name="plan"' in form
    data = visit_form(plan=str(plan.id), photos=(io.BytesIO(png_bytes()), "lease.png"))
    r = client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=data, content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"].endswith("/delegates/")
    activity = rows(app, Activity)[0]
    assert activity.kind == "visit" and activity.delegate_id == users["delegate"] and activity.client_id == data["client_id"]
    entry = rows(app, TimelineEntry, TimelineEntry.id == activity.entry_id)[0]
    assert entry.channel == "delegates" and entry.beneficiary_id == taif_ben and entry.direction == "out"
    assert [a.file_name for a in rows(app, Attachment, Attachment.entry == entry.id)] == ["lease.png"]
    visit = rows(app, Visit)[0]
    assert visit.plan_id == plan.id and not visit.location_consent and visit.latitude is None
    assert rows(app, Plan)[0].done_id == activity.id
    assert "سُجلت زيارة" in text_of(client.get("/delegates/"))
    timeline = text_of(client.get(f"/beneficiaries/{taif_ben}"))
    assert "سقف المنزل يحتاج إلى ترميم" in timeline and "الأم وأربعة أبناء" in timeline and "صورة 1" in timeline
    photo_id = rows(app, Attachment)[0].id
    assert f"/delegates/photos/{photo_id}" in client.get(f"/beneficiaries/{taif_ben}").get_data(as_text=True)
    auth.logout()
    auth.login("officer")
    photo = client.get(f"/delegates/photos/{photo_id}")
    assert photo.status_code == 200 and photo.mimetype == "image/png" and photo.data == png_bytes()


def test_a_form_sent_three_times_is_one_visit(app, client, auth, taif_ben):
    from plugins.delegates.models import Activity, Visit
    from portal.models import TimelineEntry

    auth.login("delegate")
    data = visit_form()
    answers = [client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=data,
                           headers={"X-Delegates-Offline": "1"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert [a.get_json()["status"] for a in answers] == ["created", "existing", "existing"]
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert count(app, Activity) == 1 and count(app, Visit) == 1
    assert count(app, TimelineEntry, TimelineEntry.channel == "delegates") == 1
    # the same without JavaScript: a second plain POST of the form says so and writes nothing
    again = client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=data, follow_redirects=True)
    assert "سبق تسجيل هذه الزيارة" in text_of(again)
    assert count(app, Visit) == 1


def test_a_visit_for_another_branch_is_refused_and_nothing_is_stored(app, client, auth, mkk_ben):
    from plugins.delegates.models import Activity
    from portal.models import Attachment, AuditEvent, TimelineEntry

    auth.login("delegate")
    before = count(app, AuditEvent)
    assert client.get(f"/delegates/beneficiaries/{mkk_ben}/visit").status_code == 403
    r = client.post(f"/delegates/beneficiaries/{mkk_ben}/visit",
                    data=visit_form(photos=(io.BytesIO(png_bytes()), "id.png")), content_type="multipart/form-data")
    assert r.status_code == 403
    queued = client.post(f"/delegates/beneficiaries/{mkk_ben}/visit", data=visit_form(),
                         headers={"X-Delegates-Offline": "1"})
    assert queued.status_code == 403 and queued.get_json()["error"]
    contact = client.post(f"/delegates/beneficiaries/{mkk_ben}/contact",
                          data={"client_id": new_id(), "summary": "اتصال"})
    assert contact.status_code == 403
    assert count(app, Activity) == 0 and count(app, TimelineEntry) == 0 and count(app, Attachment) == 0
    assert count(app, AuditEvent) == before


def test_wrong_roles_are_refused(app, client, auth, taif_ben):
    from plugins.delegates.models import Activity

    for role in ("committee", "researcher", "officer"):
        auth.login(role)
        assert client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=visit_form()).status_code == 403
        assert client.get("/delegates/").status_code == 403
        auth.logout()
    assert count(app, Activity) == 0


def test_an_oversized_or_disguised_photo_is_refused_keeping_what_was_typed(app, client, auth, taif_ben):
    from plugins.delegates.models import Activity
    from portal.models import TimelineEntry

    app.config["DELEGATES_PHOTO_MB"] = 1
    auth.login("delegate")
    data = visit_form(needs="الثلاجة معطلة والأسرة تحتاج إلى بديل")
    disguised = dict(data, photos=(io.BytesIO(b"MZ\x90\x00 not an image at all" * 10), "id.jpg"))
    r = client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=disguised, content_type="multipart/form-data")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "الثلاجة معطلة والأسرة تحتاج إلى بديل</textarea>" in page and f'value="{data["client_id"]}"' in page
    assert "id.jpg" in text_of(r) and 'aria-invalid="true" aria-describedby="e-photos"' in page
    big = dict(data, photos=(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024 + 10)), "big.png"))
    r = client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=big, content_type="multipart/form-data")
    assert r.status_code == 422 and "حجم الملف أكبر من 1 ميغابايت" in text_of(r)
    assert "الثلاجة معطلة والأسرة تحتاج إلى بديل</textarea>" in r.get_data(as_text=True)
    assert count(app, Activity) == 0 and count(app, TimelineEntry) == 0
    # an empty form: a message beside the field, nothing stored
    r = client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data={"client_id": new_id()})
    assert r.status_code == 422 and 'id="e-needs"' in r.get_data(as_text=True)
    # the same form, now right, goes through with its id
    r = client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=data)
    assert r.status_code == 302 and rows(app, Activity)[0].client_id == data["client_id"]


def test_the_place_is_stored_only_with_consent(app, client, auth, taif_ben):
    from decimal import Decimal

    from plugins.delegates.models import Visit

    auth.login("delegate")
    client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=visit_form(latitude="21.270300", longitude="40.415800"))
    visit = rows(app, Visit)[0]
    assert not visit.location_consent and visit.latitude is None and visit.longitude is None
    client.post(f"/delegates/beneficiaries/{taif_ben}/visit",
                data=visit_form(latitude="٢١٫٢٧٠٣", longitude="40.4158", location_consent="1"))
    located = rows(app, Visit, Visit.id != visit.id)[0]
    assert located.location_consent and located.latitude == Decimal("21.270300")
    assert located.longitude == Decimal("40.415800")
    r = client.post(f"/delegates/beneficiaries/{taif_ben}/visit",
                    data=visit_form(latitude="200", longitude="40", location_consent="1"))
    assert r.status_code == 422 and 'id="e-latitude"' in r.get_data(as_text=True)
    assert count(app, Visit) == 2


def test_a_client_id_used_for_another_record_is_refused(app, client, auth, users, make_beneficiary, taif_ben):
    from plugins.delegates.models import Activity

    other = make_beneficiary(branch="TAIF")
    auth.login("delegate")
    data = visit_form()
    client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=data)
    r = client.post(f"/delegates/beneficiaries/{other}/visit", data=data, headers={"X-Delegates-Offline": "1"})
    assert r.status_code == 409
    r = client.post(f"/delegates/beneficiaries/{taif_ben}/contact", data={"client_id": data["client_id"],
                                                                         "summary": "اتصال"})
    assert r.status_code == 302
    assert count(app, Activity) == 1


def test_two_copies_arriving_together_make_one_visit(app, users, taif_ben, in_db):
    """The view looks the client_id up first; a copy that passed that look-up at the same moment as another
    is stopped by the unique index and answered with the stored visit, its entry and photos rolled back."""
    from plugins.delegates import service as svc
    from plugins.delegates.models import Activity, Visit
    from portal.models import Beneficiary, TimelineEntry, User

    values = {"household_seen": "", "needs": "ترميم", "location_consent": False, "latitude": None, "longitude": None}
    client_id = new_id()
    with in_db():
        ben, me = Beneficiary.get_by_id(taif_ben), User.get_by_id(users["delegate"])
        first, created = svc.record_visit(beneficiary=ben, delegate=me, client_id=client_id, values=values)
        second, again = svc.record_visit(beneficiary=ben, delegate=me, client_id=client_id, values=values)
    assert created and not again and first.id == second.id
    assert count(app, Activity) == 1 and count(app, Visit) == 1 and count(app, TimelineEntry) == 1


def test_the_service_worker_may_serve_the_delegate_screens(client):
    r = client.get("/delegates/static/sw.js")
    assert r.status_code == 200 and r.headers["Service-Worker-Allowed"] == "/delegates/"
    assert "javascript" in r.headers["Content-Type"]
    assert "Service-Worker-Allowed" not in client.get("/delegates/static/offline.js").headers


def test_a_form_saved_on_the_phone_by_another_user_is_not_recorded_in_this_ones_name(app, client, auth, users,
                                                                                    taif_ben):
    from plugins.delegates.models import Activity

    auth.login("delegate")
    form = client.get(f"/delegates/beneficiaries/{taif_ben}/visit").get_data(as_text=True)
    assert f'name="by" value="{users["delegate"]}"' in form
    mine = client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=visit_form(by=str(users["delegate"])),
                       headers={"X-Delegates-Offline": "1"})
    assert mine.status_code == 201
    theirs = client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=visit_form(by=str(users["officer"])),
                         headers={"X-Delegates-Offline": "1"})
    assert theirs.status_code == 409
    plain = client.post(f"/delegates/beneficiaries/{taif_ben}/contact",
                        data={"client_id": new_id(), "summary": "اتصال", "by": "999"}, follow_redirects=True)
    assert "سجّل الدخول باسمه لإرساله" in text_of(plain)
    assert count(app, Activity) == 1
