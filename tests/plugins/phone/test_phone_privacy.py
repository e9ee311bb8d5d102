"""The phone plugin answers the data-protection hooks: calls exported, caller numbers erased."""
import io
import json
import zipfile

from portal.db import database


def test_phone_calls_exported_and_erased(app, client, auth, make_beneficiary):
    from plugins.phone.models import PhoneCall
    from portal.models import Beneficiary

    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        PhoneCall.create(beneficiary=ben, number="+966550000001", state="ended", duration=42)
        number = Beneficiary.get_by_id(ben).file_number
    auth.login("manager")
    doc = json.loads(zipfile.ZipFile(io.BytesIO(client.get(f"/beneficiaries/{ben}/export.zip").data))
                     .read("beneficiary.json"))
    assert doc["plugins"]["phone"]["calls"][0]["number"] == "+966550000001"
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number}).status_code == 302
    with app.app_context(), database.connection_context():
        call = PhoneCall.get()
        assert (call.number, call.duration, call.beneficiary_id) == ("", 42, ben)
