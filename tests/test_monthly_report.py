"""The monthly report PDF: its indicators read back from the PDF, one stored row per month however often it
is made, the managers' button and download, and the worker's task on the first day of the month."""
from __future__ import annotations

import datetime as dt
import io

import pytest

from portal.db import database
from portal.models import AuditEvent, Case, MonthlyReport



def at(day: int, hour: int = 9, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour)


def pdf_text(data: bytes) -> str:
    """The text of the PDF in logical order (pypdf; ``pdftotext`` splits Arabic ligatures apart)."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def november(app, users, make_beneficiary):
    """November 2026: three requests received, two decided (one within the deadline), two services delivered
    to one file, and one complaint answered within its deadline."""
    from portal.complaints.models import Complaint
    from portal.workflow.models import Delivery

    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        kept = Case.create(reference="1448-000001", beneficiary=ben, status="served", request_type="food_basket",
                           created_at=at(1), submitted_at=at(2), awaiting_committee_at=at(3),
                           committee_due_at=at(17), decided_at=at(10), decision="approved")
        Case.create(reference="1448-000002", beneficiary=ben, status="rejected", request_type="rent",
                    created_at=at(1), submitted_at=at(2), awaiting_committee_at=at(3), committee_due_at=at(17),
                    decided_at=at(20), decision="rejected")
        Case.create(reference="1448-000003", beneficiary=ben, status="submitted", created_at=at(4), submitted_at=at(5))
        Case.create(reference="1448-000004", beneficiary=ben, status="submitted", created_at=at(4, month=10),
                    submitted_at=at(5, month=10))
        for n in range(2):
            Delivery.create(case=kept, what="سلة", amount=150, delivered_on=dt.date(2026, 11, 12 + n))
        Complaint.create(reference="C-1", kind="complaint", channel="phone", text="شكوى", deadline=dt.date(2026, 11, 9),
                         created_at=at(2), answered_at=at(8))
    return ben


def _figure(text: str, label: str) -> str:
    line = next(line for line in text.splitlines() if label in line)
    return line


def test_the_pdf_has_the_indicators_and_is_stored_once_when_made_twice(app, november):
    from portal import monthly_report
    from portal.uploads import read_stored

    with app.test_request_context(), database.connection_context():
        first = monthly_report.produce(dt.date(2026, 11, 1))
        text = pdf_text(read_stored(first.sha256))
        assert "التقرير الشهري" in text
        assert "2026" in text and "1448" in text  # Gregorian and Hijri dates
        for label, value in (("المستفيدون المخدومون", "1"), ("الطلبات الواردة", "3"), ("الطلبات المبتّ فيها", "2"),
                             ("بُتّ فيها خلال مهلة اللجنة", "1"), ("بُتّ فيها بعد مهلة اللجنة", "1"),
                             ("الشكاوى المجاب عنها ضمن مهلتها", "1")):
            line = _figure(text, label)
            assert line.strip().endswith(value), line
        assert "الخدمات المقدّمة حسب النوع" in text
        assert "الرضا" in text or "CSAT" in text
        again = monthly_report.produce(dt.date(2026, 11, 20))
        assert MonthlyReport.select().count() == 1
        assert again.id == first.id and again.month == "2026-11"
        assert AuditEvent.select().where(AuditEvent.object_type == "monthly_report").count() == 2


def test_making_the_same_month_at_once_keeps_one_row(app, users):
    """The row is written with an insert-or-update on the unique month: a second insert of the same month
    (another worker) updates it."""
    with app.app_context(), database.connection_context():
        for sha in ("a" * 64, "b" * 64):
            (MonthlyReport.insert(month="2026-10", sha256=sha, file_name="x.pdf", size=1, created_at=at(1))
             .on_conflict(conflict_target=[MonthlyReport.month], update={MonthlyReport.sha256: sha}).execute())
        assert [r.sha256 for r in MonthlyReport.select()] == ["b" * 64]
        from peewee import IntegrityError

        with pytest.raises(IntegrityError), database.atomic():
            MonthlyReport.create(month="2026-10", sha256="c" * 64, file_name="y.pdf", size=1)


def test_a_manager_makes_lists_and_downloads_a_month(app, client, november):
    client.post("/login", data={"username": "manager", "password": "correct-horse-battery"})
    made = client.post("/reports/monthly", data={"month": "2026-11"})
    assert made.status_code == 302
    page = client.get("/reports/?period=custom&from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    assert 'id="monthly"' in page and "نوفمبر 2026" in page
    with app.app_context(), database.connection_context():
        row = MonthlyReport.get(MonthlyReport.month == "2026-11")
    assert f"/reports/monthly/{row.id}.pdf" in page
    pdf = client.get(f"/reports/monthly/{row.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    client.post("/reports/monthly", data={"month": "2026-11"})
    with app.app_context(), database.connection_context():
        assert MonthlyReport.select().count() == 1
    assert client.get("/reports/monthly/9999.pdf").status_code == 404


@pytest.mark.parametrize("month", ["", "2026-13", "next", "2099-01", "1999-12"])
def test_a_bad_month_is_refused_with_a_message(app, client, users, month):
    client.post("/login", data={"username": "manager", "password": "correct-horse-battery"})
    answer = client.post("/reports/monthly", data={"month": month}, follow_redirects=True)
    assert answer.status_code == 200
    assert "اختر شهرًا قد بدأ" in answer.get_data(as_text=True)
    with app.app_context(), database.connection_context():
        assert MonthlyReport.select().count() == 0


@pytest.mark.parametrize("role", ["officer", "delegate", "researcher", "committee"])
def test_only_managers_and_admins_make_or_download_monthly_reports(app, client, users, role):
    client.post("/login", data={"username": role, "password": "correct-horse-battery"})
    assert client.post("/reports/monthly", data={"month": "2026-11"}).status_code == 403
    assert client.get("/reports/monthly/1.pdf").status_code == 403


def test_the_worker_makes_last_month_on_the_first_day(app, november, monkeypatch):
    from portal import monthly_report

    made = []
    monkeypatch.setattr(monthly_report, "render_pdf", lambda month, sections=None: made.append(month) or b"%PDF-1.4 x")
    with app.test_request_context(), database.connection_context():
        # a manager made November before it was over; on 1 December the worker makes it again, whole
        monthly_report.produce(dt.date(2026, 11, 1))
        assert monthly_report.produce_due(dt.date(2026, 11, 20)).month == "2026-10"  # October was missing
        assert monthly_report.produce_due(dt.date(2026, 11, 21)) is None
        row = monthly_report.produce_due(dt.date(2026, 12, 1))
        assert row.month == "2026-11" and row.created_by is None
        assert monthly_report.produce_due(dt.date(2026, 12, 2)) is None  # done already
        # the worker did not run on 1 January: the next morning catches December up, once
        assert monthly_report.produce_due(dt.date(2027, 1, 2)).month == "2026-12"
        assert monthly_report.produce_due(dt.date(2027, 1, 3)) is None
        assert MonthlyReport.select().count() == 3
    assert made == [dt.date(2026, 11, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    # the periodic task runs every morning at 03:50 UTC (06:50 in Riyadh), after the nightly counts
    task = monthly_report.monthly_report_task.task_class()
    assert task.validate_datetime(dt.datetime(2026, 12, 1, 3, 50))
    assert task.validate_datetime(dt.datetime(2026, 12, 2, 3, 50))
    assert not task.validate_datetime(dt.datetime(2026, 12, 1, 4, 50))
