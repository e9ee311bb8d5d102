"""The social channel answers the data-protection hooks: senders and messages exported, then anonymised."""
import io
import json
import zipfile

from portal.db import database


def test_social_senders_exported_and_erased(app, client, auth, make_beneficiary):
    from plugins.social.models import Message, Sender
    from portal.models import Beneficiary

    ben = make_beneficiary()
    with app.app_context(), database.connection_context():
        sender = Sender.create(platform="whatsapp", handle="966550000001", display_name="سارة", phone="+966550000001",
                               beneficiary=ben)
        Message.create(platform="whatsapp", provider_id="wamid.1", direction="in", sender=sender,
                       payload={"text": {"body": "أحتاج مساعدة"}})
        number = Beneficiary.get_by_id(ben).file_number
    auth.login("admin")
    doc = json.loads(zipfile.ZipFile(io.BytesIO(client.get(f"/beneficiaries/{ben}/export.zip").data))
                     .read("beneficiary.json"))
    assert doc["plugins"]["social"]["senders"][0]["handle"] == "966550000001"
    assert doc["plugins"]["social"]["messages"][0]["payload"]["text"]["body"] == "أحتاج مساعدة"
    assert client.post(f"/beneficiaries/{ben}/erase", data={"confirm": number}).status_code == 302
    with app.app_context(), database.connection_context():
        sender = Sender.get()
        assert (sender.handle, sender.display_name, sender.phone) == (f"erased-{sender.id}", "", "")
        message = Message.get()
        assert message.payload is None and message.direction == "in"
