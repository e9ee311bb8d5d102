"""Who sees which beneficiaries and requests: the one place the core (and plugins, through these
functions) decide it.

- admins, officers, managers and committee members see every file and every request;
- a branch delegate sees the files of their own branch and every request of those files;
- a social researcher sees the requests assigned to them and the files those requests belong to; on
  such a file, the other requests (their references, states and timeline entries) stay hidden.
A user with both the delegate and the researcher role sees the union.
"""
from __future__ import annotations

from .models import Beneficiary, Case, TimelineEntry

FULL_VIEW_ROLES = ("admin", "officer", "manager", "committee")


def sees_everything(user) -> bool:
    return user is not None and user.has_role(*FULL_VIEW_ROLES)


def _branch(user) -> int:
    # A delegate without a branch sees no file (``== None`` would match the files without a branch).
    return user.branch_id or -1


def _any(conditions):
    cond = conditions[0]
    for extra in conditions[1:]:
        cond = cond | extra
    return cond


def case_condition(user):
    """A condition on ``Case`` selecting the requests ``user`` may see, or None for all of them."""
    if sees_everything(user):
        return None
    conditions = []
    if user is not None and user.has_role("researcher"):
        conditions.append(Case.assigned_researcher == user.id)
    if user is not None and user.has_role("delegate"):
        conditions.append(Case.beneficiary.in_(
            Beneficiary.select(Beneficiary.id).where(Beneficiary.branch == _branch(user))))
    return _any(conditions) if conditions else (Case.id == -1)


def visible_case_ids(user):
    """A sub-select of the ids of the requests ``user`` may see, or None for all of them."""
    cond = case_condition(user)
    return None if cond is None else Case.select(Case.id).where(cond)


def scope_cases(query, user):
    """``query`` (over ``Case``) limited to the requests ``user`` may see."""
    cond = case_condition(user)
    return query if cond is None else query.where(cond)


def can_see_case(case: Case | None, user) -> bool:
    if case is None or user is None:
        return False
    if sees_everything(user):
        return True
    if user.has_role("researcher") and case.assigned_researcher_id == user.id:
        return True
    if user.has_role("delegate") and user.branch_id is not None:
        branch = Beneficiary.select(Beneficiary.branch).where(Beneficiary.id == case.beneficiary_id).scalar()
        if branch == user.branch_id:
            return True
    return False


def beneficiary_condition(user):
    """A condition on ``Beneficiary`` selecting the files ``user`` may see, or None for all of them."""
    if sees_everything(user):
        return None
    conditions = []
    if user is not None and user.has_role("delegate"):
        conditions.append(Beneficiary.branch == _branch(user))
    if user is not None and user.has_role("researcher"):
        conditions.append(Beneficiary.id.in_(
            Case.select(Case.beneficiary).where(Case.assigned_researcher == user.id)))
    return _any(conditions) if conditions else (Beneficiary.id == -1)


def scope_beneficiaries(query, user):
    cond = beneficiary_condition(user)
    return query if cond is None else query.where(cond)


def can_see_beneficiary(ben: Beneficiary | None, user) -> bool:
    if ben is None or user is None:
        return False
    if sees_everything(user):
        return True
    if user.has_role("delegate") and user.branch_id is not None and ben.branch_id == user.branch_id:
        return True
    if user.has_role("researcher"):
        return Case.select().where((Case.beneficiary == ben.id) & (Case.assigned_researcher == user.id)).exists()
    return False


def entry_condition(user):
    """A condition on ``TimelineEntry`` hiding the entries of requests ``user`` may not see (entries
    without a request stay), or None when nothing is hidden. Combine with the file's own check."""
    ids = visible_case_ids(user)
    if ids is None:
        return None
    return TimelineEntry.case.is_null() | TimelineEntry.case.in_(ids)


def scope_entries(query, user):
    """Timeline entries ``user`` may see: of visible files, and of visible requests (or of none)."""
    cond = entry_condition(user)
    if cond is None:
        return query
    bens = beneficiary_condition(user)
    return query.where(cond & TimelineEntry.beneficiary.in_(Beneficiary.select(Beneficiary.id).where(bens)))


def registers_in_branch(user) -> int | None:
    """The branch a user must register files in (a delegate without a wider role), or None."""
    if user is None or sees_everything(user) or not user.has_role("delegate"):
        return None
    return _branch(user)
