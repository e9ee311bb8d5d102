"""What the phone plugin holds about a beneficiary (the calls matched to them), for export and erasure."""
from __future__ import annotations

from playhouse.shortcuts import model_to_dict

from portal import hookimpl

from .models import PhoneCall


@hookimpl
def beneficiary_data(beneficiary) -> dict | None:
    calls = list(PhoneCall.select().where(PhoneCall.beneficiary == beneficiary).order_by(PhoneCall.started_at))
    if not calls:
        return None
    return {"name": "phone", "data": {"calls": [model_to_dict(c, recurse=False) for c in calls]}, "files": []}


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until) -> dict | None:
    """The caller's number goes; when, how long, who answered and the outcome stay (call statistics)."""
    count = (PhoneCall.update(number="", anonymous=True)
             .where(PhoneCall.beneficiary == beneficiary).execute())
    if not count:
        return None
    return {"name": "phone", "anonymised": count, "kept": [], "delete_files": []}
