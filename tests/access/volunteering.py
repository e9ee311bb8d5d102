"""Access rules of the volunteering service: officers and admins run it, managers read it; the volunteer's
own page (reached from the message, the token is its secret) needs no account."""
from . import STAFF, rule

MANAGE = ("officer", "admin")
READ = ("officer", "admin", "manager")

ACCESS = {
    "volunteering.volunteers": rule("GET", "/volunteering/volunteers", READ),
    "volunteering.volunteer_new": rule("GET", "/volunteering/volunteers/new", MANAGE),
    "volunteering.volunteer_create": rule("POST", "/volunteering/volunteers/new", MANAGE),
    "volunteering.volunteer": rule("GET", "/volunteering/volunteers/{volunteer}", READ),
    "volunteering.volunteer_edit": rule("GET", "/volunteering/volunteers/{volunteer}/edit", MANAGE),
    "volunteering.volunteer_update": rule("POST", "/volunteering/volunteers/{volunteer}/edit", MANAGE),
    "volunteering.volunteer_state": rule("POST", "/volunteering/volunteers/{volunteer}/state", MANAGE),
    "volunteering.volunteer_link": rule("POST", "/volunteering/volunteers/{volunteer}/link", MANAGE),
    "volunteering.volunteer_certificate": rule("POST", "/volunteering/volunteers/{volunteer}/certificate", MANAGE),
    "volunteering.import_signups": rule("POST", "/volunteering/import", MANAGE),
    "volunteering.certificate_pdf": rule("GET", "/volunteering/certificates/{certificate}.pdf", READ),
    "volunteering.certificate_page": rule("GET", "/volunteering/certificates/{certificate}", READ),
    "volunteering.opportunities": rule("GET", "/volunteering/opportunities", READ),
    "volunteering.opportunity_new": rule("GET", "/volunteering/opportunities/new", MANAGE),
    "volunteering.opportunity_create": rule("POST", "/volunteering/opportunities/new", MANAGE),
    "volunteering.opportunity": rule("GET", "/volunteering/opportunities/{opportunity}", READ),
    "volunteering.opportunity_assign": rule("POST", "/volunteering/opportunities/{opportunity}/assign", MANAGE),
    "volunteering.opportunity_cancel": rule("POST", "/volunteering/opportunities/{opportunity}/cancel", MANAGE),
    "volunteering.assignment_state": rule("POST", "/volunteering/assignments/{assignment}/state", MANAGE),
    "volunteering.assignment_hours": rule("POST", "/volunteering/assignments/{assignment}/hours", MANAGE),
    "volunteering.assignment_service": rule("POST", "/volunteering/assignments/{assignment}/service", MANAGE),
    "volunteering.hours": rule("GET", "/volunteering/hours", READ),
    "volunteering.hours_decide": rule("POST", "/volunteering/hours/{volunteer_hours}/decide", MANAGE),
    "volunteering.api_volunteers": rule("GET", "/api/v1/volunteers", READ, anonymous="401"),
    "volunteering.api_volunteer_create": rule("POST", "/api/v1/volunteers", MANAGE, anonymous="401"),
    "volunteering.api_opportunities": rule("GET", "/api/v1/opportunities", READ, anonymous="401"),
    "volunteering.api_opportunity_create": rule("POST", "/api/v1/opportunities", MANAGE, anonymous="401"),
    "volunteering.api_hours": rule("GET", "/api/v1/volunteer-hours", READ, anonymous="401"),
    "volunteering.api_hours_log": rule("POST", "/api/v1/volunteer-hours", MANAGE, anonymous="401"),
    "volunteering.api_hours_decide": rule("POST", "/api/v1/volunteer-hours/{volunteer_hours}/decision", MANAGE,
                                          anonymous="401"),
    # the volunteer's own page: no account
    "volunteering_site.assignment": rule("GET", "/site/volunteering/{volunteer_token}", STAFF, anonymous="ok"),
    "volunteering_site.answer": rule("POST", "/site/volunteering/{volunteer_token}/answer", STAFF, anonymous="ok"),
    "volunteering_site.log_hours": rule("POST", "/site/volunteering/{volunteer_token}/hours", STAFF, anonymous="ok"),
    "volunteering_site.certificate": rule("GET", "/site/volunteering/{volunteer_token}/certificates/{certificate}.pdf",
                                          STAFF, anonymous="ok"),
}


def FIXTURES(app):
    """``{volunteer}`` an approved volunteer, ``{opportunity}`` an opportunity of last week, ``{assignment}`` their
    attended assignment (``{volunteer_token}`` its page), ``{volunteer_hours}`` its pending hours,
    ``{certificate}`` a certificate of the service's own numbering."""
    import datetime as dt
    from decimal import Decimal

    from plugins.volunteering.models import Assignment, Certificate, HoursLog, Opportunity, Volunteer
    from portal.db import utcnow

    volunteer = Volunteer.create(name="متطوع", mobile="+966551112233", state="approved", weekdays=127)
    starts = utcnow() - dt.timedelta(days=7)
    opportunity = Opportunity.create(title="توصيل", place="المستودع", starts_at=starts,
                                     ends_at=starts + dt.timedelta(hours=3), skills=[], places=3)
    assignment = Assignment.create(opportunity=opportunity, volunteer=volunteer, token="access-volunteer-token",
                                   state="attended")
    certificate = Certificate.create(volunteer=volunteer, number="ت-1448-999999", hours=Decimal("3"),
                                     first_day=starts.date(), last_day=starts.date())
    hours = HoursLog.create(assignment=assignment, volunteer=volunteer, hours=Decimal("3"), day=starts.date())
    return {"volunteer": volunteer.id, "opportunity": opportunity.id, "assignment": assignment.id,
            "volunteer_token": assignment.token, "volunteer_hours": hours.id, "certificate": certificate.id}
