"""Contacts and requests in the field, planning the route, the branch reports, the offline replay's CSRF
token, the privacy hooks and the demo data."""
import datetime as dt

from delegates_helpers import count, new_id, rows, text_of, visit_form


def test_a_contact_is_logged_once_on_the_delegates_channel(app, client, auth, taif_ben):
    from plugins.delegates.models import Activity
    from portal.models import TimelineEntry

    auth.login("delegate")
    form = client.get(f"/delegates/beneficiaries/{taif_ben}/contact").get_data(as_text=True)
    assert 'name="client_id"' in form and "data-offline-form" in form
    refused = client.post(f"/delegates/beneficiaries/{taif_ben}/contact",
                          data={"client_id": new_id(), "body": "تفاصيل كتبها المندوب", "direction": "in"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "تفاصيل كتبها المندوب</textarea>" in page and 'id="e-summary"' in page
    data = {"client_id": new_id(), "summary": "اتصلت لتأكيد موعد الزيارة", "direction": "out"}
    assert client.post(f"/delegates/beneficiaries/{taif_ben}/contact", data=data).status_code == 302
    again = client.post(f"/delegates/beneficiaries/{taif_ben}/contact", data=data, headers={"X-Delegates-Offline": "1"})
    assert again.status_code == 200 and again.get_json()["status"] == "existing"
    entries = rows(app, TimelineEntry)
    assert len(entries) == 1 and entries[0].channel == "delegates" and entries[0].direction == "out"
    assert rows(app, Activity)[0].kind == "contact"
    assert "اتصلت لتأكيد موعد الزيارة" in text_of(client.get(f"/beneficiaries/{taif_ben}"))


def test_a_request_is_opened_through_the_core_on_the_delegates_channel(app, client, auth, taif_ben, in_db):
    from plugins.delegates.models import Activity
    from portal.models import Case
    from portal.workflow.defaults import ensure_default_request_types
    from portal.workflow.intake import get_request_type, questions

    with in_db():
        ensure_default_request_types()
        qs = questions(get_request_type("food_basket"))
    auth.login("delegate")
    page = client.get(f"/delegates/beneficiaries/{taif_ben}/request?type=food_basket").get_data(as_text=True)
    assert 'name="request_type" value="food_basket"' in page
    # a required question left unanswered: refused by the core, the summary kept
    data = {"client_id": new_id(), "request_type": "food_basket", "summary": "الأسرة تحتاج إلى سلة غذائية"}
    if any(q.required for q in qs):
        r = client.post(f"/delegates/beneficiaries/{taif_ben}/request", data=data)
        assert r.status_code == 422 and "الأسرة تحتاج إلى سلة غذائية</textarea>" in r.get_data(as_text=True)
        assert count(app, Case) == 0 and count(app, Activity) == 0
    data.update({f"answer_{q.id}": {"yes_no": "no", "number": "4", "text": "نص"}[q.answer_kind] for q in qs})
    r = client.post(f"/delegates/beneficiaries/{taif_ben}/request", data=data)
    assert r.status_code == 302 and "/cases/" in r.headers["Location"]
    again = client.post(f"/delegates/beneficiaries/{taif_ben}/request", data=data)
    assert again.status_code == 302 and again.headers["Location"] == r.headers["Location"]
    case = rows(app, Case)[0]
    assert count(app, Case) == 1 and case.channel == "delegates" and case.created_by_id is not None
    assert rows(app, Activity)[0].case_id == case.id


def test_planning_the_route(app, client, auth, users, taif_ben, mkk_ben, in_db):
    from plugins.delegates.models import Plan
    from portal.dates import saudi_today
    from portal.models import Beneficiary

    with in_db():
        file_number = Beneficiary.get_by_id(taif_ben).file_number
        other_number = Beneficiary.get_by_id(mkk_ben).file_number
    today = saudi_today().isoformat()
    auth.login("officer")
    assert f'value="{file_number}"' in client.get(f"/delegates/plan?file={file_number}").get_data(as_text=True)
    # the delegate's branch does not hold the MKK file: refused, what was typed kept
    r = client.post("/delegates/plan", data={"delegate": users["delegate"], "day": today, "file": other_number,
                                             "note": "بعد المغرب"})
    assert r.status_code == 422 and "هذا الملف ليس في فرع المندوب." in text_of(r) and 'value="بعد المغرب"' in r.get_data(as_text=True)
    r = client.post("/delegates/plan", data={"delegate": users["delegate"], "day": "2020-01-01", "file": file_number})
    assert r.status_code == 422 and "اختر اليوم أو يومًا قادمًا." in text_of(r)
    r = client.post("/delegates/plan", data={"delegate": users["delegate"], "day": today, "file": file_number,
                                             "note": "بعد العصر"})
    assert r.status_code == 302
    r = client.post("/delegates/plan", data={"delegate": users["delegate"], "day": today, "file": file_number})
    assert r.status_code == 422 and "هذه الزيارة مدرجة في خط سير ذلك اليوم من قبل." in text_of(r)
    assert count(app, Plan) == 1
    auth.logout()
    # the delegate plans for themselves only, and sees the stop on today's route
    auth.login("delegate")
    r = client.post("/delegates/plan", data={"delegate": users["officer"], "day": today, "file": other_number})
    assert r.status_code == 422 and count(app, Plan) == 1
    route = text_of(client.get("/delegates/"))
    assert "بعد العصر" in route and "تسجيل الزيارة" in route
    assert "بقيت زيارة مجدولة واحدة اليوم." in text_of(client.get("/"))  # the dashboard's widget


def test_branch_reports_count_per_delegate_and_week(app, client, auth, users, make_beneficiary, taif_ben, mkk_ben,
                                                    in_db):
    from plugins.delegates import service as svc
    from plugins.delegates.models import Activity
    from portal.auth import hash_password
    from portal.models import Beneficiary, Branch, User

    with in_db():
        mkk = Branch.get(Branch.code == "MKK")
        other = User.create(username="delegate2", full_name="مندوب مكة", roles="delegate", branch=mkk,
                            password_hash=hash_password("correct-horse-battery"))
        me = User.get_by_id(users["delegate"])
        values = {"household_seen": "", "needs": "ترميم", "location_consent": False, "latitude": None, "longitude": None}
        ben = Beneficiary.get_by_id(taif_ben)
        for _ in range(2):
            svc.record_visit(beneficiary=ben, delegate=me, client_id=new_id(), values=values)
        svc.log_contact(beneficiary=ben, delegate=me, client_id=new_id(),
                        values={"direction": "out", "summary": "اتصال", "body": ""})
        svc.record_visit(beneficiary=Beneficiary.get_by_id(mkk_ben), delegate=other, client_id=new_id(),
                         values=values)
        # one visit three weeks ago
        old = Activity.select().where(Activity.delegate == me.id).first()
        day = old.day - dt.timedelta(weeks=3)
        Activity.update(day=day, week=svc.week_of(day)).where(Activity.id == old.id).execute()
        data = svc.report(branch_id=ben.branch_id)
        everything = svc.report(branch_id=None)
    assert data["totals"] == {"visit": 2, "contact": 1, "request": 0}
    assert sorted((r["visit"], r["contact"]) for r in data["rows"]) == [(1, 0), (1, 1)]
    assert everything["totals"]["visit"] == 3 and {r["delegate"] for r in everything["rows"]} == {me.full_name, "مندوب مكة"}
    assert svc.week_of(dt.date(2026, 12, 1)) == dt.date(2026, 11, 29)  # a Tuesday's week starts on Sunday

    auth.login("delegate")
    page = text_of(client.get("/delegates/reports"))
    assert "مستخدم delegate" in page and "مندوب مكة" not in page
    auth.logout()
    auth.login("manager")
    page = text_of(client.get("/delegates/reports"))
    assert "مستخدم delegate" in page and "مندوب مكة" in page
    page = text_of(client.get(f"/delegates/reports?branch={mkk.id}&weeks=2"))
    assert "مستخدم delegate" not in page and "مندوب مكة" in page


def test_the_report_is_one_query(app, users, in_db):
    from playhouse.test_utils import count_queries

    from plugins.delegates import service as svc

    with in_db():
        with count_queries() as counter:
            svc.report(branch_id=None)
    assert counter.count <= 2  # the counts, then the delegates' names


def test_a_replay_with_an_expired_csrf_token_gets_a_fresh_one(app_config, users, taif_ben):
    """The offline outbox's path: a token the session no longer accepts is refused with 400, the delegate's
    token endpoint gives the current one, and the replay with it is recorded (once)."""
    import re

    from portal import create_app

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    client.post("/login", data={"username": "delegate", "password": "correct-horse-battery", "csrf_token": token})
    data = dict(visit_form(), csrf_token="expired-token-from-another-session")
    headers = {"X-Delegates-Offline": "1"}
    assert client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=data, headers=headers).status_code == 400
    fresh = client.get("/delegates/csrf-token").get_json()["csrf_token"]
    data["csrf_token"] = fresh
    assert client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=data, headers=headers).status_code == 201
    assert client.post(f"/delegates/beneficiaries/{taif_ben}/visit", data=data, headers=headers).status_code == 200
    from plugins.delegates.models import Visit

    assert count(app, Visit) == 1


def test_privacy_export_and_erasure(app, client, auth, taif_ben, in_db):
    from plugins.delegates.models import Visit
    from plugins.delegates.privacy import anonymise_beneficiary, beneficiary_data
    from portal.models import Beneficiary

    auth.login("delegate")
    client.post(f"/delegates/beneficiaries/{taif_ben}/visit",
                data=visit_form(location_consent="1", latitude="21.27", longitude="40.41"))
    with in_db():
        ben = Beneficiary.get_by_id(taif_ben)
        exported = beneficiary_data(ben)
        assert exported["name"] == "delegates" and exported["data"]["visits"][0]["needs"]
        assert anonymise_beneficiary(ben, None)["anonymised"] == 1
    visit = rows(app, Visit)[0]
    assert visit.needs == "" and visit.latitude is None and not visit.location_consent


def test_demo_data(app, runner, users, make_beneficiary):
    from plugins.delegates.models import Activity, Plan

    for _ in range(5):
        make_beneficiary(branch="TAIF")
    result = runner.invoke(args=["demo", "--beneficiaries", "5", "--entries", "10"])
    assert result.exit_code == 0, result.output
    assert "delegates: plans 4, visits 2, contacts 3" in result.output
    assert count(app, Plan) == 4 and count(app, Activity) == 5
    again = runner.invoke(args=["demo", "--beneficiaries", "5", "--entries", "10"])  # the route is there already
    assert again.exit_code == 0 and "delegates:" not in again.output and count(app, Plan) == 4


def test_reordering_and_removing_stops(app, client, auth, users, make_beneficiary, in_db):
    from plugins.delegates import service as svc
    from plugins.delegates.models import Plan
    from portal.dates import saudi_today
    from portal.models import Beneficiary, User

    bens = [make_beneficiary(branch="TAIF") for _ in range(3)]
    with in_db():
        me = User.get_by_id(users["delegate"])
        plans = [svc.add_plan(delegate=me, beneficiary=Beneficiary.get_by_id(b), day=saudi_today(), note="",
                              actor=me).id for b in bens]

    def order():
        with in_db():
            return [p.id for p in svc.route(User.get_by_id(users["delegate"]), saudi_today())]

    auth.login("delegate")
    assert client.post(f"/delegates/plan/{plans[2]}/move", data={"direction": "up"}).status_code == 302
    assert order() == [plans[0], plans[2], plans[1]]
    client.post(f"/delegates/plan/{plans[0]}/move", data={"direction": "up"})  # already first: nothing moves
    assert order() == [plans[0], plans[2], plans[1]]
    assert client.post(f"/delegates/plan/{plans[0]}/move", data={"direction": "sideways"}).status_code == 400
    page = text_of(client.get("/delegates/plan"))
    assert "قبلها" in page and "احذف من خط السير" in page
    client.post(f"/delegates/plan/{plans[2]}/remove")
    assert order() == [plans[0], plans[1]]
    # a visit made keeps its stop
    client.post(f"/delegates/beneficiaries/{bens[0]}/visit", data=visit_form(plan=str(plans[0])))
    r = client.post(f"/delegates/plan/{plans[0]}/remove", follow_redirects=True)
    assert "الزيارة التي تمت تبقى في خط السير." in text_of(r) and order() == [plans[0], plans[1]]
    auth.logout()
    # another delegate may not change this route; an officer may
    with in_db():
        from portal.auth import hash_password

        User.create(username="delegate2", full_name="مندوب آخر", roles="delegate", branch=me.branch_id,
                    password_hash=hash_password("correct-horse-battery"))
    auth.login("delegate2")
    assert client.post(f"/delegates/plan/{plans[1]}/move", data={"direction": "up"}).status_code == 403
    auth.logout()
    auth.login("officer")
    client.post(f"/delegates/plan/{plans[1]}/move", data={"direction": "up"})
    assert order() == [plans[1], plans[0]]
    assert count(app, Plan) == 2
