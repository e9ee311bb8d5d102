"""Messages that people send to the association, as the channel plugins hand them to other plugins.

A channel plugin (WhatsApp, SMS...) stores each incoming message on the timeline first, then builds an
``InboundMessage`` and calls ``dispatch_inbound``: the ``inbound_message`` hook lets another plugin (a
self-service menu, a satisfaction survey waiting for a rating) answer it. When one does, the channel
skips its default handling (e.g. the unmatched-sender inbox)."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from .plugins import hook

log = logging.getLogger(__name__)

# How many files are looked up for one number: two are enough to know it is ambiguous.
MATCH_LIMIT = 5
# A message within this many hours of a staff member's own message to the sender continues that conversation.
STAFF_CONVERSATION_HOURS = 24
# What an ``inbound_message`` implementation returns (instead of True) when the message's words belong to a
# confidential record, such as a satisfaction survey's score or comment: the channel keeps only the fact that a
# message came (``keep_private``), never its words, and shows it in no conversation or inbox.
PRIVATE = "private"


@dataclass(frozen=True)
class InboundMessage:
    """One message received on a channel, after it was stored.

    :ivar channel: the key of the channel that received it (the plugin's ``channel_info`` key).
    :ivar sender: the sender's number in E.164 (``+9665…``), or ``""`` when the platform gives no number.
    :ivar text: the text as received (cleaned of control characters), or the title of a button pressed.
    :ivar reply_id: the id of an interactive reply (a button or a list row the person chose), else None.
    :ivar beneficiary_ids: the files this sender matches (by a link an officer made, or by the mobile
        number): empty when none, two or more when the number is shared (then nobody may be told personal
        data).
    :ivar entry: the ``TimelineEntry`` the channel wrote for it, or None when it wrote none.
    :ivar provider_id: the transport's id of the message (the same message delivered twice has the same).
    :ivar platform: the transport inside the channel (``"whatsapp"``, ``"messenger"``, a gateway name).
    :ivar received_at: when it was received (naive UTC).
    :ivar staff_conversation: a staff member wrote to this sender on this channel in the last
        ``STAFF_CONVERSATION_HOURS`` hours: the message is probably their answer to that person, not a request
        for an automatic service.
    :ivar extra: details of the channel (documented by each channel).
    """

    channel: str
    sender: str
    text: str
    reply_id: str | None = None
    beneficiary_ids: tuple[int, ...] = ()
    entry: object | None = None
    provider_id: str = ""
    platform: str = ""
    received_at: dt.datetime | None = None
    staff_conversation: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def beneficiary_id(self) -> int | None:
        """The one file the sender is, or None (no file, or several)."""
        return self.beneficiary_ids[0] if len(self.beneficiary_ids) == 1 else None


def beneficiaries_for_number(number: str) -> tuple[int, ...]:
    """The ids of the files whose mobile is ``number`` (E.164), at most ``MATCH_LIMIT``; erased files never."""
    from .models import Beneficiary

    if not number:
        return ()
    query = (Beneficiary.select(Beneficiary.id).where((Beneficiary.mobile == number) & Beneficiary.erased_at.is_null())
             .order_by(Beneficiary.id).limit(MATCH_LIMIT))
    return tuple(row.id for row in query)


def dispatch_inbound(message: InboundMessage) -> bool | str:
    """Offer ``message`` to the plugins (``inbound_message``). ``PRIVATE`` when one handled it and its words
    must not be kept (the channel then calls ``keep_private``), True when one handled it, False otherwise. A
    plugin that fails is logged and the message falls back to the channel's default handling: the message is
    already stored, so nothing is lost."""
    try:
        result = hook().inbound_message(message=message)
        return PRIVATE if result == PRIVATE else bool(result)
    except Exception:  # noqa: BLE001 - the channel's own handling must go on
        log.exception("inbound_message failed for a %s message %s", message.channel, message.provider_id)
        return False


def keep_private(entry, *, data: dict | None = None) -> None:
    """Blank the words of a stored incoming message whose content belongs to a confidential record (the
    ``inbound_message`` handler answered ``PRIVATE``): the timeline entry keeps its channel, direction, time
    and file (a contact did happen) with a neutral summary, no body, and only ``data`` (what the channel needs
    to draw it, e.g. its platform; no text, no button title). Runs in the caller's transaction."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from .timeline import update_entry

    if entry is None:
        return
    with force_locale("ar"):
        summary = _("A reply to a satisfaction survey (kept with the survey, not shown here)")
    update_entry(entry, summary=summary, body="", data={**(data or {}), "private": True})
