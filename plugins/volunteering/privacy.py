"""The data-protection export and the erasure of what the volunteering service holds about a beneficiary:
the services volunteers gave them, and the volunteer record linked to their file."""
from __future__ import annotations

from playhouse.shortcuts import model_to_dict

from portal import hookimpl


@hookimpl
def beneficiary_data(beneficiary) -> dict | None:
    from .models import Service, Volunteer

    services = [model_to_dict(s, recurse=False) for s in Service.select().where(Service.beneficiary == beneficiary)]
    volunteer = [model_to_dict(v, recurse=False) for v in Volunteer.select().where(Volunteer.beneficiary == beneficiary)]
    if not (services or volunteer):
        return None
    return {"name": "volunteering", "files": [], "data": {"services": services, "volunteer": volunteer}}


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until) -> dict | None:
    """What was written about the service goes; that a service was given, and when, stays (statistics).
    The volunteer record is unlinked from the file (the person may still volunteer)."""
    from .models import Service, Volunteer

    count = Service.update(note="").where(Service.beneficiary == beneficiary).execute()
    count += Volunteer.update(beneficiary=None).where(Volunteer.beneficiary == beneficiary).execute()
    if not count:
        return None
    return {"name": "volunteering", "anonymised": count, "kept": [], "delete_files": []}
