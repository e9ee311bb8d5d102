"""Messages to beneficiaries through whichever channel plugin can send, recorded on the timeline."""
from __future__ import annotations


def notify(beneficiary, text: str, purpose: str, *, case=None, actor=None, context: dict | None = None,
           key: str | None = None, urgent: bool | None = None, now=None):
    """Send ``text`` through the notices' delivery (``portal.workflow.notices.deliver``): contact
    consent, quiet hours, the daily cap, then the channels in routing order (preferred first).

    Every reference-, phone-, ID-, date- or URL-shaped token of ``text`` is isolated (FSI ... PDI,
    ``portal.text.isolate_tokens``) before it is sent and recorded. ``key`` makes the message once-only
    (a second call with the same key sends nothing). The timeline gets the outcome: sent (on the channel
    that took it), waiting (a channel queued it), held until a time, not sent (kept in the outbox), or
    not sent for lack of consent. Returns the delivery dict (``{"channel", "id"}``, with ``"state":
    "queued"`` when a channel queued it) or None when nothing was handed to a channel now.
    """
    from .notices import deliver

    notice = deliver(beneficiary, text, purpose, key=key, case=case, actor=actor, context=context, urgent=urgent,
                     now=now)
    if notice is None or notice.state not in ("sent", "queued"):
        return None
    delivery = ((notice.entry.data or {}).get("delivery") if notice.entry_id else None) or {}
    result = {"channel": delivery.get("channel") or notice.channel, "id": delivery.get("id", "")}
    if notice.state == "queued":
        result["state"] = "queued"
    return result
