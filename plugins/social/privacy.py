"""What the social channel holds about a beneficiary (linked senders, their messages), for export and erasure."""
from __future__ import annotations

from playhouse.shortcuts import model_to_dict

from portal import hookimpl

from .models import Message, Sender


@hookimpl
def beneficiary_data(beneficiary) -> dict | None:
    senders = list(Sender.select().where(Sender.beneficiary == beneficiary).order_by(Sender.id))
    if not senders:
        return None
    messages = list(Message.select().where(Message.sender.in_([s.id for s in senders])).order_by(Message.id))
    return {
        "name": "social",
        "data": {
            "senders": [model_to_dict(s, recurse=False) for s in senders],
            "messages": [model_to_dict(m, recurse=False, exclude=[Message.delivery]) for m in messages],
        },
        "files": [],  # media are timeline attachments: the core exports them
    }


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until) -> dict | None:
    """Handles (numbers, platform ids), names and message contents go; directions, kinds, states and times
    stay. The media are timeline attachments, which the core deletes."""
    senders = list(Sender.select().where(Sender.beneficiary == beneficiary))
    if not senders:
        return None
    for sender in senders:
        Sender.update(handle=f"erased-{sender.id}", display_name="", phone="").where(Sender.id == sender.id).execute()
    ids = [s.id for s in senders]
    messages = Message.update(payload=None, error="").where(Message.sender.in_(ids)).execute()
    return {"name": "social", "anonymised": len(senders) + messages, "kept": [], "delete_files": []}
