"""What the website holds about a beneficiary (inquiries, application drafts), for export and erasure."""
from __future__ import annotations

from playhouse.shortcuts import model_to_dict

from portal import hookimpl

from .models import ApplicationDraft, Inquiry


def _inquiries(beneficiary):
    return Inquiry.select().where((Inquiry.beneficiary == beneficiary) | (Inquiry.national_id == beneficiary.national_id))


@hookimpl
def beneficiary_data(beneficiary) -> dict | None:
    inquiries = list(_inquiries(beneficiary).order_by(Inquiry.id))
    drafts = list(ApplicationDraft.select().where(ApplicationDraft.national_id == beneficiary.national_id))
    if not inquiries and not drafts:
        return None
    return {
        "name": "website",
        "data": {
            "inquiries": [model_to_dict(i, recurse=False, exclude=[Inquiry.form_nonce]) for i in inquiries],
            "application_drafts": [model_to_dict(d, recurse=False, exclude=[ApplicationDraft.code_hash])
                                   for d in drafts],
        },
        "files": [],
    }


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until) -> dict | None:
    """Inquiries keep their reference, kind, status and dates; who wrote, what and the answer go.
    Unfinished application drafts are deleted."""
    ids = [i.id for i in _inquiries(beneficiary)]
    count = 0
    if ids:
        count = Inquiry.update(name="", mobile="", national_id="", email="", subject="", body="", answer="",
                               answer_delivery="").where(Inquiry.id.in_(ids)).execute()
    drafts = ApplicationDraft.delete().where(ApplicationDraft.national_id == beneficiary.national_id).execute()
    if not count and not drafts:
        return None
    return {"name": "website", "anonymised": count + drafts, "kept": [], "delete_files": []}
