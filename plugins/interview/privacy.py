"""The data-protection export and the erasure of what the interview channel holds about a beneficiary."""
from __future__ import annotations

from playhouse.shortcuts import model_to_dict

from portal import hookimpl


@hookimpl
def beneficiary_data(beneficiary) -> dict | None:
    from .models import Appointment, Interview, Visit

    visits = [model_to_dict(v, recurse=False) for v in Visit.select().where(Visit.beneficiary == beneficiary)]
    appointments = [model_to_dict(a, recurse=False)
                    for a in Appointment.select().where(Appointment.beneficiary == beneficiary)]
    interviews = [model_to_dict(i, recurse=False, exclude=[Interview.form_token])
                  for i in Interview.select().where(Interview.beneficiary == beneficiary)]
    if not (visits or appointments or interviews):
        return None
    return {"name": "interview", "files": [],
            "data": {"visits": visits, "appointments": appointments, "interviews": interviews}}


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until) -> dict | None:
    """Names, numbers and what was said go; tickets, times, dates and the time given stay (statistics)."""
    from .models import Appointment, Interview, Visit

    count = Visit.update(name="", mobile="", reason="").where(Visit.beneficiary == beneficiary).execute()
    count += (Appointment.update(name="", mobile="", reason="", cancel_reason="")
              .where(Appointment.beneficiary == beneficiary).execute())
    count += (Interview.update(purpose="-", present="", questions=None, documents_seen="", outcome="",
                               referral_question="").where(Interview.beneficiary == beneficiary).execute())
    if not count:
        return None
    return {"name": "interview", "anonymised": count, "kept": [], "delete_files": []}
