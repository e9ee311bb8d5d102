"""Helpers of the satisfaction tests: a transport that accepts every message, a request made ready to serve."""
from __future__ import annotations

import re

from portal import hookimpl


class Transport:
    """A throwaway channel plugin that accepts every message and keeps them (``sent``)."""

    def __init__(self, key: str = "pigeon", accept: bool = True):
        self.key, self.accept, self.sent = key, accept, []

    @hookimpl
    def channel_info(self):
        return {"key": self.key, "label_ar": "الحمام الزاجل", "label_en": "Carrier pigeon", "icon": "🕊", "order": 5}

    @hookimpl
    def send_message(self, beneficiary, text, purpose, channel, context):
        if not self.accept:
            return None
        self.sent.append({"beneficiary": beneficiary.id, "text": text, "purpose": purpose, "channel": channel,
                          "context": context})
        return {"channel": self.key, "id": f"m-{len(self.sent)}"}


def token_in(text: str) -> str:
    """The survey token of the link inside an invitation."""
    match = re.search(r"/site/rate/([A-Za-z0-9_\-]+\.[0-9a-f]+)", text)
    assert match, text
    return match.group(1)


def registered_case(beneficiary_id: int, reference: str = "1448-000001", request_type: str = "food_basket",
                    channel: str = "pigeon"):
    """A request already approved and registered, ready for ``serve``."""
    from portal.models import Case

    return Case.create(reference=reference, beneficiary=beneficiary_id, request_type=request_type, channel=channel,
                       status="registered")


def serve(case, actor=None):
    from portal.workflow import machine

    return machine.transition(case, "serve", actor=actor)


def reject(beneficiary_id: int, reference: str = "1448-000002"):
    """A request the committee rejects: its survey goes as a message of its own (no notice carries its link)."""
    from portal.models import Case
    from portal.workflow import machine

    case = Case.create(reference=reference, beneficiary=beneficiary_id, request_type="rent", channel="pigeon",
                       status="awaiting_committee", decision_reasons="لا تنطبق الشروط")
    return machine.transition(case, "reject")
