"""Where a request stands among the policy's seven steps, and which of the next actions the viewer cannot
take now and why (shown disabled on the request page, never hidden)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from ..models import Case
from .machine import DECIDED_STATUSES, FINAL_STATUSES, FORWARD_STATUSES, SERVICE_STATUSES, TRANSITIONS

# The policy's seven steps (design: "How a beneficiary's transaction is handled").
STEPS = (
    ("receive", _l("Reception")),
    ("documents", _l("Data and documents checked")),
    ("research", _l("Social research")),
    ("declaration", _l("Declaration")),
    ("committee", _l("Research committee")),
    ("registration", _l("Registration")),
    ("service", _l("Service")),
)
PAST_RESEARCH = ("awaiting_committee", *DECIDED_STATUSES)
DECIDED = DECIDED_STATUSES
REGISTERED = SERVICE_STATUSES
SUBMIT_FROM = TRANSITIONS["submit"][0]  # a draft or an incomplete request: documents not checked yet
CLOSE_FROM = TRANSITIONS["close"][0]  # after the service or a rejection
STOPPED = ("withdrawn",)


@dataclass
class Step:
    number: int
    key: str
    label: object
    state: str  # done, current, todo, skipped (not needed: rejected), stopped (withdrawn)
    due: object = None  # the step's deadline (the committee's 14 days)
    since: object = None  # when the current step began


def _done(case: Case, declared: bool, reported: bool) -> dict:
    status = case.status
    approved = case.decision == "approved"
    return {
        "receive": True,  # the request exists: the beneficiary was received and the request opened
        "documents": (status not in SUBMIT_FROM and status != "withdrawn") or (
            status == "withdrawn" and case.referred_at is not None),
        "research": reported or status in PAST_RESEARCH,
        "declaration": declared or status in PAST_RESEARCH,
        "committee": status in DECIDED and bool(case.decision),
        "registration": status in REGISTERED or (status == "closed" and approved and case.registered_at is not None),
        "service": status == "served" or (status == "closed" and approved and case.registered_at is not None),
    }


def steps(case: Case, *, declared: bool, reported: bool) -> list[Step]:
    """The seven steps, each done, current (the first one not done, with its due date), or to come. After a
    rejection the last two are not needed; after a withdrawal the remaining ones stopped."""
    done = _done(case, declared, reported)
    rejected = case.decision == "rejected" or case.status == "rejected"
    out, current_seen = [], False
    for number, (key, label) in enumerate(STEPS, start=1):
        if done[key]:
            state = "done"
        elif rejected and key in ("registration", "service"):
            state = "skipped"
        elif case.status in STOPPED:
            state = "stopped"
        elif not current_seen:
            state, current_seen = "current", True
        else:
            state = "todo"
        step = Step(number, key, label, state)
        if state == "current":
            step.since = case.status_changed_at
            if key == "committee" and case.status == "awaiting_committee":
                step.due = case.committee_due_at
        out.append(step)
    return out


@dataclass
class Blocked:
    action: str
    label: object
    reasons: list = field(default_factory=list)


INTAKE_ROLES = ("officer", "delegate", "admin")
FORWARD = (
    ("submit", _l("Submit")), ("refer", _l("Refer to social research")),
    ("report", _l("Save the report")), ("send_to_committee", _l("Send to the committee")),
    ("decide", _l("Record the committee's decision")), ("register", _l("Complete the registration")),
    ("delivery", _l("Record the delivery")), ("close", _l("Close the request")),
)


ORDER = FORWARD_STATUSES


def _before(status: str, stage: str) -> bool:
    """``status`` comes before ``stage`` in the forward order (a rejected request stops after the committee)."""
    if status == "rejected":
        status = "approved"
    return ORDER.index(status) < ORDER.index(stage)


def blocked_actions(case: Case, user, *, checklist_ok: bool, declared: bool, reported: bool, can_report: bool,
                    can_send: bool) -> list[Blocked]:
    """The forward actions of the steps still ahead that ``user`` cannot take now, each with why. Actions the
    page offers as forms are not listed, nor those of steps already done; a finished request lists none."""
    status = case.status
    if status in FINAL_STATUSES:
        return []
    labels = dict(FORWARD)
    intake = user.has_role(*INTAKE_ROLES)
    not_intake = _l("Officers, delegates and administrators do this step.")
    rejected = status == "rejected"
    out: list[Blocked] = []

    def add(action, *reasons):
        out.append(Blocked(action, labels[action], [r for r in reasons if r]))

    # submit: from a draft or an incomplete request, with every document present and valid
    if status in SUBMIT_FROM:
        if not intake:
            add("submit", not_intake)
        elif not checklist_ok:
            add("submit", _l("Required documents are missing or expired: see the list."))
    # refer: from a submitted request
    if status in SUBMIT_FROM:
        add("refer", _l("After the request is submitted with its documents."))
    elif status == "submitted" and not intake:
        add("refer", not_intake)
    # the research report: by the assigned researcher while the request is in research
    if _before(status, "in_research"):
        add("report", _l("After the request is referred to a researcher."))
    elif status == "in_research" and not can_report and not reported:
        add("report", _l("The researcher assigned to the request writes the report."))
    # sending to the committee: needs the report and the declaration
    if _before(status, "in_research"):
        add("send_to_committee", _l("After the social research."))
    elif status == "in_research":
        reasons = []
        if not can_send:
            reasons.append(_l("The assigned researcher or an officer sends the request."))
        if not reported:
            reasons.append(_l("The research report is still missing."))
        if not declared:
            reasons.append(_l("The applicant's declaration is still missing."))
        if reasons:
            add("send_to_committee", *reasons)
    # the decision: by the committee, in a session
    if _before(status, "awaiting_committee"):
        add("decide", _l("After the request is sent to the committee."))
    elif status == "awaiting_committee":
        add("decide", _l("The committee decides in a session: the chair, after the members' votes."))
    if not rejected:
        # registration: after an approval
        if _before(status, "approved"):
            add("register", _l("After the committee approves the request."))
        elif status == "approved" and not intake:
            add("register", not_intake)
        # deliveries: once registered
        if _before(status, "registered"):
            add("delivery", _l("After the registration is completed."))
        elif status in SERVICE_STATUSES and not intake:
            add("delivery", not_intake)
    # closing: after the service or a rejection
    if status not in CLOSE_FROM:
        add("close", _l("After the service is delivered or the request is rejected."))
    elif not intake:
        add("close", not_intake)
    return out
