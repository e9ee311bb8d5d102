"""The data-protection export and the erasure of what the delegates channel holds about a beneficiary (the
timeline entries and their photos are the core's)."""
from __future__ import annotations

from playhouse.shortcuts import model_to_dict

from portal import hookimpl


@hookimpl
def beneficiary_data(beneficiary) -> dict | None:
    from .models import Activity, Plan, Visit

    activities = list(Activity.select().where(Activity.beneficiary == beneficiary))
    visits = [model_to_dict(v, recurse=False) for v in
              Visit.select().where(Visit.activity.in_([a.id for a in activities] or [0]))]
    plans = [model_to_dict(p, recurse=False) for p in Plan.select().where(Plan.beneficiary == beneficiary)]
    if not (activities or plans):
        return None
    return {"name": "delegates", "files": [],
            "data": {"records": [model_to_dict(a, recurse=False) for a in activities], "visits": visits,
                     "plans": plans}}


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until) -> dict | None:
    """What was seen and where go; the counts (who recorded what, which day) stay for the reports."""
    from .models import Activity, Plan, Visit

    ids = Activity.select(Activity.id).where(Activity.beneficiary == beneficiary)
    count = (Visit.update(household_seen="", needs="", location_consent=False, latitude=None, longitude=None)
             .where(Visit.activity.in_(ids)).execute())
    count += Plan.update(note="").where(Plan.beneficiary == beneficiary).execute()
    if not count:
        return None
    return {"name": "delegates", "anonymised": count, "kept": [], "delete_files": []}
