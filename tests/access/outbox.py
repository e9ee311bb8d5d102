"""Access rules of the outbox (messages no channel delivered): officers and admins."""
from . import rule

OUTBOX = ("officer", "admin")

ACCESS = {
    "outbox.index": rule("GET", "/outbox", OUTBOX),
    "outbox.handled": rule("POST", "/outbox/{outbox}/handled", OUTBOX),
}


def FIXTURES(app):
    """``{outbox}``: a notice to ``{ben}``'s... any beneficiary that no channel delivered."""
    from portal.models import Beneficiary, OutboxMessage

    message = OutboxMessage.create(beneficiary=Beneficiary.select().first(), text="رسالة", purpose="test")
    return {"outbox": message.id}
