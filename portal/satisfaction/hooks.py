"""The surveys' hook implementations (a core plugin, registered like ``portal.workflow.hooks``): a survey after
every finished service, the panel on the beneficiary's file, the managers' menu entry, the settings, the
reminder job, the survey address for printed documents, and the beneficiary's data for export and erasure."""
from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ..hookspecs import hookimpl
from ..workflow.machine import SURVEYED_STATUSES

# Request states after which the request's service is finished: a survey is offered about it.
FINISHED_STATUSES = SURVEYED_STATUSES
from .models import RECORD_ROLES, REPORT_ROLES


@hookimpl
def plugin_settings():
    from flask_babel import lazy_gettext as _l

    from ..settings import setting

    return [
        setting("SATISFACTION_ENABLED", True, _l("Offer a satisfaction survey after each finished service."),
                type="bool"),
        setting("SATISFACTION_INTERVAL_DAYS", 30,
                _l("At most one survey per beneficiary in this many days, whatever the channel."),
                type="int", unit="days", minimum=1),
        setting("SATISFACTION_LINK_DAYS", 14, _l("Days a survey link stays open."), type="int", unit="days",
                minimum=1),
        setting("SATISFACTION_REMINDER_DAYS", 3,
                _l("Days after the invitation before the one reminder is sent."), type="int", unit="days",
                minimum=1),
        setting("SATISFACTION_MIN_ANSWERS", 5,
                _l("The fewest answers before a staff member's or a branch's ratings are shown."), type="int",
                minimum=1),
        setting("SATISFACTION_COMMENT_MINUTES", 60,
                _l("After a score given by a reply, the next message within this many minutes is the comment."),
                type="int", unit="minutes", minimum=1),
        setting("SATISFACTION_PUBLIC_URL", None,
                _l("Base address of the survey links sent and printed (e.g. https://sila.example.org); by default "
                   "the address the portal is reached at.")),
    ]


@hookimpl
def service_finished(beneficiary, kind, channel, case, staff, source):
    from .service import offer

    return offer(beneficiary=beneficiary, kind=kind, channel=channel or "", case=case, staff=staff, source=source)


@hookimpl
def case_status_changed(case, old, new, actor):
    """A served, rejected or closed request: one survey per request (a closed request that was served or rejected
    already has one)."""
    if new not in FINISHED_STATUSES:
        return
    from .service import mark_handed_to_notice, offer

    # The "served" notice (portal.workflow.notices) carries the rating link by default: then the survey is not
    # sent a second time on its own.
    carried = new in NOTICE_STATUSES and _notice_carries_link(new)
    survey = offer(beneficiary=case.beneficiary, kind=new, case=case, staff=actor, source=f"case:{case.id}",
                   send=not carried)
    if carried and survey is not None:
        mark_handed_to_notice(survey)


NOTICE_STATUSES = ("served",)  # the request notices whose wording may hold the {rating_link} placeholder


def _notice_carries_link(status: str) -> bool:
    from ..workflow.notices import wording

    return "{rating_link}" in wording(status)["ar"]


@hookimpl
def notice_context(case, purpose):
    """``{rating_link}`` for the request notices: the link of the request's open survey."""
    if case is None:
        return {"rating_link": ""}
    from ..db import utcnow
    from .models import Survey
    from .service import is_opted_out, link_for

    survey = (Survey.select().where((Survey.case == case.id) & Survey.answered_at.is_null()
                                    & (Survey.expires_at > utcnow())).order_by(Survey.created_at.desc()).first())
    if survey is None or is_opted_out(survey.beneficiary_id):
        return None
    return {"rating_link": link_for(survey)}


@hookimpl
def document_extras(beneficiary, case, purpose):
    """The open survey of the request (or, for a document about no request, of the beneficiary) as a link
    for the printed QR code."""
    from ..db import utcnow
    from .models import Survey
    from .service import is_opted_out, link_for

    query = Survey.select().where(Survey.answered_at.is_null() & (Survey.expires_at > utcnow()))
    if case is not None:
        query = query.where(Survey.case == case.id)
    elif beneficiary is not None:
        query = query.where(Survey.beneficiary == beneficiary.id)
    else:
        return None
    survey = query.order_by(Survey.created_at.desc()).first()
    if survey is None or is_opted_out(survey.beneficiary_id):
        return None
    return {"survey_url": link_for(survey, qr=True)}


@hookimpl
def menu_links(user, request):
    if not user.has_role(*REPORT_ROLES):
        return []
    endpoint = request.endpoint or ""
    return [{"href": url_for("satisfaction.report"), "label": _("Satisfaction"),
             "active": endpoint.startswith("satisfaction.")}]


@hookimpl
def beneficiary_actions(beneficiary, user):
    """A panel on the file: whether a survey is open (never its score) and the opt-out; officers record an
    answer given by phone or at the desk."""
    from .models import Survey
    from .service import is_opted_out, state_of

    latest = (Survey.select().where(Survey.beneficiary == beneficiary.id).order_by(Survey.created_at.desc())
              .first())
    can_record = user.has_role(*RECORD_ROLES)
    panel = render_template("satisfaction/_file_panel.html", ben=beneficiary, latest=latest,
                            state=state_of(latest) if latest else None, opted_out=is_opted_out(beneficiary.id),
                            can_record=can_record)
    return [{"panel": Markup(panel), "order": 60}]  # nosec B704 # render_template output, autoescaped


@hookimpl
def register_blueprints(app):
    from .. import csrf
    from . import api, views

    csrf.exempt(api.bp)  # bearer tokens, no cookies
    return [views.public, views.bp, api.bp]


@hookimpl
def openapi_paths():
    from .api import openapi_paths as paths

    return paths()


@hookimpl
def beneficiary_data(beneficiary):
    """The beneficiary's own surveys and answers, for their data-protection export."""
    from .models import Survey, SurveyAnswer, SurveyOptOut

    surveys = list(Survey.select().where(Survey.beneficiary == beneficiary.id).order_by(Survey.created_at))
    if not surveys:
        return None
    answers = {a.survey_id: a for a in SurveyAnswer.select().where(SurveyAnswer.survey.in_([s.id for s in surveys]))}
    rows = []
    for s in surveys:
        a = answers.get(s.id)
        rows.append({"kind": s.kind, "created_at": s.created_at, "sent_at": s.sent_at, "answered_at": s.answered_at,
                     "answer": None if a is None else {
                         "overall": a.overall, "recommend": a.recommend, "speed": a.speed, "courtesy": a.courtesy,
                         "clarity": a.clarity, "fairness": a.fairness, "reach": a.reach, "comment": a.comment,
                         "via": a.via}})
    opted = SurveyOptOut.get_or_none(SurveyOptOut.beneficiary == beneficiary.id)
    return {"name": "satisfaction", "data": {"surveys": rows, "opted_out": opted is not None}, "files": []}


@hookimpl
def anonymise_beneficiary(beneficiary, retain_until, actor):
    """Comments are free text: blanked. Scores stay (they identify nobody once the file is anonymised)."""
    from .models import Survey, SurveyAnswer

    ids = Survey.select(Survey.id).where(Survey.beneficiary == beneficiary.id)
    changed = SurveyAnswer.update(comment="").where(SurveyAnswer.survey.in_(ids) & (SurveyAnswer.comment != "")).execute()
    return {"name": "satisfaction", "anonymised": changed, "kept": [], "delete_files": []}


def run_reminders(now=None) -> int:
    """The one reminder of unanswered surveys: part of the daily run (``portal.workflow.hooks.run_daily``)."""
    if not current_app.config["SATISFACTION_ENABLED"]:
        return 0
    from .service import send_reminders

    return send_reminders(now)


@hookimpl
def register_commands(cli):
    import click
    from flask.cli import with_appcontext

    @cli.group("surveys")
    def surveys_group():
        """Satisfaction surveys."""

    @surveys_group.command("remind")
    @with_appcontext
    def surveys_remind():
        """Send today's survey reminders (for cron, when no worker runs)."""
        from ..db import database

        with database.connection_context():
            click.echo(f"reminded: {run_reminders()}")


@hookimpl(tryfirst=True)
def inbound_message(message):
    """A reply to a survey: the list choice or a digit 1-5 (the score), the next message (the comment) or STOP.
    Only for a sender who is exactly one file; anything else goes on to the other plugins and the channel."""
    from ..messaging import PRIVATE
    from ..models import Beneficiary
    from ..plugins import hook
    from .service import handle_reply, reply_text

    ben_id = message.beneficiary_id
    if not ben_id:
        return None
    beneficiary = Beneficiary.get_or_none(Beneficiary.id == ben_id)
    outcome = handle_reply(beneficiary=beneficiary, channel=message.channel, text=message.text or "",
                           choice=message.reply_id or "")
    if outcome is None:
        return None
    hook().send_message(beneficiary=beneficiary, text=reply_text(outcome), purpose="survey_reply",
                        channel=message.channel, context={})
    # A score, a comment, or a score for a closed survey: the words are the beneficiary's opinion and stay with
    # the survey, never on the timeline or in a conversation (not for punishment). STOP is an ordinary message.
    return True if outcome == "opted_out" else PRIVATE


@hookimpl
def self_service_link(beneficiary, purpose, issue):
    """"Rate our last service" in the self-service menu: the link of the beneficiary's newest open survey (not
    answered, not expired, not opted out). ``issue=False`` only tells that there is one."""
    if purpose != "rating" or beneficiary is None:
        return None
    from ..db import utcnow
    from .models import Survey
    from .service import is_opted_out, link_for

    if is_opted_out(beneficiary.id):
        return None
    survey = (Survey.select().where((Survey.beneficiary == beneficiary.id) & Survey.answered_at.is_null()
                                    & (Survey.expires_at > utcnow()))
              .order_by(Survey.created_at.desc(), Survey.id.desc()).first())
    if survey is None:
        return None
    if not issue:
        return {"url": "", "expires_at": None}
    return {"url": link_for(survey), "expires_at": survey.expires_at}


@hookimpl
def report_sections(start, end, branch, user):
    """The managers' reports: CSAT, NPS and the response rate of the period (``metrics``), by channel; a
    branch's report reads the branch's own figures, shown only from the k-answer threshold up."""
    from flask_babel import gettext as _
    from flask_babel import lazy_gettext as _l

    from ..reports import Figure, Section, Table, _channel_label, chart_for
    from . import metrics

    if branch is None:
        totals = metrics.total(first=start, last=end)
        by_channel = [r for r in metrics.figures("channel", first=start, last=end) if r.responses]
    else:
        rows = [r for r in metrics.figures("branch", first=start, last=end) if r.key == branch]
        totals = rows[0] if rows else metrics.Figures()
        by_channel = []
    figures = [Figure("answers", _l("Survey answers"), totals.responses),
               Figure("csat", _l("CSAT (share satisfied, 4-5)"), totals.csat),
               Figure("nps", _l("NPS (promoters − detractors)"), totals.nps),
               Figure("response_rate", _l("Response rate, per cent"), totals.response_rate)]
    table = Table("satisfaction_by_channel", _l("Satisfaction by channel"),
                  [_("Channel"), _("Answers"), "CSAT", "NPS"],
                  [(_channel_label(r.key or ""), [r.responses, r.csat, r.nps]) for r in by_channel])
    table.chart = chart_for(table, [0])
    note = _l("A branch's figures show only from %(k)s answers up.", k=metrics.min_answers()) if branch else ""
    return [Section("satisfaction", _l("Beneficiary satisfaction"), figures, [table] if branch is None else [],
                    note=note)]
