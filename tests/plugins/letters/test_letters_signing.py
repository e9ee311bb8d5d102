"""Optional digital signing of outgoing letters with pyHanko (PAdES) when a PKCS#12 certificate is configured.

Certificates are made in the tests with ``cryptography``; signatures are checked with pyHanko's own
validation API against the test certificate as the trust root."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re

import pytest
from letters_helpers import make_case, pdf_text, text_of  # noqa: F401  (make_case is a fixture)

from portal.db import database

PASSWORD = "كلمة-سر 2026"


@pytest.fixture(scope="module")
def rsa_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_certificate(key, *, days_before=1, days_after=365, name="جمعية مراكز الأحياء - اختبار"):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "SA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=days_before)).not_valid_after(now + dt.timedelta(days=days_after))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))


def write_p12(path, key, cert, password=PASSWORD):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"sila", key, cert, None, encryption))
    return path


@pytest.fixture
def certificate(tmp_path, rsa_key):
    cert = make_certificate(rsa_key)
    return {"path": write_p12(tmp_path / "charity.p12", rsa_key, cert), "cert": cert, "key": rsa_key}


@pytest.fixture
def signing_config(app_config, certificate):
    app_config.update(LETTERS_SIGNING_P12=str(certificate["path"]), LETTERS_SIGNING_P12_PASSWORD=PASSWORD,
                      LETTERS_SIGNING_LOCATION="مكة المكرمة")
    return app_config


def _letters():
    from plugins.letters.models import Letter

    return Letter


def issue(client, **form):
    return client.post("/letters/issue", data=form)


def signature_status(pdf: bytes, cert):
    """pyHanko's verdict on the document's only signature, the test certificate being the trust root."""
    from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from plugins.letters.signing import _run_coroutine

    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(signatures) == 1
    context = ValidationContext(trust_roots=[translate_pyca_cryptography_cert_to_asn1(cert)])
    # the browser tests leave an event loop running in this thread: validate the way the signer signs
    return signatures[0], _run_coroutine(lambda: async_validate_pdf_signature(signatures[0], context))


def assert_signed(pdf: bytes, cert, number: str):
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    signature, status = signature_status(pdf, cert)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.docmdp_ok and status.bottom_line
    assert signature.docmdp_level == MDPPerm.NO_CHANGES  # a certification: no later change is allowed
    assert str(signature.sig_object["/Reason"]) == f"اعتماد خطاب صادر رقم {number}"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    return signature


def nothing_issued():
    from portal.models import Counter

    return (_letters().select().count() == 0
            and Counter.select().where(Counter.name.startswith("letters_")).count() == 0)


def stored_pdfs(app) -> list:
    root = app.config["UPLOAD_DIR"]
    return [name for _dir, _subdirs, files in os.walk(root) for name in files if not name.startswith(".")]


# --- signing when configured -------------------------------------------------------------------------

def test_issued_letter_is_signed_before_it_is_stored(signing_config, app, client, auth, make_case, certificate):
    make_case(status="approved")
    auth.login("officer")
    response = issue(client, template="decision_approved", ref="1448-000001")
    assert response.status_code == 303, text_of(response)
    with app.app_context(), database.connection_context():
        letter = _letters().get()
    pdf = client.get(f"/letters/out/{letter.id}/pdf").data
    # the stored file (content-addressed) is the signed one
    assert hashlib.sha256(pdf).hexdigest() == letter.pdf_sha256 and len(pdf) == letter.pdf_size
    signature = assert_signed(pdf, certificate["cert"], letter.number)
    assert str(signature.sig_object["/Location"]) == "مكة المكرمة"
    assert signature.field_name == f"Letter-{letter.hijri_year}-{letter.sequence:06d}"
    # the text is still extractable, number and Arabic words included
    text = pdf_text(pdf)
    assert f"{letter.hijri_year}-{letter.sequence:06d}" in text
    for words in ("قرار لجنة البحث", "الموافقة على طلبكم", "سارة عبدالله سعد الحربي"):
        assert words in text, words
    assert "لا يمكن إصدار أي خطاب الآن" not in text_of(client.get("/letters/issue"))
    # the public verification page still works for a signed letter
    auth.logout()
    page = client.get(f"/letters/verify/{letter.number}?c={letter.verify_code}")
    assert page.status_code == 200 and letter.number in text_of(page)


def test_not_configured_issues_unsigned_letters(app_config, app, client, auth, make_case):
    from pyhanko.pdf_utils.reader import PdfFileReader

    app.config["LETTERS_SIGNING_P12"] = ""  # empty counts as not configured
    make_case()
    auth.login("officer")
    assert issue(client, template="decision_approved", ref="1448-000001").status_code == 303
    with app.app_context(), database.connection_context():
        letter = _letters().get()
    pdf = client.get(f"/letters/out/{letter.id}/pdf").data
    assert PdfFileReader(io.BytesIO(pdf)).embedded_signatures == []
    auth.login("admin")
    assert "غير مفعّل" in text_of(client.get("/letters/status"))


def test_reissue_api_and_batch_letters_are_signed(signing_config, app, client, auth, make_case, certificate, users):
    from plugins.letters.models import LetterBatch

    make_case(status="approved")
    make_case(status="approved")
    auth.login("officer")
    assert issue(client, template="decision_approved", ref="1448-000001").status_code == 303
    Letter = _letters()
    with app.app_context(), database.connection_context():
        first = Letter.get()
    assert client.post(f"/letters/out/{first.id}/reissue").status_code == 303
    with app.app_context(), database.connection_context():
        reissued = Letter.get(Letter.replaces == first.id)
    assert_signed(client.get(f"/letters/out/{reissued.id}/pdf").data, certificate["cert"], reissued.number)

    response = client.post("/letters/batches", data={"template": "decision_approved", "case_status": "approved"})
    assert response.status_code == 303
    with app.app_context(), database.connection_context():
        batch = LetterBatch.get()
        assert (batch.status, batch.done, batch.failed) == ("done", 2, 0)
        batch_letters = list(Letter.select().where(Letter.batch == batch))
    assert len(batch_letters) == 2
    for row in batch_letters:
        assert_signed(client.get(f"/letters/out/{row.id}/pdf").data, certificate["cert"], row.number)
    merged = client.get(f"/letters/batches/{batch.id}/pdf")  # the print copy is not signed, but it is there
    assert merged.status_code == 200 and merged.data.startswith(b"%PDF")


def test_api_issued_letter_is_signed(signing_config, app, client, make_case, certificate, users):
    from portal.api import create_token
    from portal.models import User

    make_case()
    with app.app_context(), database.connection_context():
        token = create_token(User.get_by_id(users["officer"]))
    response = client.post("/api/v1/letters", json={"template": "decision_approved", "case": "1448-000001"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    pdf = client.get(f"/api/v1/letters/{number}.pdf", headers={"Authorization": f"Bearer {token}"})
    assert_signed(pdf.data, certificate["cert"], number)


def test_status_page_shows_the_certificate(signing_config, app, client, auth, certificate):
    auth.login("admin")
    page = client.get("/letters/status")
    assert page.status_code == 200
    text = text_of(page)
    assert "كل خطاب صادر يُوقَّع رقميًا قبل حفظه" in text
    assert "جمعية مراكز الأحياء - اختبار" in text and "موقّعة ذاتيًا" in text
    assert certificate["cert"].fingerprint(__import__("cryptography").hazmat.primitives.hashes.SHA256()).hex() in text
    assert str(certificate["path"]) in text


def test_certificate_expiring_soon_is_flagged(app_config, app, client, auth, tmp_path, rsa_key):
    path = write_p12(tmp_path / "soon.p12", rsa_key, make_certificate(rsa_key, days_after=10))
    app.config.update(LETTERS_SIGNING_P12=str(path), LETTERS_SIGNING_P12_PASSWORD=PASSWORD)
    auth.login("admin")
    assert "الأيام الباقية على انتهاء صلاحية الشهادة" in text_of(client.get("/letters/status"))


# --- a certificate that cannot be used: refused with a message, nothing numbered or stored ------------

def _broken(kind, tmp_path, key):
    from cryptography.hazmat.primitives.asymmetric import rsa

    if kind == "wrong password":
        return write_p12(tmp_path / "c.p12", key, make_certificate(key), password="another one"), PASSWORD
    if kind == "corrupt file":
        good = write_p12(tmp_path / "good.p12", key, make_certificate(key)).read_bytes()
        (tmp_path / "c.p12").write_bytes(good[: len(good) // 2])
        return tmp_path / "c.p12", PASSWORD
    if kind == "not a certificate":
        (tmp_path / "c.p12").write_bytes(b"%PDF-1.7\nthis is not a PKCS#12 file\n")
        return tmp_path / "c.p12", PASSWORD
    if kind == "missing file":
        return tmp_path / "nowhere.p12", PASSWORD
    if kind == "expired":
        return write_p12(tmp_path / "c.p12", key, make_certificate(key, days_before=400, days_after=-5)), PASSWORD
    if kind == "not yet valid":
        return write_p12(tmp_path / "c.p12", key, make_certificate(key, days_before=-3, days_after=300)), PASSWORD
    if kind == "certificate only":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        data = pkcs12.serialize_key_and_certificates(b"x", None, None, [make_certificate(key)],
                                                     serialization.BestAvailableEncryption(PASSWORD.encode()))
        (tmp_path / "c.p12").write_bytes(data)
        return tmp_path / "c.p12", PASSWORD
    if kind == "key only":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        data = pkcs12.serialize_key_and_certificates(b"x", key, None, None,
                                                     serialization.BestAvailableEncryption(PASSWORD.encode()))
        (tmp_path / "c.p12").write_bytes(data)
        return tmp_path / "c.p12", PASSWORD
    if kind == "key of another certificate":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        data = pkcs12.serialize_key_and_certificates(b"x", other, None, [make_certificate(key)],
                                                     serialization.BestAvailableEncryption(PASSWORD.encode()))
        (tmp_path / "c.p12").write_bytes(data)
        return tmp_path / "c.p12", PASSWORD
    raise AssertionError(kind)


BROKEN = [
    ("wrong password", "كلمة مرور الشهادة غير صحيحة"),
    ("corrupt file", "أو أنه تالف"),
    ("not a certificate", "أو أنه تالف"),
    ("missing file", "ملف الشهادة غير موجود أو تتعذر قراءته"),
    ("expired", "انتهت صلاحية الشهادة في"),
    ("not yet valid", "لا تسري الشهادة قبل"),
    ("certificate only", "لا يحتوي الملف على المفتاح الخاص"),
    ("key only", "لا يحتوي الملف على شهادة"),
    ("key of another certificate", "المفتاح الخاص لا يطابق الشهادة"),
]


@pytest.mark.parametrize("kind,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_unusable_certificate_refuses_to_issue(app_config, app, client, auth, make_case, tmp_path, rsa_key,
                                               kind, message):
    path, password = _broken(kind, tmp_path, rsa_key)
    app.config.update(LETTERS_SIGNING_P12=str(path), LETTERS_SIGNING_P12_PASSWORD=password)
    make_case()
    auth.login("officer")
    form = text_of(client.get("/letters/issue"))  # the officer is warned before filling anything in
    assert "لا يمكن إصدار أي خطاب الآن" in form and message in form
    before = stored_pdfs(app)
    response = issue(client, template="decision_approved", ref="1448-000001")
    assert response.status_code == 422
    text = text_of(response)
    assert "لم يصدر الخطاب: الخطابات تُوقَّع رقميًا" in text and message in text, text
    with app.app_context(), database.connection_context():
        assert nothing_issued()
    assert stored_pdfs(app) == before
    # the same problem, for the administrator, on the status page
    auth.login("admin")
    status = text_of(client.get("/letters/status"))
    assert "التوقيع مفعّل لكن الشهادة غير صالحة للاستخدام" in status and message in status


def test_unusable_certificate_message_in_english(app_config, app, client, auth, make_case, tmp_path, rsa_key):
    path, password = _broken("wrong password", tmp_path, rsa_key)
    app.config.update(LETTERS_SIGNING_P12=str(path), LETTERS_SIGNING_P12_PASSWORD=password)
    make_case()
    auth.login("officer")
    client.post("/language", data={"lang": "en", "next": "/"})
    response = issue(client, template="decision_approved", ref="1448-000001")
    assert response.status_code == 422
    assert ("The letter was not issued: letters are signed digitally and the signing certificate cannot be used "
            "(the certificate's password is wrong)") in text_of(response).replace("&#39;", "'")


def test_unusable_certificate_through_the_api_and_automatic_letters(app_config, app, client, make_case, tmp_path,
                                                                    rsa_key, users):
    from portal.api import create_token
    from portal.models import Case, TimelineEntry, User
    from portal.plugins import get_pm

    path, password = _broken("expired", tmp_path, rsa_key)
    app.config.update(LETTERS_SIGNING_P12=str(path), LETTERS_SIGNING_P12_PASSWORD=password)
    case_id = make_case(status="awaiting_committee")
    with app.app_context(), database.connection_context():
        token = create_token(User.get_by_id(users["officer"]))
    response = client.post("/api/v1/letters", json={"template": "decision_approved", "case": "1448-000001"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert "انتهت صلاحية الشهادة" in response.get_json()["error"]
    # a committee decision still goes through; the timeline says why its letter was not issued
    with app.test_request_context(), database.connection_context():
        with database.atomic():
            Case.update(status="approved").where(Case.id == case_id).execute()
            get_pm().hook.case_status_changed(case=Case.get_by_id(case_id), old="awaiting_committee", new="approved",
                                               actor=User.get_by_id(users["committee"]))
        assert Case.get_by_id(case_id).status == "approved"
        note = TimelineEntry.get((TimelineEntry.case == case_id) & (TimelineEntry.channel == "letters"))
        assert note.direction == "internal" and "انتهت صلاحية الشهادة" in note.summary
        assert nothing_issued()


def test_batch_with_unusable_certificate_reports_each_letter(app_config, app, client, auth, make_case, tmp_path,
                                                             rsa_key):
    from plugins.letters.models import LetterBatch

    path, password = _broken("wrong password", tmp_path, rsa_key)
    app.config.update(LETTERS_SIGNING_P12=str(path), LETTERS_SIGNING_P12_PASSWORD=password)
    make_case(status="approved")
    make_case(status="approved")
    auth.login("officer")
    assert client.post("/letters/batches", data={"template": "decision_approved",
                                                 "case_status": "approved"}).status_code == 303
    with app.app_context(), database.connection_context():
        batch = LetterBatch.get()
        assert (batch.status, batch.done, batch.failed) == ("done", 0, 2)
        assert all("كلمة مرور الشهادة غير صحيحة" in e["message"] for e in batch.errors)
        assert nothing_issued()


def test_signing_failure_records_the_number_as_spoiled(signing_config, app, client, auth, make_case, monkeypatch):
    from plugins.letters import signing

    make_case()
    auth.login("officer")
    assert issue(client, template="decision_approved", ref="1448-000001").status_code == 303

    def broken(pdf, number, prepared):
        raise RuntimeError("the token is not responding")

    before = stored_pdfs(app)
    with monkeypatch.context() as patch:
        patch.setattr(signing, "sign_pdf", broken)
        response = issue(client, template="decision_approved", ref="1448-000001")
    assert response.status_code == 422
    assert "تعذّر توقيع ملف PDF" in text_of(response) and "the token is not responding" in text_of(response)
    assert "تالفًا في السجل" in text_of(response)
    assert stored_pdfs(app) == before
    assert issue(client, template="decision_approved", ref="1448-000001").status_code == 303
    with app.app_context(), database.connection_context():
        # the failed attempt took the number 2 (the PDF is signed outside the numbering transaction) and
        # left it recorded as spoiled with the reason: no gap, no unsigned PDF
        rows = list(_letters().select().order_by(_letters().id))
        assert [(row.sequence, row.status) for row in rows] == [(1, "valid"), (2, "spoiled"), (3, "valid")]
        assert "the token is not responding" in rows[1].revoked_reason and not rows[1].pdf_sha256


# --- settings and the per-process cache ----------------------------------------------------------------

def assert_issued_letter_signed(app, client, auth, make_case, cert):
    """An officer issues a decision letter on a new case; its PDF carries a signature by ``cert``."""
    make_case()
    auth.login("officer")
    assert issue(client, template="decision_approved", ref="1448-000001").status_code == 303
    with app.app_context(), database.connection_context():
        letter = _letters().get()
    assert_signed(client.get(f"/letters/out/{letter.id}/pdf").data, cert, letter.number)


def test_numeric_password_from_the_environment(app_config, app, client, auth, make_case, tmp_path, rsa_key):
    cert = make_certificate(rsa_key)
    path = write_p12(tmp_path / "digits.p12", rsa_key, cert, password="20261127")
    # PORTAL_LETTERS_SIGNING_P12_PASSWORD=20261127 arrives as a number (the environment is read as JSON)
    app.config.update(LETTERS_SIGNING_P12=str(path), LETTERS_SIGNING_P12_PASSWORD=20261127)
    assert_issued_letter_signed(app, client, auth, make_case, cert)


def test_unencrypted_p12_with_empty_password_and_relative_path(app_config, app, client, auth, make_case, rsa_key):
    from pathlib import Path

    cert = make_certificate(rsa_key)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    write_p12(Path(app.instance_path) / "plain.p12", rsa_key, cert, password="")
    app.config.update(LETTERS_SIGNING_P12="plain.p12", LETTERS_SIGNING_P12_PASSWORD="")  # from the instance folder
    assert_issued_letter_signed(app, client, auth, make_case, cert)


def test_certificate_loaded_once_and_reloaded_when_the_file_changes(signing_config, app, client, auth, make_case,
                                                                    certificate, monkeypatch):
    from plugins.letters import signing

    calls = []
    real_load = signing._load
    monkeypatch.setattr(signing, "_load", lambda cfg, data: calls.append(cfg.path) or real_load(cfg, data))
    signing._cache.clear()
    make_case()
    auth.login("officer")
    for _ in range(3):
        assert issue(client, template="general", ref="1448-000001", subject_text="إفادة",
                     body_text="نفيد بذلك.").status_code == 303
    assert len(calls) == 1
    # the file is replaced by a damaged one: the next letter sees it and is refused
    path = certificate["path"]
    path.write_bytes(path.read_bytes()[:100])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    response = issue(client, template="general", ref="1448-000001", subject_text="إفادة", body_text="نفيد بذلك.")
    assert response.status_code == 422 and "أو أنه تالف" in text_of(response)
    assert len(calls) == 2
    with app.app_context(), database.connection_context():
        numbers = [row.number for row in _letters().select().order_by(_letters().id)]
    assert [int(re.search(r"(\d+)$", n).group(1)) for n in numbers] == [1, 2, 3]


def test_signing_works_inside_a_running_event_loop():
    """pyHanko's sync API calls asyncio.run, which fails where a loop already runs (async servers,
    gevent workers, a browser-driving test runner): the signer then runs in a thread of its own."""
    import asyncio

    from plugins.letters.signing import _run_coroutine

    async def answer():
        return 42

    async def inside_a_loop():
        return _run_coroutine(answer)

    from concurrent.futures import ThreadPoolExecutor

    assert _run_coroutine(answer) == 42
    # a thread of its own, so the check holds whether or not this test's thread already runs a loop
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: asyncio.run(inside_a_loop())).result() == 42
