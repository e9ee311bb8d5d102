"""The case state machine (the policy's seven steps).

::

    draft -> submitted -> incomplete <-> submitted -> in_research -> awaiting_committee -> approved | rejected
    approved -> registered -> served -> closed          rejected -> closed          any open state -> withdrawn

``transition()`` is the only code that changes ``Case.status``. It runs in one transaction: a
conditional ``UPDATE case SET status = new, version = version + 1 WHERE id = ? AND status = old AND
version = ?`` (so two requests racing for the same change cannot both win), a timeline entry, an
audit event and the ``case_status_changed`` hook. The step services (``intake``, ``research``,
``committee``, ``service``) check their own preconditions and then call it inside their transaction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..db import database, utcnow
from ..labels import CASE_STATUS
from ..models import Case
from ..plugins import hook
from ..stats import case_row, change_case
from ..text import isolate
from .errors import StaleCase, TransitionNotAllowed

STATUSES = ("draft", "submitted", "incomplete", "in_research", "awaiting_committee", "approved", "rejected",
            "registered", "served", "closed", "withdrawn")
# The groups of states the rest of the code asks about: defined here only, used everywhere (templates get
# flags computed from them).
OPEN_STATUSES = ("draft", "submitted", "incomplete", "in_research", "awaiting_committee", "approved",
                 "registered")  # not finished: the applicant may still withdraw
FINAL_STATUSES = ("closed", "withdrawn")
IN_PROGRESS_STATUSES = tuple(s for s in OPEN_STATUSES if s != "draft")  # submitted and not finished
UNDECIDED_STATUSES = ("draft", "submitted", "incomplete", "in_research", "awaiting_committee")  # no decision yet
AWAITING_REPLY_STATUSES = tuple(s for s in UNDECIDED_STATUSES if s != "draft")  # the applicant waits for the reply
BEFORE_COMMITTEE_STATUSES = ("draft", "submitted", "incomplete", "in_research")  # documents, declaration may change
RESEARCH_STATUSES = ("in_research", "awaiting_committee")  # a researcher is assigned
DECIDED_STATUSES = ("approved", "rejected", "registered", "served", "closed")  # the committee has decided
DECISION_STATUSES = ("approved", "rejected")  # the committee's two answers, as states
APPROVED_UNSERVED_STATUSES = ("approved", "registered")  # approved, the support not given yet
APPROVED_STATUSES = ("approved", "registered", "served")  # approved: the support is coming or was given
SERVICE_STATUSES = ("registered", "served")  # enrolled: deliveries are recorded
SURVEYED_STATUSES = ("served", "rejected", "closed")  # the request's service is over: a satisfaction survey
# The forward path in order (an incomplete request has not passed its documents check yet): the request
# page's progress line asks whether a request is before a stage.
FORWARD_STATUSES = ("draft", "incomplete", "submitted", "in_research", "awaiting_committee", "approved",
                    "registered", "served", "closed")
SUBMITTED_STATUSES = tuple(s for s in STATUSES if s != "draft" and s not in FINAL_STATUSES)  # submitted, not ended

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft", "incomplete"), "submitted"),
    "mark_incomplete": (("draft", "submitted"), "incomplete"),
    "refer": (("submitted",), "in_research"),
    "send_to_committee": (("in_research",), "awaiting_committee"),
    "approve": (("awaiting_committee",), "approved"),
    "reject": (("awaiting_committee",), "rejected"),
    "register": (("approved",), "registered"),
    "serve": (("registered",), "served"),
    "close": (("served", "rejected"), "closed"),
    "withdraw": (OPEN_STATUSES, "withdrawn"),
}

ACTION_LABELS = {
    "submit": _l("Submit"), "mark_incomplete": _l("Mark incomplete"), "refer": _l("Refer to social research"),
    "send_to_committee": _l("Send to the committee"), "approve": _l("Approve"), "reject": _l("Reject"),
    "register": _l("Complete the registration"), "serve": _l("Record the service"), "close": _l("Close"),
    "withdraw": _l("Withdraw"),
}


def allowed_actions(status: str) -> list[str]:
    return [a for a, (sources, _target) in TRANSITIONS.items() if status in sources]


def target_of(action: str) -> str:
    return TRANSITIONS[action][1]


@dataclass
class Outcome:
    """What ``transition`` did: ``changed`` is False when the same change had already been made."""

    case: Case
    old: str
    new: str
    changed: bool


def _status_label(status: str) -> str:
    return str(CASE_STATUS.get(status, status))


def check_allowed(case: Case, action: str) -> None:
    if action not in TRANSITIONS:
        raise TransitionNotAllowed(_l("Unknown action."))
    sources, _target = TRANSITIONS[action]
    if case.status not in sources:
        raise TransitionNotAllowed(_l(
            "This request is “%(status)s”: “%(action)s” is not possible now. Nothing was changed.",
            status=_status_label(case.status), action=ACTION_LABELS[action],
        ))


def transition(case: Case, action: str, *, actor=None, expected_version: int | None = None,
               fields: dict | None = None, note: str = "", channel: str = "system", data: dict | None = None,
               now: dt.datetime | None = None) -> Outcome:
    """Move ``case`` by ``action``; one transaction with timeline entry, audit event and hook.

    ``expected_version`` is the version the user saw: when the case has meanwhile moved to the very
    status this action leads to (a double click, a second tab) nothing happens and ``changed`` is
    False; any other change in between raises ``StaleCase``. An action not allowed from the current
    status raises ``TransitionNotAllowed``. ``fields`` are further Case columns set in the same UPDATE.
    """
    from ..timeline import log_entry

    if action not in TRANSITIONS:
        raise TransitionNotAllowed(_l("Unknown action."))
    target = TRANSITIONS[action][1]
    now = now or utcnow()
    with database.atomic():
        fresh = Case.get_or_none(Case.id == case.id)
        if fresh is None:
            raise TransitionNotAllowed(_l("This request does not exist."))
        if expected_version is not None and fresh.version != expected_version:
            if fresh.status == target:
                return Outcome(fresh, fresh.status, fresh.status, False)
            raise StaleCase(_l("Someone changed this request while you were looking at it. "
                               "Nothing was changed: review it and try again."))
        check_allowed(fresh, action)
        old = fresh.status
        values = {"status": target, "version": Case.version + 1, "status_changed_at": now, "updated_at": now}
        values.update(fields or {})
        updated = (Case.update(**values)
                   .where((Case.id == fresh.id) & (Case.status == old) & (Case.version == fresh.version))
                   .execute())
        if updated != 1:
            again = Case.get_by_id(fresh.id)
            if again.status == target:
                return Outcome(again, again.status, again.status, False)
            raise StaleCase(_l("Someone changed this request while you were looking at it. "
                               "Nothing was changed: review it and try again."))
        before = case_row(fresh)
        fresh = Case.get_by_id(fresh.id)
        change_case(before, case_row(fresh))  # the managers' counts per month, in this transaction
        with force_locale("ar"):
            summary = _("Request %(ref)s: %(old)s → %(new)s", ref=isolate(fresh.reference), old=_status_label(old),
                        new=_status_label(target))
        entry_data = {"kind": "case_status", "action": action, "from": old, "to": target}
        entry_data.update(data or {})
        log_entry(channel=channel, summary=summary, body=note, beneficiary=fresh.beneficiary, case=fresh,
                  direction="internal", actor=actor, data=entry_data, occurred_at=now)
        audit("transition", "case", fresh.id, {"action": action, "from": old, "to": target,
                                               "reference": fresh.reference}, actor=actor)
        hook().case_status_changed(case=fresh, old=old, new=target, actor=actor)
        if case is not fresh:
            case.__data__.update(fresh.__data__)
            case._dirty.clear()
    return Outcome(fresh, old, target, True)
