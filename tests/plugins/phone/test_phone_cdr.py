"""CDR import: Asterisk Master.csv and FreePBX exports, re-import, bad files, streaming."""
import io
import tracemalloc

import pytest

from plugins.phone.cdr import CdrFileError, import_cdr
from plugins.phone.models import PhoneCall
from portal.models import AuditEvent, TimelineEntry
from phone_fixtures import app_config, in_db, officer_phone, outreach  # noqa: F401

# Asterisk Master.csv: no header row; times are the PBX's local time (Riyadh, UTC+3).
MASTER = (
    '"","0501234567","200","from-trunk","""أحمد الغامدي"" <0501234567>","SIP/trunk-00000001","SIP/201-00000002",'
    '"Dial","SIP/201,30,tT","2026-11-20 09:15:02","2026-11-20 09:15:10","2026-11-20 09:18:35",213,205,"ANSWERED",'
    '"DOCUMENTATION","1700000001.1",""\n'
    '"","0551112223","200","from-trunk","""سارة, أم محمد"" <0551112223>","SIP/trunk-00000003","SIP/202-00000004",'
    '"Dial","SIP/202&SIP/203,30","2026-11-20 09:20:00","","2026-11-20 09:20:30",30,0,"NO ANSWER","DOCUMENTATION",'
    '"1700000002.3",""\n'
    '"","201","0509998887","from-internal","""Officer"" <201>","SIP/201-00000005","SIP/trunk-00000006","Dial",'
    '"SIP/trunk/0509998887,60","2026-11-20 10:00:00","2026-11-20 10:00:05","2026-11-20 10:02:05",125,120,'
    '"ANSWERED","DOCUMENTATION","1700000003.5",""\n'
    '"","00966501234567","200","from-trunk","""أحمد الغامدي"" <00966501234567>","SIP/trunk-7","SIP/201-8","Dial",'
    '"SIP/201,30","2026-11-20 11:00:00","2026-11-20 11:00:03","2026-11-20 11:01:03",63,60,"ANSWERED",'
    '"DOCUMENTATION","1700000004.7",""\n'
    '"","+966551112223","200","from-trunk","""سارة"" <+966551112223>","SIP/trunk-9","","Dial","SIP/202,20",'
    '"2026-11-20 12:00:00","","2026-11-20 12:00:20",20,0,"BUSY","DOCUMENTATION","1700000005.9",""\n'
    '"","0125550000","200","from-trunk","""مكتب"" <0125550000>","SIP/trunk-10","SIP/201-11","Dial","SIP/201,30",'
    '"2026-11-20 12:30:00","2026-11-20 12:30:04","2026-11-20 12:31:04",64,60,"ANSWERED","DOCUMENTATION",'
    '"1700000006.11",""\n'
    '"","anonymous","200","from-trunk","""Anonymous"" <anonymous>","SIP/trunk-12","SIP/201-13","Dial","SIP/201,30",'
    '"2026-11-20 13:00:00","2026-11-20 13:00:04","2026-11-20 13:00:34",34,30,"ANSWERED","DOCUMENTATION",'
    '"1700000007.13",""\n'
    '"","0501234567","200","from-trunk","""أحمد الغامدي"" <0501234567>","SIP/trunk-14","SIP/201-15","Dial",'
    '"SIP/201,30","2026-11-21 08:00:00","","2026-11-21 08:00:25",25,0,"NO ANSWER","DOCUMENTATION",'
    '"1700000008.15",""\n'
    '"","201","0551112223","from-internal","""Officer"" <201>","SIP/201-16","SIP/trunk-17","Dial",'
    '"SIP/trunk/0551112223,60","2026-11-21 09:00:00","","2026-11-21 09:00:40",40,0,"NO ANSWER","DOCUMENTATION",'
    '"1700000009.17",""\n'
    '"","٠٥٠١٢٣٤٥٦٧","200","from-trunk","""أحمد"" <٠٥٠١٢٣٤٥٦٧>","SIP/trunk-18","SIP/201-19","Dial","SIP/201,30",'
    '"2026-11-21 10:00:00","2026-11-21 10:00:02","2026-11-21 10:05:02",302,300,"ANSWERED","DOCUMENTATION",'
    '"1700000010.19",""\n'
)

FREEPBX = (
    "calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,billsec,disposition,amaflags,"
    "accountcode,userfield,did,recordingfile,cnum,cnam\n"
    '2026-11-22 08:00:00,"""خالد"" <0501234567>",0501234567,200,from-trunk,SIP/trunk-1,SIP/201-2,Dial,'
    '"SIP/201,30",70,60,ANSWERED,3,,,0125550000,,0501234567,خالد\n'
    '2026-11-22 08:05:00,"""x"" <0559990000>",0559990000,200,from-trunk,SIP/trunk-3,,Dial,"SIP/201,30",20,0,'
    'NO ANSWER,3,,,0125550000,,0559990000,x\n'
)


@pytest.fixture
def people(make_beneficiary):
    return {"ahmad": make_beneficiary(first_name="أحمد", mobile="0501234567"),
            "sara": make_beneficiary(first_name="سارة", mobile="0551112223"),
            "other": make_beneficiary(first_name="ريم", mobile="0509998887")}


def run(app, text_or_bytes, **kwargs):
    data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
    with app.test_request_context():
        from portal.db import database

        with database.connection_context():
            return import_cdr(io.BytesIO(data), file_name="Master.csv", **kwargs)


def test_ten_row_master_csv_lands_on_the_right_timelines_and_reimport_adds_nothing(
        app, runner, tmp_path, people, officer_phone, users, in_db, outreach):
    path = tmp_path / "Master.csv"
    path.write_text(MASTER, encoding="utf-8")
    result = runner.invoke(args=["phone", "import-cdr", str(path)])
    assert result.exit_code == 0, result.output
    assert "10 imported" in result.output and "0 duplicate(s), 0 invalid" in result.output
    with in_db():
        assert TimelineEntry.select().where(TimelineEntry.channel == "phone").count() == 10
        by_ben = {}
        for e in TimelineEntry.select():
            by_ben.setdefault(e.beneficiary_id, []).append(e)
        assert len(by_ben[people["ahmad"]]) == 4  # 0501..., 00966..., Eastern digits, one missed
        assert len(by_ben[people["sara"]]) == 3  # missed, busy, one outgoing call to her
        assert len(by_ben[people["other"]]) == 1  # an outgoing call
        assert len(by_ben[None]) == 2  # a landline and a withheld number
        first = PhoneCall.get(PhoneCall.cdr_key == "u:1700000001.1")
        entry = TimelineEntry.get_by_id(first.entry_id)
        assert entry.data["caller_name"] == "أحمد الغامدي" and entry.data["duration"] == 205
        assert entry.data["answered_by"] == "نورة القحطاني" and entry.actor_id == users["officer"]
        assert str(entry.occurred_at) == "2026-11-20 06:15:02"  # stored in UTC
        sara = TimelineEntry.get_by_id(PhoneCall.get(PhoneCall.cdr_key == "u:1700000002.3").entry_id)
        assert sara.data["caller_name"] == "سارة, أم محمد" and sara.data["missed"] and sara.data["duration"] == 0
        out = PhoneCall.get(PhoneCall.cdr_key == "u:1700000003.5")
        assert out.direction == "out" and out.number == "+966509998887" and out.beneficiary_id == people["other"]
        anonymous = PhoneCall.get(PhoneCall.cdr_key == "u:1700000007.13")
        assert anonymous.anonymous and anonymous.number == ""
        assert AuditEvent.select().where(AuditEvent.object_type == "phone_cdr").count() == 1
    # Missed inbound calls (NO ANSWER, BUSY) asked for call-back tasks; the missed outgoing one did not.
    assert sorted(t["source"]["number"] for t in outreach.tasks) == ["+966501234567", "+966551112223",
                                                                      "+966551112223"]
    assert {t["kind"] for t in outreach.tasks} == {"call_back"}
    again = runner.invoke(args=["phone", "import-cdr", str(path)])
    assert again.exit_code == 0 and "0 imported" in again.output and "10 duplicate(s)" in again.output
    with in_db():
        assert TimelineEntry.select().count() == 10 and PhoneCall.select().count() == 10
    assert len(outreach.tasks) == 3


def test_small_batches_give_the_same_result(app, people, in_db):
    report = run(app, MASTER, batch_size=3)
    assert (report.imported, report.duplicates, report.invalid, report.missed) == (10, 0, 0, 3)
    assert (report.matched, report.format) == (8, "asterisk")
    report = run(app, MASTER + MASTER, batch_size=4)  # duplicates inside the file and against the database
    assert (report.imported, report.duplicates) == (0, 20)


def test_freepbx_export_with_a_header_and_no_uniqueid(app, people, in_db):
    report = run(app, FREEPBX)
    assert (report.format, report.rows, report.imported, report.invalid) == ("freepbx", 2, 2, 0)
    with in_db():
        call = PhoneCall.get(PhoneCall.number == "+966501234567")
        assert call.cdr_key.startswith("k:") and call.duration == 60 and call.beneficiary_id == people["ahmad"]
        assert TimelineEntry.get_by_id(call.entry_id).data["caller_name"] == "خالد"
    assert run(app, FREEPBX).duplicates == 2


def test_quoted_line_breaks_and_bom(app, in_db):
    row = ('"","0501234567","200","from-trunk","""A"" <0501234567>","SIP/t-1","SIP/201-2","Dial","line one\nline two",'
           '"2026-11-20 09:15:02","2026-11-20 09:15:10","2026-11-20 09:18:35",213,205,"ANSWERED","DOCUMENTATION"\r\n')
    report = run(app, "\ufeff" + row + row.replace("09:15:02", "09:16:02"))
    assert (report.imported, report.invalid) == (2, 0), report.errors


def test_bad_rows_are_reported_with_their_reason_and_the_rest_imported(app, in_db):
    good = MASTER.splitlines()[0]
    rows = [
        good,
        '"","0501234567","200"',  # wrong column count
        good.replace("2026-11-20 09:15:02", "20/11/2026 9am").replace("1700000001.1", "x2"),
        good.replace("213,205", "-5,0").replace("1700000001.1", "x3"),
        good.replace("213,205", "213,abc").replace("1700000001.1", "x4"),
        good.replace('"ANSWERED"', '"MAYBE"').replace("1700000001.1", "x5"),
        good.replace('"0501234567","200"', '"",""').replace("1700000001.1", "x6"),
        good.replace("213,205", "20,205").replace("1700000001.1", "x7"),
    ]
    report = run(app, "\n".join(rows) + "\n")
    assert report.imported == 1 and report.invalid == 7
    reasons = dict(report.errors)
    with app.test_request_context("/?lang=en"):
        pass
    assert "16" in reasons[2] and "3" in reasons[2]
    assert "start" in reasons[3]
    assert "duration" in reasons[4] and "-5" in reasons[4]
    assert "billsec" in reasons[5]
    assert "MAYBE" in reasons[6]
    assert "src" in reasons[7]
    assert "billsec" in reasons[8]


def test_binary_and_empty_files_are_refused_whole(app, in_db):
    with pytest.raises(CdrFileError):
        run(app, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10)
    with pytest.raises(CdrFileError):
        run(app, b"")
    with pytest.raises(CdrFileError):
        run(app, b"\n\n  \n")
    with in_db():
        assert TimelineEntry.select().count() == 0


def test_cli_refuses_a_binary_file(runner, tmp_path):
    path = tmp_path / "cdr.csv"
    path.write_bytes(b"\x00\x01\x02" * 1000)
    result = runner.invoke(args=["phone", "import-cdr", str(path)])
    assert result.exit_code == 2


def test_invalid_utf8_line_is_one_invalid_row(app):
    good = MASTER.splitlines()[0].encode()
    report = run(app, good + b"\n" + good.replace(b"1700000001.1", b"y").replace("أحمد".encode(), b"\xff\xfe") + b"\n")
    assert (report.imported, report.invalid) == (1, 1)


def test_a_200_mb_file_is_streamed_not_read_whole(app, tmp_path, in_db):
    """Rows before and after a 200 MB line without a break: the line is skipped, memory stays small."""
    path = tmp_path / "huge.csv"
    lines = MASTER.splitlines()
    with open(path, "wb") as fh:
        fh.write(("\n".join(lines[:5]) + "\n").encode())
        chunk = b"x" * (1024 * 1024)
        for _ in range(200):
            fh.write(chunk)
        fh.write(b"\n" + ("\n".join(lines[5:]) + "\n").encode())
    assert path.stat().st_size > 200 * 1024 * 1024
    tracemalloc.start()
    try:
        with app.test_request_context(), open(path, "rb") as stream:
            from portal.db import database

            with database.connection_context():
                report = import_cdr(stream, file_name="huge.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (report.imported, report.invalid) == (10, 1)
    assert "KB" in report.errors[0][1] or "كيلوبايت" in report.errors[0][1]
    assert peak < 20 * 1024 * 1024, peak


def test_upload_screen_imports_and_reports(client, auth, people, in_db):
    auth.login("officer")
    page = client.get("/phone/cdr?lang=en")
    assert page.status_code == 200 and 'type="file"' in page.get_data(as_text=True)
    bad = MASTER + '"","x"\n'
    response = client.post("/phone/cdr?lang=en", data={"file": (io.BytesIO(bad.encode()), "Master.csv")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported" in html and ">10<" in html and "Expected 16 to 21 columns, found 2." in html
    response = client.post("/phone/cdr", data={"file": (io.BytesIO(MASTER.encode()), "Master.csv")},
                           content_type="multipart/form-data", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and "مستوردة من قبل" in html
    with in_db():
        assert PhoneCall.select().count() == 10


def test_upload_screen_bad_files(client, auth, in_db):
    auth.login("officer")
    response = client.post("/phone/cdr?lang=en", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a CDR file" in response.get_data(as_text=True)
    response = client.post("/phone/cdr", data={"file": (io.BytesIO(b"%PDF-1.4\x00\x00binary"), "Master.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "ليس ملف CSV" in response.get_data(as_text=True)


def test_upload_larger_than_the_limit_is_refused(app_config, users, in_db):
    from portal import create_app

    app = create_app(dict(app_config, MAX_CONTENT_LENGTH=64 * 1024))
    client = app.test_client()
    client.post("/login", data={"username": "officer", "password": "correct-horse-battery"})
    response = client.post("/phone/cdr", data={"file": (io.BytesIO(b"a,b\n" * 40000), "Master.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413


def test_cli_lists_invalid_rows_in_english(runner, tmp_path, in_db):
    good = MASTER.splitlines()[0]
    broken_quotes = '"x"y' + good[2:].replace("1700000001.1", "q1")
    path = tmp_path / "Master.csv"
    path.write_text("\n".join([good, '"","1"', broken_quotes, good.replace("213,205", "-1,0")]) + "\n",
                    encoding="utf-8")
    result = runner.invoke(args=["phone", "import-cdr", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 imported" in result.output and "3 invalid" in result.output
    assert "line 2: Expected 16 to 21 columns, found 2." in result.output
    assert "line 3: The line is not valid CSV" in result.output
    assert "line 4: duration is negative: -1." in result.output


def test_cli_missing_file(runner, tmp_path):
    result = runner.invoke(args=["phone", "import-cdr", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "does not exist" in result.output
