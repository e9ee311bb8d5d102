"""The website's view of the core workflow: public request types and their checklists, the current
declaration text, and the intake/submit services. Kept in one place so the website's screens do not
depend on the workflow's internals."""
from __future__ import annotations

from portal.labels import DOCUMENT_KIND

try:  # the workflow lives in the core (portal.workflow)
    from portal.workflow import models as wf
except ImportError:  # pragma: no cover - only before the workflow is merged
    wf = None


def available() -> bool:
    return wf is not None


def public_request_types():
    if wf is None:
        return []
    return list(wf.RequestType.select().where((wf.RequestType.active == True) & (wf.RequestType.public == True))  # noqa: E712
                .order_by(wf.RequestType.position, wf.RequestType.id))


def request_type_name(code: str, lang: str) -> str:
    if wf is not None:
        row = wf.RequestType.get_or_none(wf.RequestType.code == code)
        if row is not None:
            return row.name(lang)
    from portal.labels import REQUEST_TYPE

    return str(REQUEST_TYPE.get(code, code))


def missing_documents(case) -> list[str]:
    """Labels of what the applicant still has to provide (only while the request is incomplete)."""
    if case.status != "incomplete":
        return []
    items = getattr(case, "missing_documents", None) or []
    out = []
    for item in items:
        kind = item.get("kind") if isinstance(item, dict) else item
        out.append(str(DOCUMENT_KIND.get(kind, kind)))
    return out


def document_kind_choices(case, lang: str) -> list[tuple[str, str]]:
    kinds = []
    if wf is not None:
        rt = wf.RequestType.get_or_none(wf.RequestType.code == case.request_type)
        if rt is not None:
            kinds = [r.kind for r in rt.required_documents.order_by(wf.RequiredDocument.position)]
    for kind in DOCUMENT_KIND:
        if kind not in kinds:
            kinds.append(kind)
    return [(k, str(DOCUMENT_KIND[k])) for k in kinds if k in DOCUMENT_KIND]


def documents_added(case) -> None:
    """Called (inside the upload's transaction) after the applicant sent documents from the tracking page."""
    return None


def request_type(code):
    if wf is None or not code:
        return None
    return wf.RequestType.get_or_none((wf.RequestType.code == code) & (wf.RequestType.active == True)  # noqa: E712
                                      & (wf.RequestType.public == True))  # noqa: E712


def checklist(rtype) -> list:
    if wf is None or rtype is None:
        return []
    return list(rtype.required_documents.order_by(wf.RequiredDocument.position, wf.RequiredDocument.id))


def questions(rtype) -> list:
    if wf is None or rtype is None:
        return []
    return list(rtype.questions.where(wf.EligibilityQuestion.active == True)  # noqa: E712
                .order_by(wf.EligibilityQuestion.position, wf.EligibilityQuestion.id))


def current_declaration():
    if wf is None:
        return None
    return wf.DeclarationText.select().order_by(wf.DeclarationText.version.desc()).first()
