"""The reception desk: check-in (file by ID, search, new visitor), tickets, the waiting list, calling,
handing over, the time given; refusals."""
import threading

from conftest import text_of

from interview_helpers import rows


def test_check_in_by_national_id_gives_ticket_one_then_two(app, client, auth, make_beneficiary):
    from plugins.interview.models import Visit

    ben = make_beneficiary(national_id="1000000008")
    auth.login("officer")
    page = client.get("/interview/desk")
    assert page.status_code == 200 and "تسجيل دخول زائر" in page.get_data(as_text=True)
    r = client.post("/interview/desk/check-in", data={"national_id": "١٠٠٠٠٠٠٠٠٨", "reason": "استفسار عن السلة"},
                    follow_redirects=True)
    assert r.status_code == 200
    r = client.post("/interview/desk/check-in", data={"name": "زائر جديد", "mobile": "0551112222",
                                                      "reason": "أول زيارة"}, follow_redirects=True)
    visits = sorted(rows(app, Visit), key=lambda v: v.ticket)
    assert [(v.ticket, v.beneficiary_id, v.status) for v in visits] == [(1, ben, "waiting"), (2, None, "waiting")]
    assert visits[1].mobile == "+966551112222"
    listing = text_of(client.get("/interview/desk"))
    assert "استفسار عن السلة" in listing and "زائر جديد" in listing and "بلا ملف" in listing


def test_wrong_check_digit_is_refused_and_the_form_keeps_the_text(app, client, auth):
    from plugins.interview.models import Visit

    auth.login("officer")
    r = client.post("/interview/desk/check-in", data={"national_id": "1000000009", "reason": "مراجعة الطلب"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "رقم الهوية غير صحيح" in html  # the check digit message, in Arabic
    assert 'value="1000000009"' in html and 'value="مراجعة الطلب"' in html
    assert rows(app, Visit) == []


def test_search_lists_files_to_choose_from(app, client, auth, make_beneficiary):
    from plugins.interview.models import Visit

    ben = make_beneficiary(first_name="هند", mobile="0559876543")
    auth.login("officer")
    page = client.get("/interview/desk?q=0559876543").get_data(as_text=True)
    assert f'name="beneficiary" value="{ben}"' in page
    client.post("/interview/desk/check-in", data={"beneficiary": str(ben), "reason": "تحديث البيانات"})
    assert [v.beneficiary_id for v in rows(app, Visit)] == [ben]


def test_new_visitor_needs_name_and_valid_mobile(app, client, auth):
    auth.login("officer")
    r = client.post("/interview/desk/check-in", data={"name": "", "mobile": "123", "reason": ""})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "اكتب سبب الزيارة" in html


def test_call_next_hand_over_and_time_given(app, client, auth, users, make_beneficiary, in_db):
    from plugins.interview import service as svc
    from plugins.interview.models import Visit

    ben = make_beneficiary()
    auth.login("officer")
    client.post("/interview/desk/check-in", data={"beneficiary": str(ben), "reason": "أ"})
    client.post("/interview/desk/check-in", data={"name": "ب", "mobile": "0551112223", "reason": "ب"})
    r = client.post("/interview/desk/call-next", follow_redirects=True)
    assert "التذكرة 1" in text_of(r)
    first, second = sorted(rows(app, Visit), key=lambda v: v.ticket)
    assert first.status == "called" and first.officer_id == users["officer"] and second.status == "waiting"
    # the second is handed over to the admin
    client.post(f"/interview/visits/{second.id}/hand-over", data={"officer": str(users["admin"])})
    assert rows(app, Visit, Visit.id == second.id)[0].officer_id == users["admin"]
    # the officer starts the first: the interview form opens, linked to the visit
    r = client.post(f"/interview/visits/{first.id}/start")
    assert r.status_code == 302 and f"/interview/beneficiaries/{ben}/new?visit={first.id}" in r.headers["Location"]
    client.post(f"/interview/visits/{first.id}/finish")
    done = rows(app, Visit, Visit.id == first.id)[0]
    assert done.status == "done" and done.started_at and done.ended_at >= done.started_at
    with in_db():
        assert svc.minutes(svc.time_given(done)) == 0
    page = text_of(client.get("/interview/desk"))
    assert "خدموا اليوم" in page or "من خُدم اليوم" in page
    # nobody else for the officer: the admin's visitor is not theirs
    r = client.post("/interview/desk/call-next", follow_redirects=True)
    assert "لا أحد في الانتظار" in text_of(r)


def test_waiting_list_fragment_for_htmx(app, client, auth):
    auth.login("officer")
    client.post("/interview/desk/check-in", data={"name": "سعاد", "mobile": "0551112224", "reason": "زيارة"})
    r = client.get("/interview/desk/waiting", headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith('<div id="waiting-list"') and "سعاد" in html
    assert "<html" not in html
    assert "<html" in client.get("/interview/desk/waiting").get_data(as_text=True)  # without htmx: the page


def test_roles_that_may_not_use_the_desk(app, client, auth, users):
    from plugins.interview.models import Visit

    for role in ("researcher", "committee", "delegate", "manager"):
        auth.login(role)
        assert client.get("/interview/desk").status_code == 403
        assert client.post("/interview/desk/check-in", data={"name": "x", "mobile": "0551112225",
                                                             "reason": "y"}).status_code == 403
        auth.logout()
    assert rows(app, Visit) == []


def test_tickets_are_unique_under_concurrent_check_ins(app, users, in_db):
    from plugins.interview import service as svc
    from plugins.interview.models import Visit
    from portal.models import User

    barrier = threading.Barrier(4)
    errors = []

    def check_in(i):
        try:
            with in_db():
                barrier.wait(timeout=10)
                svc.check_in(branch=None, form={"name": f"زائر {i}", "mobile": f"055111{i:04d}", "reason": "r"},
                             actor=User.get_by_id(users["officer"]))
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=check_in, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(v.ticket for v in rows(app, Visit)) == [1, 2, 3, 4]
