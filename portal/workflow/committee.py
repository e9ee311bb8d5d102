"""Step 5: the research committee. Sessions (date, members, quorum), an agenda of the requests
awaiting the committee (oldest first, overdue flagged), one vote per member, the chair's decision,
the 14-day deadline and its escalation."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import fn

from ..audit import audit
from ..db import database, utcnow
from ..models import Beneficiary, Case, User
from ..text import clean_text, fold_digits
from . import machine
from .errors import TransitionNotAllowed, WorkflowError
from .models import VOTES, AgendaItem, CommitteeSession, SessionMember, Vote


# --- sessions ------------------------------------------------------------------------------------

def min_members() -> int:
    """``PORTAL_COMMITTEE_MIN_MEMBERS`` (3): the fewest members a session may have."""
    try:
        return max(1, int(current_app.config["COMMITTEE_MIN_MEMBERS"]))
    except (TypeError, ValueError):
        return 3


def chair_amount() -> Decimal:
    """``PORTAL_COMMITTEE_CHAIR_AMOUNT`` (5,000 SAR): an approval above this amount needs the chair's own
    approve vote and at least one more member's approve vote."""
    try:
        return Decimal(str(current_app.config["COMMITTEE_CHAIR_AMOUNT"]))
    except (InvalidOperation, ValueError):
        return Decimal("5000")


def majority(members: int) -> int:
    """The smallest number of votes that is more than half of ``members``."""
    return members // 2 + 1


def active_committee() -> list[User]:
    """The active committee: active users holding the committee role, by name."""
    return [u for u in User.select().where(User.is_active == True).order_by(User.full_name)  # noqa: E712
            if u.has_role("committee")]


def open_session(*, held_on: dt.date | None, chair: User | None, quorum, members: list[User],
                 title: str = "", actor: User | None = None) -> CommitteeSession:
    """Create a session whose agenda is every request awaiting the committee, oldest first.

    ``members``: users of the active committee (the chair is added when missing), at least
    ``PORTAL_COMMITTEE_MIN_MEMBERS``; ``quorum``: how many members must vote on a request before the chair
    may decide it, at least a majority of the members (empty: the majority).
    """
    errors = {}
    title = clean_text(title)
    if held_on is None:
        errors["held_on"] = _l("This field is required.")
    members = [m for m in members if m is not None]
    if chair is None or not chair.is_active or not chair.has_role("committee"):
        errors["chair"] = _l("Choose the chair among the committee members.")
    elif chair.id not in {m.id for m in members}:
        members.append(chair)
    members = list({m.id: m for m in members}.values())
    needed = min_members()
    if any(not m.has_role("committee") or not m.is_active for m in members):
        errors["members"] = _l("Every member must be an active committee member.")
    elif len(members) < needed:
        errors["members"] = _l("A session needs at least %(n)s members of the committee, the chair included "
                               "(%(count)s chosen).", n=needed, count=len(members))
    least = majority(len(members))
    raw = clean_text(fold_digits(str(quorum if quorum is not None else "")))
    if not raw:
        quorum = least
    else:
        try:
            quorum = int(raw)
        except ValueError:
            quorum = 0
        if quorum < least or quorum > len(members):
            errors["quorum"] = _l("The quorum must be at least a majority of the members (%(least)s) and at most "
                                  "their number (%(n)s).", least=least, n=len(members))
    if len(title) > 200:
        errors["title"] = _l("Too long: at most %(n)s characters.", n=200)
    if errors:
        raise WorkflowError(_l("The session was not created. Check the fields marked below."), errors)
    with database.atomic():
        session = CommitteeSession.create(held_on=held_on, title=title, quorum=quorum, chair=chair, created_by=actor)
        for m in members:
            SessionMember.create(session=session, user=m)
        refresh_agenda(session)
        audit("create", "committee_session", session.id, {"quorum": quorum, "members": [m.id for m in members]},
              actor=actor)
    return session


def session_problems(session: CommitteeSession) -> list:
    """Why ``session`` may not decide under the current rules (empty when it may). Sessions opened
    before the rules, or whose members have since left the committee, are kept as they are: their
    members may still vote, but the chair records no decision until the session is closed and the
    requests are decided in a new session that meets the rules (its agenda picks them up)."""
    rows = list(User.select().join(SessionMember, on=(SessionMember.user == User.id))
                .where(SessionMember.session == session))
    active = [u for u in rows if u.is_active and u.has_role("committee")]
    problems = []
    needed = min_members()
    if len(active) < needed:
        problems.append(_l("This session has %(count)s active committee members; at least %(n)s are needed.",
                           count=len(active), n=needed))
    if session.quorum < majority(len(rows)):
        problems.append(_l("Its quorum (%(quorum)s) is less than a majority of its members (%(least)s).",
                           quorum=session.quorum, least=majority(len(rows))))
    chair = next((u for u in rows if u.id == session.chair_id), None)
    if chair is None or chair not in active:
        problems.append(_l("Its chair is no longer an active committee member."))
    return problems


def refresh_agenda(session: CommitteeSession) -> int:
    """Add the requests awaiting the committee that are not on the agenda yet; returns how many."""
    if session.closed_at is not None:
        return 0
    with database.atomic():
        on_agenda = AgendaItem.select(AgendaItem.case).where(AgendaItem.session == session)
        waiting = list(Case.select(Case.id).where((Case.status == "awaiting_committee") & ~(Case.id.in_(on_agenda)))
                       .order_by(Case.awaiting_committee_at, Case.id))
        start = (AgendaItem.select(fn.MAX(AgendaItem.position)).where(AgendaItem.session == session).scalar() or 0)
        for n, case in enumerate(waiting, start=1):
            AgendaItem.create(session=session, case=case.id, position=start + n)
    return len(waiting)


def is_member(session: CommitteeSession, user: User) -> bool:
    return SessionMember.select().where((SessionMember.session == session) & (SessionMember.user == user.id)).exists()


@dataclass
class AgendaRow:
    item: AgendaItem
    case: Case
    votes: dict  # vote -> count
    my_vote: str | None
    overdue: bool


def agenda(session: CommitteeSession, user: User | None = None, now: dt.datetime | None = None) -> list[AgendaRow]:
    """The session's agenda, oldest request first, with vote counts: three queries in all."""
    now = now or utcnow()
    items = list(AgendaItem.select(AgendaItem, Case, Beneficiary)
                 .join(Case, attr="case").join(Beneficiary, attr="beneficiary")
                 .where(AgendaItem.session == session)
                 .order_by(Case.awaiting_committee_at, AgendaItem.position))
    counts: dict[int, dict] = {}
    mine: dict[int, str] = {}
    for vote in Vote.select(Vote.case, Vote.vote, Vote.member).where(Vote.session == session):
        counts.setdefault(vote.case_id, {}).setdefault(vote.vote, 0)
        counts[vote.case_id][vote.vote] += 1
        if user is not None and vote.member_id == user.id:
            mine[vote.case_id] = vote.vote
    return [AgendaRow(i, i.case, counts.get(i.case.id, {}), mine.get(i.case.id), is_overdue(i.case, now))
            for i in items]


def is_overdue(case: Case, now: dt.datetime | None = None) -> bool:
    return (case.status == "awaiting_committee" and case.committee_due_at is not None
            and case.committee_due_at < (now or utcnow()))


# --- votes and decisions -------------------------------------------------------------------------

def _on_agenda(session: CommitteeSession, case: Case) -> AgendaItem | None:
    return AgendaItem.get_or_none((AgendaItem.session == session) & (AgendaItem.case == case.id))


def cast_vote(session: CommitteeSession, case: Case, *, member: User, vote: str, comment: str = "") -> Vote:
    """Record ``member``'s vote (approve / reject / abstain) on ``case``; a member may change their vote
    until the chair decides. Refused for non-members, closed sessions and requests not on the agenda."""
    comment = clean_text(comment)
    if session.closed_at is not None:
        raise WorkflowError(_l("This session is closed."))
    if member is None or not is_member(session, member):
        raise WorkflowError(_l("Only members of this session can vote."), {"vote": _l("You are not a member of "
                                                                                      "this session.")})
    if _on_agenda(session, case) is None:
        raise WorkflowError(_l("This request is not on the session's agenda."))
    if Case.get_by_id(case.id).status != "awaiting_committee":
        raise TransitionNotAllowed(_l("This request has already been decided."))
    if vote not in VOTES:
        raise WorkflowError(_l("Choose approve, reject or abstain."), {"vote": _l("Choose a vote.")})
    if len(comment) > 2000:
        raise WorkflowError(_l("Too long: at most %(n)s characters.", n=2000),
                            {"comment": _l("Too long: at most %(n)s characters.", n=2000)})
    with database.atomic():
        (Vote.insert(session=session, case=case.id, member=member.id, vote=vote, comment=comment, at=utcnow())
         .on_conflict(conflict_target=[Vote.session, Vote.case, Vote.member],
                      update={Vote.vote: vote, Vote.comment: comment, Vote.at: utcnow()})
         .execute())
        audit("vote", "case", case.id, {"session": session.id, "vote": vote}, actor=member)
    return Vote.get((Vote.session == session) & (Vote.case == case.id) & (Vote.member == member.id))


def _decimal(raw, field, errors, allow_int=False):
    raw = clean_text(fold_digits(str(raw or ""))).replace(",", "")
    if not raw:
        return None
    try:
        value = Decimal(raw)
        if value <= 0 or value > Decimal("10000000") or (allow_int and value != value.to_integral_value()):
            raise InvalidOperation
    except InvalidOperation:
        errors[field] = _l("Enter a whole number greater than zero.") if allow_int else _l("Enter an amount in riyals.")
        return None
    return int(value) if allow_int else value.quantize(Decimal("0.01"))


def decide(session: CommitteeSession, case: Case, *, decision: str, actor: User, amount=None, quantity=None,
           conditions: str = "", reasons: str = "", expected_version: int | None = None):
    """The chair's decision on ``case``: ``"approve"`` (an amount or a quantity, optional conditions)
    or ``"reject"`` (reasons required). Needs the session's quorum of votes on the request. Tells the
    beneficiary through the status change's notice (``portal.workflow.notices``). Returns the transition
    Outcome."""
    errors = {}
    if session.closed_at is not None:
        raise WorkflowError(_l("This session is closed."))
    if actor is None or actor.id != session.chair_id:
        raise WorkflowError(_l("Only the chair of the session records the decision."))
    if _on_agenda(session, case) is None:
        raise WorkflowError(_l("This request is not on the session's agenda."))
    problems = session_problems(session)
    if problems:
        raise WorkflowError(_l("This session does not meet the committee's rules, so no decision can be recorded "
                               "in it: %(problems)s Close it and open a new session; the waiting requests go on "
                               "its agenda.", problems=" ".join(str(p) for p in problems)))
    if decision not in ("approve", "reject"):
        raise WorkflowError(_l("Choose approve or reject."), {"decision": _l("Choose approve or reject.")})
    fresh = Case.get_by_id(case.id)
    if expected_version is None or fresh.version == expected_version:
        machine.check_allowed(fresh, decision)
    cast = list(Vote.select(Vote.member, Vote.vote).where((Vote.session == session) & (Vote.case == case.id)))
    votes = len(cast)
    conditions, reasons = clean_text(conditions), clean_text(reasons)
    fields = {"decision": "approved" if decision == "approve" else "rejected", "decided_at": utcnow(),
              "decided_by": actor.id}
    if decision == "approve":
        amount_value = _decimal(amount, "amount", errors)
        quantity_value = _decimal(quantity, "quantity", errors, allow_int=True)
        if amount_value is None and quantity_value is None and not errors:
            errors["amount"] = _l("Give the amount or the quantity approved.")
        if len(conditions) > 2000:
            errors["conditions"] = _l("Too long: at most %(n)s characters.", n=2000)
        fields.update(amount=amount_value, quantity=quantity_value, conditions=conditions, decision_reasons=reasons)
    else:
        if not reasons:
            errors["reasons"] = _l("A rejection needs its reasons.")
        elif len(reasons) > 5000:
            errors["reasons"] = _l("Too long: at most %(n)s characters.", n=5000)
        fields.update(decision_reasons=reasons, amount=None, quantity=None, conditions="")
    if errors:
        raise WorkflowError(_l("The decision was not recorded. Check the fields marked below."), errors)
    if votes < session.quorum and fresh.status == "awaiting_committee":
        raise WorkflowError(_l("No quorum: %(votes)s of the %(quorum)s votes needed have been cast on this "
                               "request.", votes=votes, quorum=session.quorum))
    if (decision == "approve" and fresh.status == "awaiting_committee" and fields["amount"] is not None
            and fields["amount"] > chair_amount()):
        chair_approves = any(v.member_id == session.chair_id and v.vote == "approve" for v in cast)
        others = sum(1 for v in cast if v.member_id != session.chair_id and v.vote == "approve")
        if not chair_approves or others < 1:
            raise WorkflowError(
                _l("An amount above %(limit)s SAR needs the chair's approve vote and at least one more member's "
                   "approve vote before it is approved.", limit=f"\u2068{chair_amount():,.0f}\u2069"),
                {"amount": _l("Above %(limit)s SAR: the chair and at least one more member must vote to approve.",
                              limit=f"\u2068{chair_amount():,.0f}\u2069")})
    with database.atomic():
        outcome = machine.transition(fresh, decision, actor=actor, expected_version=expected_version, fields=fields,
                                     note=reasons or conditions, data={"session": session.id, "votes": votes})
        if outcome.changed:
            AgendaItem.update(decision=fields["decision"]).where(
                (AgendaItem.session == session) & (AgendaItem.case == case.id)).execute()
    return outcome


def close_session(session: CommitteeSession, *, actor: User) -> CommitteeSession:
    """The chair closes the session; its minutes stay printable."""
    if actor is None or actor.id != session.chair_id:
        raise WorkflowError(_l("Only the chair of the session can close it."))
    with database.atomic():
        CommitteeSession.update(closed_at=utcnow()).where(
            (CommitteeSession.id == session.id) & CommitteeSession.closed_at.is_null()).execute()
        audit("update", "committee_session", session.id, {"closed": True}, actor=actor)
    return CommitteeSession.get_by_id(session.id)


# --- the deadline --------------------------------------------------------------------------------

def overdue_query(now: dt.datetime | None = None):
    """Requests awaiting the committee past their due date, oldest due first."""
    return (Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary")
            .where((Case.status == "awaiting_committee") & (Case.committee_due_at < (now or utcnow())))
            .order_by(Case.committee_due_at, Case.id))


def escalate_overdue(now: dt.datetime | None = None) -> int:
    """Daily job: mark each newly overdue request escalated (once), with a timeline entry and an
    audit event for the managers. Returns how many were escalated."""
    from ..timeline import log_entry

    now = now or utcnow()
    count = 0
    for case in overdue_query(now).where(Case.escalated_at.is_null()):
        with database.atomic():
            changed = Case.update(escalated_at=now).where((Case.id == case.id) & Case.escalated_at.is_null()).execute()
            if not changed:
                continue
            days = (now - case.awaiting_committee_at).days if case.awaiting_committee_at else 0
            with force_locale("ar"):
                summary = _("Request %(ref)s is overdue at the committee (%(days)s days waiting): escalated to "
                            "the managers", ref=case.reference, days=days)
            log_entry(channel="system", summary=summary, beneficiary=case.beneficiary, case=case,
                      direction="internal", data={"kind": "committee_overdue", "days": days})
            audit("escalate", "case", case.id, {"reference": case.reference, "days": days}, actor=None)
            count += 1
    return count
