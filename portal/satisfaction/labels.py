"""Words of the surveys, in the reader's language."""
from flask_babel import lazy_gettext as _l

SERVICE_KIND_LABELS = {
    "served": _l("Service delivered"),
    "closed": _l("Request closed"),
    "rejected": _l("Request rejected"),
    "inquiry": _l("Inquiry answered"),
    "complaint": _l("Complaint answered"),
    "call": _l("Call"),
    "meeting": _l("Interview or meeting"),
    "conversation": _l("Conversation resolved"),
}
DIMENSION_LABELS = {
    "speed": _l("Speed"),
    "courtesy": _l("Courtesy"),
    "clarity": _l("Clarity"),
    "fairness": _l("Fairness"),
    "reach": _l("Ease of reaching us"),
}
WAY_LABELS = {
    "link": _l("the survey page"),
    "qr": _l("the printed code"),
    "reply": _l("a reply to the message"),
    "call": _l("given by phone"),
    "desk": _l("at the desk"),
}
STATE_LABELS = {
    "open": _l("waiting for an answer"),
    "answered": _l("answered"),
    "expired": _l("link expired"),
}
