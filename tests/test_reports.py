"""The managers' reports (``/reports/``): exact figures on hand-made requests, the committee's deadline, the
median and 90th percentile of the days spent in a step, a delegate's branch, Hijri and Gregorian periods, bad
periods, the CSV/XLSX downloads and the ``report_sections`` hook."""
from __future__ import annotations

import datetime as dt
import io
from urllib.parse import parse_qsl

import pytest
from flask_babel import force_locale, gettext
from hijridate import Hijri

from conftest import text_of
from portal import create_app, hookimpl
from portal.db import database
from portal.models import AuditEvent, Beneficiary, Branch, Case
from portal.text import isolate

NOV = "period=custom&calendar=gregorian&from=2026-11-01&to=2026-11-30"


def at(day: int, hour: int = 9, month: int = 11) -> dt.datetime:
    """A stored (UTC) time on a Saudi day of 2026 (09:00 UTC is 12:00 in Riyadh)."""
    return dt.datetime(2026, month, day, hour)


@pytest.fixture
def data(app, users, make_beneficiary):
    """Requests opened in November 2026: four of TAIF files, two of a MKK file; one in October (outside)."""
    taif_ben = make_beneficiary()
    mkk_ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        taif = Branch.get(Branch.code == "TAIF")
        mkk = Branch.get(Branch.code == "MKK")
        Beneficiary.update(branch=taif).where(Beneficiary.id == taif_ben).execute()
        Beneficiary.update(branch=mkk).where(Beneficiary.id == mkk_ben).execute()
        rows = [
            # reference, file, state, type, channel, opened
            ("1448-000001", taif_ben, "submitted", "food_basket", "phone", at(2)),
            ("1448-000002", taif_ben, "submitted", "rent", "interview", at(5)),
            ("1448-000003", taif_ben, "approved", "food_basket", "phone", at(10)),
            ("1448-000004", taif_ben, "rejected", "food_basket", "website", at(29, 22)),  # 30 Nov in Riyadh
            ("1448-000005", mkk_ben, "approved", "rent", "phone", at(15)),
            ("1448-000006", mkk_ben, "draft", "rent", "phone", at(30, 22)),  # 1 December in Riyadh: outside
            ("1448-000007", mkk_ben, "submitted", "rent", "phone", at(20, month=10)),  # October: outside
        ]
        for ref, ben, status, rtype, channel, opened in rows:
            Case.create(reference=ref, beneficiary=ben, status=status, request_type=rtype, channel=channel,
                        created_at=opened, status_changed_at=opened)
    return {"taif": taif_ben, "mkk": mkk_ben}


def _login(client, role):
    client.post("/login", data={"username": role, "password": "correct-horse-battery"})


def _rows(app, key, query=NOV, role="manager", branch=None):
    """The rows of one report table, read through the service as the page builds it."""
    from werkzeug.datastructures import MultiDict

    from portal import reports
    from portal.models import User

    with app.test_request_context("/reports/?" + query), database.connection_context():
        user = User.get(User.username == role)
        errors = {}
        period = reports.parse_period(MultiDict(parse_qsl(query)), errors)
        assert not errors, errors
        chosen = reports.branch_for(user, branch)
        table = reports.find_table(reports.build(period, chosen, user), key)
        return {str(label): values for label, values in table.rows}


def test_requests_by_state_type_channel_branch_and_month(app, data):
    states = _rows(app, "requests_by_state")
    assert sorted(v[0] for v in states.values()) == [1, 2, 2]
    assert sum(v[0] for v in states.values()) == 5
    types = _rows(app, "requests_by_type")
    assert sorted(v[0] for v in types.values()) == [2, 3]
    channels = _rows(app, "requests_by_channel")
    assert sorted(v[0] for v in channels.values()) == [1, 1, 3]
    branches = _rows(app, "requests_by_branch")
    assert branches == {"مكتب الطائف": [4], "مكتب مكة المكرمة": [1]}
    months = _rows(app, "requests_by_month")
    assert months == {"نوفمبر 2026": [5]}


def test_the_page_shows_the_figures_with_a_chart_beside_each_table(app, client, data):
    _login(client, "manager")
    page = client.get("/reports/?" + NOV)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="fig-requests-opened"' in html
    opened = html.split('id="fig-requests-opened"')[1].split("</strong>")[0]
    assert "<bdi>5</bdi>" in opened
    table = html.split('id="table-requests_by_state"')[1].split('class="report-table"')[0]
    assert "<svg" in table and "<table>" in table
    assert "reports/export/requests_by_state.csv" in table
    assert 'dir="rtl"' in html
    # the menu link for managers
    assert 'href="/reports/"' in html


def test_months_of_a_longer_period_are_counted_in_one_query(app, data):
    months = _rows(app, "requests_by_month", "period=custom&calendar=gregorian&from=2026-10-01&to=2026-11-30")
    assert months == {"أكتوبر 2026": [1], "نوفمبر 2026": [5]}


def test_a_hijri_period_gives_the_numbers_of_the_matching_gregorian_days(app, data):
    # Jumada al-Ula 1448 in Gregorian days
    first = Hijri(1448, 5, 1).to_gregorian()
    last = Hijri(1448, 6, 1).to_gregorian()
    last = dt.date(last.year, last.month, last.day) - dt.timedelta(days=1)
    hijri_q = "period=custom&calendar=hijri&from=1448-05-01&to=1448-05-%02d" % (
        (last - dt.date(first.year, first.month, first.day)).days + 1)
    greg_q = f"period=custom&calendar=gregorian&from={dt.date(first.year, first.month, first.day)}&to={last}"
    for key in ("requests_by_state", "requests_by_type", "requests_by_channel", "requests_by_branch"):
        assert _rows(app, key, hijri_q) == _rows(app, key, greg_q), key
    assert sum(v[0] for v in _rows(app, "requests_by_month", hijri_q).values()) == sum(
        v[0] for v in _rows(app, "requests_by_state", greg_q).values())
    # the Hijri month is named by its Hijri name
    assert list(_rows(app, "requests_by_month", hijri_q)) == ["جمادى الأولى 1448"]


def test_the_committee_deadline_kept_or_missed(app, client, data):
    with app.app_context(), database.connection_context():
        ben = data["taif"]
        due = at(12)
        for n, decided in enumerate((at(11), at(12, 8), at(13), at(20))):  # two kept, two missed
            Case.create(reference=f"1448-10000{n}", beneficiary=ben, status="approved", created_at=at(1),
                        awaiting_committee_at=at(1), committee_due_at=due, decided_at=decided, decision="approved")
        # waiting past its deadline, not decided
        Case.create(reference="1448-100009", beneficiary=ben, status="awaiting_committee", created_at=at(1),
                    awaiting_committee_at=at(1), committee_due_at=at(15))
    assert list(_rows(app, "committee_deadline").values()) == [[2, 2]]
    _login(client, "manager")
    html = client.get("/reports/?" + NOV).get_data(as_text=True)
    overdue = html.split('id="fig-deadline-overdue"')[1].split("</strong>")[0]
    assert "<bdi>1</bdi>" in overdue


def test_median_and_90th_percentile_of_known_durations(app, data):
    with app.app_context(), database.connection_context():
        ben = data["taif"]
        for n, days in enumerate((1, 2, 3, 4, 10)):
            start = at(1)
            Case.create(reference=f"1448-20000{n}", beneficiary=ben, status="approved", created_at=start,
                        awaiting_committee_at=start, decided_at=start + dt.timedelta(days=days), decision="approved")
        # research step: three requests, 0.5, 1.5 and 2 days
        for n, hours in enumerate((12, 36, 48)):
            Case.create(reference=f"1448-30000{n}", beneficiary=ben, status="awaiting_committee", created_at=at(3),
                        referred_at=at(3), awaiting_committee_at=at(3) + dt.timedelta(hours=hours))
    rows = _rows(app, "step_durations")
    committee = next(v for k, v in rows.items() if k.startswith("5."))
    assert committee[0] == 5
    assert committee[1] == pytest.approx(3.0)
    assert committee[2] == pytest.approx(7.6)  # between 4 and 10, at 0.6 of the way (linear, as percentile_cont)
    research = next(v for k, v in rows.items() if k.startswith("3."))
    assert research == [3, pytest.approx(1.5), pytest.approx(1.9)]
    service = next(v for k, v in rows.items() if k.startswith("7."))
    assert service == [0, None, None]


def test_a_delegate_sees_only_their_branch(app, client, data):
    assert _rows(app, "requests_by_branch", role="delegate") == {"مكتب الطائف": [4]}
    _login(client, "delegate")
    page = client.get("/reports/?" + NOV + "&branch=999")  # a branch asked for is ignored for a delegate
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    opened = html.split('id="fig-requests-opened"')[1].split("</strong>")[0]
    assert "<bdi>4</bdi>" in opened
    assert "مكتب مكة المكرمة" not in html
    assert client.get("/reports/export/requests_by_branch.csv?" + NOV).get_data(as_text=True).count("\n") == 2
    # a delegate makes no monthly report
    assert client.post("/reports/monthly", data={"month": "2026-11"}).status_code == 403


def test_a_manager_may_choose_a_branch(app, data):
    with app.app_context(), database.connection_context():
        mkk = Branch.get(Branch.code == "MKK").id
    assert _rows(app, "requests_by_branch", branch=str(mkk)) == {"مكتب مكة المكرمة": [1]}


@pytest.mark.parametrize("role", ["officer", "researcher", "committee"])
def test_roles_without_reports_are_refused(app, client, users, role):
    _login(client, role)
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/export/requests_by_state.csv").status_code == 403


@pytest.mark.parametrize("query, field, message", [
    ("period=custom&from=2026-11-30&to=2026-11-01", "to", "The end date is before the start date."),
    ("period=custom&from=2026-02-30&to=2026-03-01", "from", "This date does not exist."),
    ("period=custom&calendar=hijri&from=1448-03-30&to=1448-04-05", "from", "This Hijri date does not exist."),
    ("period=custom&from=&to=2026-03-01", "from", "Enter the first day of the period."),
    ("period=custom&from=2020-01-01&to=2026-03-01", "to", "Choose a period of at most three years."),
    ("period=someday", "period", "Choose a period."),
    ("period=custom&from=0001-01-01&to=0001-02-01", "from", "Choose a day between %(first)s and %(last)s."),
    ("period=custom&from=9999-12-01&to=9999-12-31", "from", "Choose a day between %(first)s and %(last)s."),
    ("period=custom&calendar=hijri&from=1200-01-01&to=1200-02-01", "from", "This Hijri date does not exist."),
    ("period=custom&calendar=lunar&from=2026-01-01&to=2026-02-01", "calendar",
     "Choose the Hijri or the Gregorian calendar."),
])
def test_a_bad_period_gets_a_clear_message_and_keeps_the_form(app, client, users, query, field, message):
    _login(client, "manager")
    page = client.get("/reports/?" + query)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'id="report-errors"' in html
    assert 'id="report-requests"' not in html
    with app.test_request_context(), force_locale("ar"):
        arabic = gettext(message, first=isolate("1925"), last=isolate("2076")) if "%(first)s" in message else gettext(message)
    assert arabic != message and arabic in html
    for part in query.split("&"):
        key, _eq, value = part.partition("=")
        if key in ("from", "to") and value:
            assert f'value="{value}"' in html


def test_each_table_downloads_as_csv_and_xlsx_and_is_audited(app, client, data):
    from openpyxl import load_workbook

    _login(client, "manager")
    csv = client.get("/reports/export/requests_by_branch.csv?" + NOV)
    assert csv.status_code == 200
    body = csv.get_data(as_text=True)
    assert "مكتب الطائف,4" in body and "مكتب مكة المكرمة,1" in body
    xlsx = client.get("/reports/export/step_durations.xlsx?" + NOV)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.sheet_view.rightToLeft
    assert sheet.max_row == 8  # the header and the seven steps
    assert client.get("/reports/export/nothing.csv?" + NOV).status_code == 404
    assert client.get("/reports/export/requests_by_state.pdf?" + NOV).status_code == 404
    assert client.get("/reports/export/requests_by_state.csv?period=custom&from=x").status_code == 422
    with app.app_context(), database.connection_context():
        events = list(AuditEvent.select().where((AuditEvent.action == "export") & (AuditEvent.object_type == "report")))
        assert len(events) == 2
        assert events[0].details["filters"]["table"] == "requests_by_branch"
        assert events[0].details["rows"] == 2 and events[0].details["finished"]


def test_the_page_reads_with_a_fixed_number_of_queries(app, client, data):
    from playhouse.test_utils import count_queries

    _login(client, "manager")
    client.get("/reports/?" + NOV)
    with count_queries() as few:
        client.get("/reports/?" + NOV)
    with app.app_context(), database.connection_context():
        ben = data["taif"]
        for n in range(30):
            Case.create(reference=f"1448-5{n:05d}", beneficiary=ben, status="submitted", created_at=at(3),
                        request_type=f"type{n}", channel="phone")
    with count_queries() as many:
        client.get("/reports/?" + NOV)
    assert many.count == few.count


def test_hook_report_sections(app_config, users):
    from portal.reports import Figure, Section, Table, chart_for

    seen = {}

    class Plugin:
        @hookimpl
        def report_sections(self, start, end, branch, user):
            seen.update(start=start, end=end, branch=branch, user=user.username)
            table = Table("pigeon_flights", "رحلات الحمام", ["الوجهة", "الرحلات"], [("جدة", [7]), ("الطائف", [3])])
            table.chart = chart_for(table)
            return [Section("pigeons", "الحمام الزاجل", [Figure("flights", "رحلات", 10)], [table])]

    app = create_app(dict(app_config, EXTRA_PLUGINS=[Plugin()]))
    client = app.test_client()
    _login(client, "delegate")
    html = client.get("/reports/?" + NOV).get_data(as_text=True)
    assert 'id="report-pigeons"' in html and "رحلات الحمام" in html
    with app.app_context(), database.connection_context():
        taif = Branch.get(Branch.code == "TAIF").id
    assert seen == {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30), "branch": taif, "user": "delegate"}
    body = client.get("/reports/export/pigeon_flights.csv?" + NOV).get_data(as_text=True)
    assert "جدة,7" in body


def test_satisfaction_and_complaints_answer_the_hook(app, client, data):
    from portal.complaints.models import Complaint

    with app.app_context(), database.connection_context():
        for n, (answered, deadline) in enumerate(((at(3), dt.date(2026, 11, 3)), (at(9), dt.date(2026, 11, 5)),
                                                  (None, dt.date(2026, 11, 20)))):
            Complaint.create(reference=f"C-{n}", kind="complaint", channel="phone", text="شكوى", deadline=deadline,
                             created_at=at(1), answered_at=answered, beneficiary=data["taif"])
    _login(client, "manager")
    html = client.get("/reports/?" + NOV).get_data(as_text=True)
    assert 'id="report-satisfaction"' in html
    answered = html.split('id="fig-complaints-answered"')[1].split("</strong>")[0]
    kept = html.split('id="fig-complaints-within_deadline"')[1].split("</strong>")[0]
    assert "<bdi>2</bdi>" in answered and "<bdi>1</bdi>" in kept


@pytest.mark.needs_plugins("letters")
def test_letters_answer_the_hook_with_the_letters_issued(app, client, data):
    from plugins.letters.models import Letter

    with app.app_context(), database.connection_context():
        for n, issued in enumerate((at(4), at(6), at(5, month=10))):
            Letter.create(number=f"L-{n}", hijri_year=1448, sequence=n, subject="خطاب", issued_at=issued,
                          pdf_sha256="0" * 64, pdf_size=1, verify_code="x", beneficiary=data["taif"])
    _login(client, "manager")
    html = client.get("/reports/?" + NOV).get_data(as_text=True)
    issued = html.split('id="fig-letters-issued"')[1].split("</strong>")[0]
    assert "<bdi>2</bdi>" in issued


def test_services_delivered_by_kind_and_beneficiaries_served(app, client, data):
    from portal.workflow.models import Delivery

    with app.app_context(), database.connection_context():
        taif_case = Case.get(Case.reference == "1448-000003")  # food basket, TAIF
        mkk_case = Case.get(Case.reference == "1448-000005")  # rent, MKK
        for day in (3, 17):
            Delivery.create(case=taif_case, what="سلة", amount=100, delivered_on=dt.date(2026, 11, day))
        Delivery.create(case=mkk_case, what="إيجار", amount=1500, delivered_on=dt.date(2026, 11, 20))
        Delivery.create(case=mkk_case, what="إيجار", amount=1500, delivered_on=dt.date(2026, 12, 1))  # outside
    rows = _rows(app, "services_by_kind")
    assert sorted(rows.values()) == [[1, 1, 1500.0], [2, 1, 200.0]]
    assert sorted(_rows(app, "services_by_kind", role="delegate").values()) == [[2, 1, 200.0]]
    _login(client, "manager")
    html = client.get("/reports/?" + NOV).get_data(as_text=True)
    assert "<bdi>2</bdi>" in html.split('id="fig-services-served"')[1].split("</strong>")[0]
    assert "<bdi>3</bdi>" in html.split('id="fig-services-deliveries"')[1].split("</strong>")[0]
