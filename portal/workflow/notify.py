"""Messages to beneficiaries through whichever channel plugin can send, recorded on the timeline."""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from ..plugins import hook


def notify(beneficiary, text: str, purpose: str, *, case=None, actor=None, context: dict | None = None):
    """Send ``text`` through ``send_message`` (preferred channel first) and record the attempt.

    Every reference-, phone-, ID-, date- or URL-shaped token of ``text`` is isolated (FSI ... PDI,
    ``portal.text.isolate_tokens``) before it is sent and recorded.

    The timeline gets one outgoing entry: on the channel that sent it with the delivery id, or on
    the ``system`` channel marked "not sent" when no enabled plugin could send. Returns the
    delivery dict or None.
    """
    from ..text import isolate_tokens
    from ..timeline import log_entry

    text = isolate_tokens(text)  # references, dates and links read left to right inside the Arabic text
    ctx = dict(context or {})
    if case is not None:
        ctx.setdefault("reference", case.reference)
    result = hook().send_message(beneficiary=beneficiary, text=text, purpose=purpose,
                                 channel=beneficiary.preferred_channel or None, context=ctx)
    # A channel that hands the message to a job says so with ``"state": "queued"``: then it is not
    # claimed as sent; the channel shows its delivery state on the entry as it changes.
    queued = bool(result) and result.get("state") == "queued"
    with force_locale("ar"):
        if queued:
            summary = _("Message to the beneficiary waiting to be sent")
        elif result:
            summary = _("Message sent to the beneficiary")
        else:
            summary = _("Message not sent: no channel could deliver it")
    data = {"kind": "notification", "purpose": purpose, "sent": bool(result) and not queued}
    if queued:
        data["queued"] = True
    channel = "system"
    if result:
        data["delivery"] = {"channel": result.get("channel"), "id": str(result.get("id", ""))}
        from ..plugins import channel_map

        if result.get("channel") in channel_map():
            channel = result["channel"]
    entry = log_entry(channel=channel, direction="out", summary=summary, body=text, beneficiary=beneficiary,
                      case=case, actor=actor, data=data)
    if not result:
        from ..outbox import keep

        keep(beneficiary, text, purpose, case=case, entry=entry)
    return result
