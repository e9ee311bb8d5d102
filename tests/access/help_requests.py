"""Access rules of the self-service menu's screens (plugins/help_requests)."""
from . import rule


def FIXTURES(app):
    from plugins.help_requests.models import SelfServiceSession

    session = SelfServiceSession.create(channel="sms", sender="+966501234567")
    return {"hr_session": session.id}


ACCESS = {
    "help_requests.sessions": rule("GET", "/help-requests/sessions", ("officer", "admin")),
    "help_requests.session": rule("GET", "/help-requests/sessions/{hr_session}", ("officer", "admin")),
}
