"""The beneficiary import: files checked by content, columns guessed from Arabic or English headers, a dry run
that names each bad row, batches that keep the good rows, re-import that changes nothing, the rejected rows as
XLSX; the screens, the command line and the API."""
import io
import json
import time

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from conftest import luhn_id
from portal.db import database

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HEAD_AR = ["الاسم", "رقم الهوية", "الجوال", "الجنس", "تاريخ الميلاد", "الفئة", "المدينة", "هوية رب الأسرة",
           "صلة القرابة"]


def csv_bytes(rows, head=HEAD_AR) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def xlsx_bytes(rows, head=HEAD_AR) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(head)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # a text cell that looks like a formula, as a charity's sheet may hold
            cells.append(cell)
        ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row(n, **kw):
    values = {"name": f"فاطمة محمد علي الزهراني{n}", "id": luhn_id(f"12{n:07d}"), "mobile": f"05{n % 100000000:08d}",
              "gender": "أنثى", "birth": "1990-01-01", "category": "أرملة", "city": "مكة المكرمة", "head": "",
              "relation": ""}
    values.update(kw)
    return list(values.values())


def test_five_mobile_formats_and_eastern_digits():
    from portal.imports import normalize_mobile
    from portal.validators import ValidationError

    for typed in ("0501234567", "501234567", "+966501234567", "00966501234567", "966501234567",
                  "050-123 4567", "+966 50 123 4567", "٠٥٠١٢٣٤٥٦٧", "۰۵۰۱۲۳۴۵۶۷", 501234567):
        assert normalize_mobile(typed) == "+966501234567", typed
    with pytest.raises(ValidationError):
        normalize_mobile("12345")


def test_headers_are_guessed_in_arabic_and_english():
    from portal.imports import guess_mapping

    assert guess_mapping(["الاسم", "السجل المدني", "رقم الجوال", "تاريخ الميلاد", "شيء آخر"]) == {
        "0": "full_name", "1": "national_id", "2": "mobile", "3": "birth_date"}
    assert guess_mapping(["Name", "ID", "Mobile", "Gender"]) == {
        "0": "full_name", "1": "national_id", "2": "mobile", "3": "gender"}
    assert guess_mapping(["رقم الهوية", "الاسم الأول", "اسم الأب", "اسم العائلة", "الجوال"])["1"] == "first_name"


@pytest.mark.parametrize("data, name, message", [
    (PNG, "beneficiaries.xlsx", "not an Excel workbook"),
    (b"", "beneficiaries.csv", "empty"),
    (b"\xef\xbb\xbf\r\n  \r\n", "beneficiaries.csv", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", "old Excel"),
    (b"PK\x03\x04 broken", "x.xlsx", "damaged"),
    ("1000000008,فاطمة,0501234567\n".encode(), "noheader.csv", "column names"),
    ("الاسم,رقم الهوية\n".encode(), "onlyheader.csv", "no data rows"),
])
def test_files_that_cannot_be_imported_are_refused_with_a_reason(app, data, name, message):
    from portal.imports import ImportFileError, read_table

    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ImportFileError) as caught:
            read_table(data, name)
    assert message in str(caught.value.message)


def test_a_csv_renamed_xlsx_is_refused(app):
    from portal.imports import ImportFileError, read_table

    with app.test_request_context():
        with pytest.raises(ImportFileError):
            read_table(csv_bytes([row(1)]), "named.xlsx")


def _check(app, data, name="f.csv", actor=None):
    from portal import imports

    with app.test_request_context(), database.connection_context():
        table = imports.read_table(data, name)
        return imports.run(table, imports.guess_mapping(table.headers), file_name=name, dry_run=True, actor=actor)


def test_dry_run_names_each_bad_row(app, make_beneficiary):
    on_record = make_beneficiary(mobile="0559999999")
    with app.app_context(), database.connection_context():
        from portal.models import Beneficiary

        existing = Beneficiary.get_by_id(on_record)
    rows = [
        row(1, birth="1410/06/04"),  # Hijri
        row(2, id="1000000009"),  # wrong check digit
        row(3, birth="1445/01/30"),  # Muharram 1445 has 29 days
        row(4, id="١٠٠٠٠٠٠٠٠٨", mobile="٠٥٠١٢٣٤٥٦٧"),  # Eastern Arabic digits
        row(5, id=luhn_id("155555555")),
        row(6, id=luhn_id("155555555")),  # the same ID as row 6 of the sheet
        row(7, mobile="0559999999"),  # the mobile of a file on record
        row(8, gender=""),  # a required field left empty
        row(9, id=existing.national_id),  # already on record
        row(10, name="فاطمة"),  # one word: not a name
        row(11, name='=HYPERLINK("http://evil.example","click")'),  # a formula-looking name: one word
        row(12, name="جود", head=luhn_id("155555555"), relation="ابنة", id=""),  # a household member of row 6
    ]
    report = _check(app, csv_bytes(rows))
    by_row = {r.number: r for r in report.rows}
    assert by_row[2].ok and str(by_row[2].values["birth_date"]) == "1990-01-01"
    assert [f for f, _m in by_row[3].errors] == ["national_id"]
    assert "check digit" in str(by_row[3].errors[0][1]) or "رقم" in str(by_row[3].errors[0][1])
    assert [f for f, _m in by_row[4].errors] == ["birth_date"]
    assert by_row[5].ok and by_row[5].values["national_id"] == "1000000008"
    assert by_row[5].values["mobile"] == "+966501234567"
    assert by_row[6].ok and [f for f, _m in by_row[7].errors] == ["national_id"]
    assert by_row[8].ok and by_row[8].warnings
    assert [f for f, _m in by_row[9].errors] == ["gender"]
    assert by_row[10].ok and by_row[10].status == "existing"
    assert by_row[11].errors and by_row[12].errors
    assert by_row[13].ok and by_row[13].status == "member"
    counts = report.counts()
    assert counts["rejected"] == 6 and counts["existing"] == 1 and counts["members"] == 1
    assert counts["new"] == 4


def test_import_keeps_every_good_row_and_a_second_run_changes_nothing(app, users):
    from portal import imports
    from portal.models import Beneficiary, HouseholdMember, TimelineEntry, User

    head = luhn_id("100000077")
    rows = [row(1, name='=HYPERLINK("x") عبد الله الحربي'), row(2, id="1000000009"),
            row(3, id=head), row(4, name="جود", id="", head=head, relation="ابنة", birth="1440/01/01")]
    data = xlsx_bytes(rows)
    with app.test_request_context(), database.connection_context():
        officer = User.get(User.username == "officer")
        table = imports.read_table(data, "أسر 1446.xlsx")
        mapping = imports.guess_mapping(table.headers)
        report = imports.run(table, mapping, file_name="أسر 1446.xlsx", actor=officer)
        assert report.created == 2 and report.members_created == 1 and report.counts()["rejected"] == 1
        ben = Beneficiary.get(Beneficiary.national_id == luhn_id("120000001"))
        assert ben.first_name == '=HYPERLINK("x")' and ben.father_name == "عبد الله"  # stored as text
        assert ben.mobile == "+966500000001" and ben.category == "widow" and ben.created_by_id == officer.id
        entry = TimelineEntry.get(TimelineEntry.beneficiary == ben)
        assert "أسر 1446.xlsx" in entry.summary and entry.channel == "system"
        member = HouseholdMember.get()
        assert member.beneficiary.national_id == head and member.relation == "daughter"
        assert member.birth_date.year == 2018
        counts = (Beneficiary.select().count(), HouseholdMember.select().count(), TimelineEntry.select().count())
        again = imports.run(imports.read_table(data, "x.xlsx"), mapping, file_name="x.xlsx", actor=officer)
        assert again.created == 0 and again.members_created == 0
        assert again.counts()["existing"] == 2 and again.counts()["members_existing"] == 1
        assert (Beneficiary.select().count(), HouseholdMember.select().count(),
                TimelineEntry.select().count()) == counts


def test_a_batch_the_database_refuses_keeps_its_good_rows(app, monkeypatch, make_beneficiary):
    """A file registered between the check and the insert: its batch is retried row by row."""
    from portal import imports
    from portal.models import Beneficiary

    taken = luhn_id("100000002")
    monkeypatch.setattr(imports, "_against_records", lambda report, actor: None)
    make_beneficiary(national_id=taken)
    with app.test_request_context(), database.connection_context():
        table = imports.read_table(csv_bytes([row(1), row(2, id=taken), row(3)]), "f.csv")
        report = imports.run(table, imports.guess_mapping(table.headers), file_name="f.csv")
        assert report.created == 2
        assert [r.number for r in report.rows if r.errors] == [3]
        assert Beneficiary.select().count() == 3


def test_20000_rows_with_one_bad_id_in_the_middle(app):
    """The dry run lists the bad row; the import keeps every good batch and reports it. Prints rows/s."""
    from portal import imports
    from portal.models import Beneficiary

    rows = [row(n) for n in range(1, 20_001)]
    rows[10_000][1] = "1000000001"
    data = xlsx_bytes(rows)
    with app.test_request_context(), database.connection_context():
        table = imports.read_table(data, "big.xlsx")
        mapping = imports.guess_mapping(table.headers)
        dry = imports.run(table, mapping, file_name="big.xlsx", dry_run=True)
        assert [r.number for r in dry.rows if r.errors] == [10_002]
        started = time.perf_counter()
        report = imports.run(table, mapping, file_name="big.xlsx")
        seconds = time.perf_counter() - started
        assert report.created == 19_999 and [r.number for r in report.rows if r.errors] == [10_002]
        assert Beneficiary.select().count() == 19_999
    print(f"\nimport of 20,000 rows: {seconds:.1f} s, {20_000 / seconds:,.0f} rows/s ({database.obj.__class__.__name__})")


def test_the_screens_upload_map_check_import_and_download_the_rejected_rows(app, client, auth):
    from portal.models import Beneficiary, ImportRun

    auth.login("officer")
    page = client.post("/imports/", data={"file": (io.BytesIO(PNG), "صورة.xlsx")},
                       content_type="multipart/form-data")
    assert page.status_code == 422 and "ليس" in page.get_data(as_text=True)
    data = csv_bytes([row(1), row(2, id="123"), row(3, birth="1445/01/30")])
    page = client.post("/imports/", data={"file": (io.BytesIO(data), "مستفيدون.csv")},
                       content_type="multipart/form-data")
    assert page.status_code == 302 and "/mapping" in page.headers["Location"]
    mapping_page = client.get(page.headers["Location"])
    html = mapping_page.get_data(as_text=True)
    assert 'value="national_id" selected' in html and 'value="full_name" selected' in html
    # a mapping without the ID column is refused and the screen says why
    refused = client.post(page.headers["Location"], data={"col0": "full_name", "col2": "mobile"})
    assert refused.status_code == 422
    checked = client.post(page.headers["Location"], data={f"col{i}": f for i, f in enumerate(
        ["full_name", "national_id", "mobile", "gender", "birth_date", "category", "city", "head_national_id",
         "relation"])})
    assert checked.status_code == 302
    show = client.get(checked.headers["Location"])
    text = show.get_data(as_text=True)
    assert show.status_code == 200 and "تاريخ هجري غير موجود" in text or "هجري" in text
    with app.app_context(), database.connection_context():
        run = ImportRun.get()
        assert run.status == "checked" and run.rejected_count == 2
        assert Beneficiary.select().count() == 0  # the dry run saves nothing
    progress = client.get(f"/imports/{run.id}/progress", headers={"HX-Request": "true"})
    assert progress.status_code == 200 and 'id="import-progress"' in progress.get_data(as_text=True)
    done = client.post(f"/imports/{run.id}/run")
    assert done.status_code == 302
    client.post(f"/imports/{run.id}/run")  # a second click imports nothing more
    with app.app_context(), database.connection_context():
        assert Beneficiary.select().count() == 1
        assert ImportRun.get_by_id(run.id).status == "done"
    rejected = client.get(f"/imports/{run.id}/rejected.xlsx")
    ws = load_workbook(io.BytesIO(rejected.get_data())).active
    values = list(ws.values)
    assert values[0][-1] == "السبب" and len(values) == 3
    assert values[1][0] == 3 and "رقم الهوية" in values[1][-1] or "10" in values[1][-1]


def test_a_big_file_is_checked_by_the_job(app, client, auth):
    from portal.models import ImportRun

    app.config["IMPORT_INLINE_ROWS"] = 1  # HUEY_IMMEDIATE in tests: the job runs at once
    auth.login("admin")
    page = client.post("/imports/", data={"file": (io.BytesIO(csv_bytes([row(1), row(2)])), "b.csv")},
                       content_type="multipart/form-data")
    client.post(page.headers["Location"], data={"col0": "full_name", "col1": "national_id", "col2": "mobile",
                                                "col3": "gender"})
    with app.app_context(), database.connection_context():
        assert ImportRun.get().status == "checked" and ImportRun.get().report["new"] == 2


def test_other_delegates_do_not_see_an_import(app, client, auth, users):
    from portal import imports
    from portal.models import User

    with app.test_request_context(), database.connection_context():
        run = imports.store_file(csv_bytes([row(1)]), "a.csv", actor=User.get(User.username == "admin"))
    auth.login("delegate")
    assert client.get(f"/imports/{run.id}").status_code == 404
    auth.login("researcher")
    assert client.get("/imports/").status_code == 403


def test_the_command_line_prints_the_report(app, runner, tmp_path):
    from portal.models import Beneficiary

    path = tmp_path / "beneficiaries.csv"
    path.write_bytes(csv_bytes([row(1), row(2, id="1000000009")]))
    result = runner.invoke(args=["import", "beneficiaries", str(path), "--dry-run"])
    assert result.exit_code == 1, result.output
    assert "Dry run: 2 rows, 1 new" in result.output
    assert "row 3: rejected: national_id: The ID number is not valid" in result.output
    with app.app_context(), database.connection_context():
        assert Beneficiary.select().count() == 0
    result = runner.invoke(args=["import", "beneficiaries", str(path)])
    assert "Imported: 2 rows, 1 created" in result.output
    png = tmp_path / "photo.xlsx"
    png.write_bytes(PNG)
    result = runner.invoke(args=["import", "beneficiaries", str(png)])
    assert result.exit_code == 2 and "not an Excel workbook" in result.output


def test_the_api_answers_the_report(app, client, users):
    from portal.api import create_token
    from portal.models import Beneficiary, User

    with app.app_context(), database.connection_context():
        token = create_token(User.get(User.username == "officer"), "import")
        researcher = create_token(User.get(User.username == "researcher"), "import")
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    data = csv_bytes([row(1), row(2, id="1000000009")])
    response = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), "b.csv"), "dry_run": "1"})
    body = response.get_json()
    assert response.status_code == 200 and body["dry_run"] and body["new"] == 1 and body["rejected"] == 1
    assert body["problems"][0]["row"] == 3 and body["problems"][0]["errors"][0]["field"] == "national_id"
    response = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), "b.csv")})
    assert response.get_json()["created"] == 1
    with app.app_context(), database.connection_context():
        assert Beneficiary.select().count() == 1
    response = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(PNG), "b.xlsx")})
    assert response.status_code == 422 and "file" in response.get_json()["fields"]
    response = client.post("/api/v1/imports", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), "b.csv"), "mapping": json.dumps({"0": "nope"})})
    assert response.status_code == 422
    response = client.post("/api/v1/imports", headers={"Authorization": f"Bearer {researcher}"},
                           content_type="multipart/form-data", data={"file": (io.BytesIO(data), "b.csv")})
    assert response.status_code == 403


@pytest.mark.parametrize("content, field", [(b"<?xm", "file"), (b"a", "file"), (b"\x00\x01", "file"),
                                            (b"\xef\xbb\xbf", "file"), (b",,,\n,,,", "file"),
                                            (b"x\ny", "mapping")])
def test_the_api_answers_a_scrap_of_a_file_with_a_clear_refusal(app, client, users, content, field):
    """What an API fuzzer once sent: a stray field with a newline for a name and a four-byte "file"."""
    from portal.api import create_token
    from portal.models import User

    with app.app_context(), database.connection_context():
        token = create_token(User.get(User.username == "officer"), "import")
    response = client.post("/api/v1/imports", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
                           content_type="multipart/form-data",
                           data={"\n": "null", "file": (io.BytesIO(content), "file")})
    assert response.status_code == 422 and response.get_json()["fields"][field]
