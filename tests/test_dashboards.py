"""A screen per role: each role lands on its own work, no dashboard link leads to a page the role cannot
open, the queries stay bounded, and the managers' charts are drawn with their data beside them."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playhouse.test_utils import count_queries

from portal import stats
from portal.dates import from_saudi, saudi_today
from portal.db import database, utcnow

PASSWORD = "a-long-demo-password-2026"
SECTION_OF = {"officer": "dash-work", "delegate": "dash-work", "researcher": "dash-research",
              "committee": "dash-committee", "manager": "dash-indicators", "admin": "dash-health"}


@pytest.fixture
def demo(app, runner):
    """The demo data (one user per role, requests in every state, a committee session) with known passwords."""
    from portal.auth import hash_password
    from portal.models import User
    from portal.workflow import committee

    result = runner.invoke(args=["demo", "--beneficiaries", "120", "--entries", "1500"])
    assert result.exit_code == 0, result.output
    with app.app_context(), database.connection_context():
        User.update(password_hash=hash_password(PASSWORD)).execute()
        members = committee.active_committee()
        chair = next(m for m in members if m.username == "committee")
        committee.open_session(held_on=dt.date.today(), chair=chair, quorum="", members=members, actor=chair)
    return app


def _login(client, username):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def _links(html: str) -> list[str]:
    hrefs = {h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"#]*)"', html)}
    return sorted(h for h in hrefs if not h.startswith(("/static/", "/fonts/", "/assets/")))


@pytest.mark.parametrize("role", ["officer", "delegate", "researcher", "committee", "manager", "admin"])
def test_every_dashboard_link_opens_for_the_role(demo, role):
    client = demo.test_client()
    _login(client, role)
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="{SECTION_OF[role]}"' in html
    for other in set(SECTION_OF.values()) - {SECTION_OF[role]}:
        assert f'id="{other}"' not in html, other  # only the role's own work
    links = _links(html)
    assert len(links) >= 8
    refused = []
    for link in links:
        status = client.get(link).status_code
        if status in (403, 404) or status >= 500:
            refused.append((link, status))
    assert refused == [], refused


def test_officer_sees_what_is_due_first(demo):
    from portal.models import Beneficiary, Case, TimelineEntry
    from portal.timeline import log_entry
    from portal.workflow.models import OutreachTask

    with demo.app_context(), database.connection_context():
        ben = Beneficiary.select().first()
        OutreachTask.create(beneficiary=ben, kind="call_back", reason="اتصال فائت من المستفيد", key="cb-test",
                            due=dt.date.today() - dt.timedelta(days=1))
        TimelineEntry.create(beneficiary=ben, channel="interview", direction="in", summary="حضر إلى المكتب اليوم",
                             occurred_at=utcnow())  # the newest walk-in (the demo's interviews are minutes old)
        # Through the timeline service, which marks the undelivered one in the same transaction.
        log_entry(beneficiary=ben, channel="system", direction="out",
                  summary="لم تُرسل الرسالة: لا توجد قناة", body="رسالة لم تصل إلى المستفيد",
                  data={"kind": "notification", "purpose": "decision", "sent": False})
        log_entry(beneficiary=ben, channel="system", direction="out", summary="أُرسلت",
                  body="رسالة وصلت", data={"kind": "notification", "purpose": "decision", "sent": True})
        incomplete = Case.select().where(Case.status == "incomplete").order_by(Case.status_changed_at).first()
    client = demo.test_client()
    _login(client, "officer")
    html = client.get("/?lang=en").get_data(as_text=True)
    order = [html.index(f'id="{key}"') for key in ("dash-callbacks", "dash-walk-ins", "dash-incomplete",
                                                  "dash-undelivered", "h-today", "h-open")]
    assert order == sorted(order)  # most urgent first
    section = lambda key: html[html.index(f'id="{key}"'):].split("</section>", 1)[0]  # noqa: E731
    assert "اتصال فائت من المستفيد" in section("dash-callbacks")
    assert "حضر إلى المكتب اليوم" in section("dash-walk-ins")
    assert incomplete.reference in section("dash-incomplete")
    assert "رسالة لم تصل إلى المستفيد" in section("dash-undelivered")
    assert "رسالة وصلت" not in section("dash-undelivered")


def test_delegate_sees_only_the_branch(demo):
    from portal.models import Beneficiary, Branch

    client = demo.test_client()
    _login(client, "delegate")
    html = client.get("/").get_data(as_text=True)
    ids = {int(i) for i in re.findall(r'href="/beneficiaries/(\d+)"', html)}
    assert ids
    with demo.app_context(), database.connection_context():
        taif = Branch.get(Branch.code == "TAIF")
        assert {b.branch_id for b in Beneficiary.select().where(Beneficiary.id.in_(ids))} == {taif.id}
        assert taif.name_ar in html


def test_researcher_visits_are_ordered_by_due_date(demo):
    from portal.models import Case, User

    with demo.app_context(), database.connection_context():
        me = User.get(User.username == "researcher")
        mine = list(Case.select().where((Case.assigned_researcher == me) & (Case.status == "in_research"))
                    .order_by(Case.referred_at))
    assert mine
    client = demo.test_client()
    _login(client, "researcher")
    html = client.get("/").get_data(as_text=True)
    section = html[html.index('id="dash-research"'):]
    positions = [section.index(c.reference) for c in mine]
    assert positions == sorted(positions)


def test_committee_member_sees_the_agenda_with_research_summaries(demo):
    from portal.models import Case
    from portal.workflow.models import ResearchReport

    with demo.app_context(), database.connection_context():
        waiting = list(Case.select().where(Case.status == "awaiting_committee"))
        needs = {r.needs for r in ResearchReport.select().where(ResearchReport.case.in_([c.id for c in waiting]))}
    client = demo.test_client()
    _login(client, "committee2")
    html = client.get("/?lang=en").get_data(as_text=True)
    section = html[html.index('id="dash-committee"'):]
    assert "Next session" in section and "/committee/sessions/" in section
    for case in waiting:
        assert case.reference in section
    assert any(n in section for n in needs)
    assert "You have not voted yet." in section


def test_manager_charts_are_svg_with_their_tables(demo):
    from portal.models import Case

    client = demo.test_client()
    _login(client, "manager")
    for lang, direction in (("ar", "rtl"), ("en", "ltr")):
        html = client.get(f"/?lang={lang}").get_data(as_text=True)
        section = html[html.index('id="dash-indicators"'):]
        for chart in ("chart-states", "chart-deadline", "chart-channels"):
            block = section[section.index(f'id="{chart}"'):].split("</section>", 1)[0]
            assert '<svg xmlns="http://www.w3.org/2000/svg"' in block and 'role="img"' in block
            assert "<table>" in block  # the data beside the chart
            assert "<script" not in block
    with demo.app_context(), database.connection_context():
        today = saudi_today()  # the charts count Saudi months
        month_start = from_saudi(dt.datetime(today.year, today.month, 1))
        this_month = Case.select().where(Case.created_at >= month_start).count()
    rows = re.findall(r'<tr><th scope="row">[^<]*</th>((?:<td><bdi>\d+</bdi></td>){4})</tr>', html)
    assert len(rows) == 6
    assert sum(int(n) for n in re.findall(r"\d+", rows[-1])) == this_month


def test_deadline_chart_counts_kept_and_missed(app, auth, client, make_beneficiary):
    from portal.dashboard import _indicators_section
    from portal.models import Case

    ben = make_beneficiary()
    now = utcnow()
    with app.app_context(), database.connection_context():
        for n, late in enumerate((False, False, True)):
            waiting = now - dt.timedelta(days=20)
            Case.create(reference=f"1448-9{n:05d}", beneficiary=ben, status="approved", decision="approved",
                        awaiting_committee_at=waiting, committee_due_at=waiting + dt.timedelta(days=14),
                        decided_at=waiting + dt.timedelta(days=16 if late else 3), created_at=waiting)
        Case.create(reference="1448-900009", beneficiary=ben, status="awaiting_committee",
                    awaiting_committee_at=now - dt.timedelta(days=15), committee_due_at=now - dt.timedelta(days=1))
        stats.recount_all()  # rows written outside the workflow: counted by the nightly recount
    auth.login("manager")
    with app.test_request_context("/"), database.connection_context():
        from flask_login import login_user

        from portal.models import User

        login_user(User.get(User.username == "manager"))
        section = _indicators_section(now, now.date())
    totals = {"kept": 0, "missed": 0}
    for month in section["deadline"].values():
        totals["kept"] += month["kept"]
        totals["missed"] += month["missed"]
    assert totals == {"kept": 2, "missed": 1}
    assert section["overdue_now"] == 1


def _add_work(app, beneficiaries: int, start: int) -> None:
    """Walk-ins, undelivered messages and call-backs for ``beneficiaries`` files, incomplete requests."""
    from portal.models import Beneficiary, Case, TimelineEntry
    from portal.workflow.models import OutreachTask

    with app.app_context(), database.connection_context():
        for ben in Beneficiary.select().offset(start).limit(beneficiaries):
            TimelineEntry.create(beneficiary=ben, channel="interview", direction="in", summary="زيارة")
            TimelineEntry.create(beneficiary=ben, channel="system", direction="out", summary="لم تُرسل",
                                 data={"kind": "notification", "sent": False})
            OutreachTask.create(beneficiary=ben, kind="call_back", reason="اتصال", key=f"cb-{ben.id}",
                                due=dt.date.today())
        Case.update(status="incomplete").where(Case.status == "submitted").execute()


def _split_type_lookups(counter) -> tuple[int, int]:
    sql = [record.msg[0] for record in counter.get_queries()]
    types = sum(1 for q in sql if q.startswith('SELECT') and 'FROM "request_type"' in q)
    return types, len(sql) - types


@pytest.mark.parametrize("role", ["officer", "delegate", "researcher", "committee", "manager", "admin"])
def test_dashboard_queries_do_not_grow_with_the_data(demo, role):
    client = demo.test_client()
    _login(client, role)
    _add_work(demo, 2, 0)  # one of each kind on the page already
    client.get("/")  # warm up (caches of request types and channels)
    with demo.app_context():
        with count_queries() as before:
            assert client.get("/").status_code == 200
    _add_work(demo, 40, 2)
    with demo.app_context():
        with count_queries() as after:
            assert client.get("/").status_code == 200
    # The names of the request types are read once per page, and only when a request's entry is among the rows
    # shown (which rows those are depends on the data): counted apart, at most once.
    before_types, before_rest = _split_type_lookups(before)
    after_types, after_rest = _split_type_lookups(after)
    assert before_types <= 1 and after_types <= 1, (before_types, after_types)
    assert after_rest == before_rest, (before_rest, after_rest)
    assert before_rest <= 30, before_rest  # the officer's page with every plugin's widget is the fullest


def test_a_role_without_a_section_gets_a_plain_page(app, auth, client, monkeypatch):
    from portal import dashboard

    monkeypatch.setattr(dashboard, "SECTIONS", tuple(s for s in dashboard.SECTIONS if "manager" not in s[0]))
    auth.login("manager")
    page = client.get("/?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="no-section"' in html and "There is no work list for your role" in html
    assert 'id="dash-q"' in html  # the search still works


def test_plugin_widgets_still_show(app, auth, client):
    auth.login("manager")
    assert 'id="h-overdue"' in client.get("/").get_data(as_text=True)  # the workflow's own dashboard_widgets


def test_contacts_today_count_people_only(app, client, auth, make_beneficiary):
    """The workflow's own events (channel system) and internal notes are not contacts with people."""
    from portal.db import database
    from portal.models import Beneficiary
    from portal.timeline import log_entry

    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        b = Beneficiary.get_by_id(ben)
        log_entry(channel="interview", direction="in", summary="زيارة للمكتب", beneficiary=b)
        log_entry(channel="system", direction="out", summary="حدث في سير الطلب", beneficiary=b)
        log_entry(channel="interview", direction="internal", summary="ملاحظة داخلية", beneficiary=b)
    auth.login("officer")
    page = client.get("/").get_data(as_text=True)
    recent = page.split('id="h-today"')[1].split("</section>")[0]
    assert "زيارة للمكتب" in recent and "حدث في سير الطلب" not in recent and "ملاحظة داخلية" not in recent


def test_requests_count_in_the_saudi_month_they_were_opened(app, make_beneficiary):
    """A request opened at 22:30 UTC on the last day of a month was opened after midnight in Riyadh: it belongs
    to the next month's bar."""
    from flask_babel import force_locale

    from portal.dashboard import _indicators_section
    from portal.models import Case

    ben = make_beneficiary()
    now = dt.datetime(2026, 12, 15, 9, 0)
    with app.test_request_context("/?lang=en"), database.connection_context(), force_locale("en"):
        Case.create(reference="1448-800001", beneficiary=ben, status="submitted", created_at=dt.datetime(2026, 11, 30, 22, 30))
        Case.create(reference="1448-800002", beneficiary=ben, status="submitted", created_at=dt.datetime(2026, 11, 30, 20, 30))
        stats.recount_all(today=dt.date(2026, 12, 15))  # written outside the workflow: the nightly recount
        section = _indicators_section(now, dt.date(2026, 12, 15))
    totals = {key: sum(counts.values()) for key, counts in section["by_month"].items()}
    assert (totals[(2026, 11)], totals[(2026, 12)]) == (1, 1)
