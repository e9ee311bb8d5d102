"""The research committee's screens: sessions, the agenda with votes and decisions, printable minutes."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required
from ..hygiene import get_or_404
from ..dates import parse_date
from ..models import Beneficiary, Case, User
from ..templating import render
from ..validators import ValidationError
from . import committee as service
from .errors import WorkflowError
from .intake import utcnow
from .models import AgendaItem, CommitteeSession, SessionMember, Vote
from .views_cases import type_names

bp = Blueprint("committee", __name__, url_prefix="/committee")

READ_ROLES = ("committee", "manager", "admin")


def _user():
    return current_user._get_current_object()


def committee_users():
    return service.active_committee()


def _sessions_context(form=None, errors=None):
    sessions = list(CommitteeSession.select(CommitteeSession, User).join(User, on=(CommitteeSession.chair == User.id), attr="chair")
                    .order_by(CommitteeSession.closed_at.is_null(False), CommitteeSession.held_on.desc(),
                              CommitteeSession.id.desc()).limit(100))
    waiting = list(Case.select(Case, Beneficiary).join(Beneficiary, attr="beneficiary")
                   .where(Case.status == "awaiting_committee").order_by(Case.awaiting_committee_at, Case.id))
    return {"sessions": sessions, "waiting": waiting, "members": committee_users(), "form": form or {},
            "errors": errors or {}, "now": utcnow(), "type_names": type_names(),
            "min_members": service.min_members(), "chair_amount": f"{service.chair_amount():,.0f}"}


@bp.get("/")
@roles_required(*READ_ROLES)
def sessions():
    return render("committee/sessions.html", **_sessions_context())


@bp.post("/sessions")
@roles_required("committee", "admin")
def create_session():
    form = request.form
    errors = {}
    held_on = None
    try:
        held_on = parse_date(form.get("held_on"))
    except ValidationError as exc:
        errors["held_on"] = exc.message
    ids = set()
    for raw in form.getlist("members"):
        try:
            ids.add(int(raw))
        except ValueError:
            errors["members"] = _("Unknown member.")
    members = list(User.select().where(User.id.in_(ids))) if ids else []
    if len(members) != len(ids):
        errors["members"] = _("Unknown member.")
    chair = None
    try:
        chair = User.get_or_none(User.id == int(form.get("chair", "")))
    except ValueError:
        pass
    values = form.to_dict()
    values["members"] = [str(i) for i in ids]
    if not errors:
        try:
            session = service.open_session(held_on=held_on, chair=chair, quorum=form.get("quorum", ""),
                                           members=members, title=form.get("title", ""), actor=_user())
        except WorkflowError as exc:
            errors = dict(exc.fields)
            errors["__all__"] = exc.message
        else:
            flash(_("The session was created with %(n)s request(s) on its agenda.",
                    n=AgendaItem.select().where(AgendaItem.session == session).count()), "success")
            return redirect(url_for("committee.session", session_id=session.id))
    errors.setdefault("__all__", _("The session was not created. Check the fields marked below."))
    return render("committee/sessions.html", **_sessions_context(values, errors)), 422


def _get_session(session_id) -> CommitteeSession:
    session = get_or_404(CommitteeSession, CommitteeSession.id == session_id)
    return session


def _session_context(session, errors=None, forms=None):
    member_rows = list(SessionMember.select(SessionMember, User).join(User, attr="user")
                       .where(SessionMember.session == session).order_by(User.full_name))
    rows = service.agenda(session, current_user)
    return {"session": session, "members": member_rows, "rows": rows,
            "is_member": any(m.user_id == current_user.id for m in member_rows),
            "is_chair": session.chair_id == current_user.id, "errors": errors or {}, "forms": forms or {},
            "problems": service.session_problems(session) if session.closed_at is None else [],
            "type_names": type_names()}


@bp.get("/sessions/<int:session_id>")
@roles_required(*READ_ROLES)
def session(session_id):
    return render("committee/session.html", **_session_context(_get_session(session_id)))


@bp.post("/sessions/<int:session_id>/refresh")
@roles_required("committee", "admin")
def refresh(session_id):
    session = _get_session(session_id)
    added = service.refresh_agenda(session)
    flash(_("%(n)s request(s) added to the agenda.", n=added), "info")
    return redirect(url_for("committee.session", session_id=session.id))


def _case_on(session, ref):
    case = get_or_404(Case, Case.reference == ref)
    return case


def _refused(session, case, exc, form_name):
    errors = {f"{form_name}-{case.id}": dict(exc.fields), "__page__": f"{case.reference}: {exc.message}"}
    forms = {f"{form_name}-{case.id}": request.form.to_dict()}
    return render("committee/session.html", **_session_context(session, errors, forms)), exc.status


@bp.post("/sessions/<int:session_id>/cases/<ref>/vote")
@roles_required("committee")
def vote(session_id, ref):
    session = _get_session(session_id)
    case = _case_on(session, ref)
    try:
        service.cast_vote(session, case, member=_user(), vote=request.form.get("vote", ""),
                          comment=request.form.get("comment", ""))
    except WorkflowError as exc:
        return _refused(session, case, exc, "vote")
    flash(_("Your vote on %(ref)s was recorded.", ref=case.reference), "success")
    return redirect(url_for("committee.session", session_id=session.id) + f"#item-{case.id}")


@bp.post("/sessions/<int:session_id>/cases/<ref>/decide")
@roles_required("committee")
def decide(session_id, ref):
    session = _get_session(session_id)
    case = _case_on(session, ref)
    form = request.form
    try:
        version = int(form.get("version", ""))
    except ValueError:
        version = None
    try:
        outcome = service.decide(session, case, decision=form.get("decision", ""), actor=_user(),
                                 amount=form.get("amount"), quantity=form.get("quantity"),
                                 conditions=form.get("conditions", ""), reasons=form.get("reasons", ""),
                                 expected_version=version)
    except WorkflowError as exc:
        return _refused(session, case, exc, "decide")
    if not outcome.changed:
        flash(_("This was already done; nothing was changed."), "info")
    else:
        flash(_("The decision on %(ref)s was recorded.", ref=case.reference), "success")
    return redirect(url_for("committee.session", session_id=session.id) + f"#item-{case.id}")


@bp.post("/sessions/<int:session_id>/close")
@roles_required("committee")
def close(session_id):
    session = _get_session(session_id)
    try:
        service.close_session(session, actor=_user())
    except WorkflowError as exc:
        flash(str(exc.message), "error")
        return render("committee/session.html", **_session_context(session)), exc.status
    flash(_("The session was closed."), "success")
    return redirect(url_for("committee.session", session_id=session.id))


@bp.get("/sessions/<int:session_id>/minutes")
@roles_required(*READ_ROLES)
def minutes(session_id):
    """The minutes (محضر) of a session, printable."""
    session = _get_session(session_id)
    member_rows = list(SessionMember.select(SessionMember, User).join(User, attr="user")
                       .where(SessionMember.session == session).order_by(User.full_name))
    rows = service.agenda(session)
    voter = User.alias()
    votes = {}
    for v in (Vote.select(Vote, voter).join(voter, on=(Vote.member == voter.id), attr="member")
              .where(Vote.session == session).order_by(Vote.at)):
        votes.setdefault(v.case_id, []).append(v)
    return render("committee/minutes.html", session=session, members=member_rows, rows=rows, votes=votes,
                  type_names=type_names())
