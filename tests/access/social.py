"""Access rules of the social plugin's routes: Meta's webhook (signed, not a user route), the
unmatched inbox, conversations, replies, media and the admin list of deliveries."""
from . import NOBODY, STAFF, rule

CONTACT = ("officer", "delegate", "researcher", "admin")
INBOX = ("officer", "admin")


def FIXTURES(app):
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from portal.models import Attachment, Beneficiary, Branch, TimelineEntry
    from portal.uploads import store_upload

    from plugins.social.models import Message, Sender, WebhookDelivery

    ben = Beneficiary.select().join(Branch).where(Branch.code == "TAIF").order_by(Beneficiary.id).first()
    sender = Sender.create(platform="whatsapp", handle="966551112233", phone="+966551112233", beneficiary=ben)
    entry = TimelineEntry.create(beneficiary=ben, channel="social", direction="out", summary="x",
                                 data={"platform": "whatsapp", "sender": sender.id, "state": "failed"})
    message = Message.create(platform="whatsapp", direction="out", sender=sender, entry=entry, state="failed",
                             payload={"messaging_product": "whatsapp", "to": "966551112233", "type": "text",
                                      "text": {"body": "x"}})
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    stored = store_upload(FileStorage(io.BytesIO(out.getvalue()), filename="p.png"))
    att = Attachment.create(entry=entry, sha256=stored.sha256, file_name="p.png", content_type=stored.content_type,
                            size=stored.size)
    delivery = WebhookDelivery.create(body="{}", object_type="", state="failed")
    return {"sender": sender.id, "social_message": message.id, "social_attachment": att.id,
            "delivery": delivery.id}


ACCESS = {
    "social.verify": rule("GET", "/webhooks/meta", NOBODY, anonymous="403"),
    "social.receive": rule("POST", "/webhooks/meta", NOBODY, anonymous="403"),
    "social.inbox": rule("GET", "/social/inbox", INBOX),
    "social.sender": rule("GET", "/social/senders/{sender}", CONTACT),
    "social.link": rule("POST", "/social/senders/{sender}/link", INBOX),
    "social.reply": rule("POST", "/social/senders/{sender}/reply", CONTACT),
    "social.resolved": rule("POST", "/social/senders/{sender}/resolved", CONTACT),
    "social.retry": rule("POST", "/social/messages/{social_message}/retry", CONTACT),
    "social.media": rule("GET", "/social/media/{social_attachment}", STAFF),
    "social.log_other": rule("GET", "/social/log", CONTACT),
    "social.deliveries": rule("GET", "/social/deliveries", ("admin",)),
    "social.retry_delivery": rule("POST", "/social/deliveries/{delivery}/retry", ("admin",)),
}
