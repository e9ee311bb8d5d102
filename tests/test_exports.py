"""Exports: every staff list to CSV and XLSX with the filters on screen, RTL in Arabic, Hijri beside Gregorian,
formula-safe cells, audited, refused to a role that may not see the list, constant memory."""
import csv
import io

import pytest

from openpyxl import load_workbook

from portal.db import database


def _xlsx(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.get_data()), read_only=False)


def _csv(response):
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_beneficiaries_xlsx_is_rtl_frozen_with_hijri_dates_and_filters(app, client, auth, make_beneficiary):
    from portal.models import AuditEvent

    make_beneficiary(first_name="=HYPERLINK(\"http://x\")", category="widow", birth_date="1990-01-01")
    make_beneficiary(category="orphan")
    auth.login("officer")
    response = client.get("/beneficiaries/export.xlsx?category=widow")
    ws = _xlsx(response).active
    assert ws.sheet_view.rightToLeft is True
    assert ws.freeze_panes == "A2"
    rows = list(ws.values)
    head = rows[0]
    assert len(rows) == 2  # the filter on screen: one widow
    name = rows[1][head.index("الاسم")]
    assert name.startswith("'=HYPERLINK")  # text, never a formula
    birth_g = [i for i, h in enumerate(head) if h.startswith("تاريخ الميلاد")]
    assert [head[i] for i in birth_g] == ["تاريخ الميلاد (ميلادي)", "تاريخ الميلاد (هجري)"]
    assert len(birth_g) == 2
    assert rows[1][birth_g[0]].date().isoformat() == "1990-01-01"
    assert rows[1][birth_g[1]] == "1410/06/04"
    with app.app_context(), database.connection_context():
        event = AuditEvent.select().where(AuditEvent.action == "export").order_by(AuditEvent.id.desc()).get()
        assert event.object_type == "beneficiary_list"
        assert event.details["rows"] == 1 and event.details["filters"] == {"category": "widow"}
        assert event.actor.username == "officer"


def test_beneficiaries_csv_in_english_is_ltr_and_safe(app, client, auth, make_beneficiary):
    make_beneficiary(family_name="+SUM(A1)", city="@cmd")
    auth.login("officer")
    client.post("/language", data={"lang": "en"})
    rows = _csv(client.get("/beneficiaries/export.csv"))
    assert rows[0][0] == "File number" and "Birth date (Hijri)" in rows[0]
    assert any(cell.startswith("'@cmd") for cell in rows[1])
    assert "'" + "سارة" not in rows[1][1]
    ws = _xlsx(client.get("/beneficiaries/export.xlsx")).active
    assert not ws.sheet_view.rightToLeft


def test_delegate_export_is_scoped_to_their_branch(client, auth, make_beneficiary):
    make_beneficiary(branch="TAIF")
    make_beneficiary(branch="MKK")
    auth.login("delegate")
    rows = _csv(client.get("/beneficiaries/export.csv"))
    assert len(rows) == 2


def test_requests_outreach_outbox_audit_exports(app, client, auth, make_beneficiary):
    from portal.models import Beneficiary, OutboxMessage

    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        OutboxMessage.create(beneficiary=Beneficiary.get_by_id(ben), text="-1+1", purpose="test")
    auth.login("admin")
    assert _csv(client.get("/cases/export.csv?status=draft"))[0][0] == "رقم الطلب"
    assert len(_csv(client.get("/outreach/export.csv"))) >= 1
    rows = _csv(client.get("/outbox/export.csv"))
    assert len(rows) == 2 and "'-1+1" in rows[1]
    ws = _xlsx(client.get("/admin/audit.xlsx?action=export")).active
    assert ws.max_row >= 3  # the three exports above, audited


def test_an_export_by_a_role_that_may_not_see_the_list_is_refused(client, auth):
    auth.login("researcher")
    assert client.get("/outbox/export.xlsx").status_code == 403
    assert client.get("/outreach/export.csv").status_code == 403
    assert client.get("/admin/audit.xlsx").status_code == 403
    auth.login("committee")
    assert client.get("/outbox/export.csv").status_code == 403
    assert client.get("/beneficiaries/export.pdf").status_code == 404


@pytest.mark.slow
def test_a_100000_row_xlsx_export_keeps_memory_flat(app):
    """The write-only workbook streams rows to a temporary file: peak traced memory stays far below
    the 150 MB budget (measured: printed with -s)."""
    import datetime as dt
    import tempfile
    import time
    import tracemalloc

    from portal.exports import Column, write_xlsx

    columns = [Column("n", "n", lambda r: r, "number"), Column("name", "الاسم", lambda r: f"=اسم {r}"),
               Column("day", "day", lambda r: dt.date(2024, 1, 1) + dt.timedelta(days=r % 300), "date"),
               Column("mobile", "mobile", lambda r: f"+9665{r:08d}")]
    with app.test_request_context():
        tracemalloc.start()
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out:
            n = write_xlsx(columns, iter(range(100_000)), out, rtl=True)
            size = out.tell()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"\n100,000-row XLSX: {size / 1e6:.1f} MB file, peak traced memory {peak / 1e6:.1f} MB, "
          f"{time.perf_counter() - started:.1f} s")
    assert n == 100_000
    assert peak < 150e6
