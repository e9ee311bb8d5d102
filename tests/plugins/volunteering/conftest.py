"""Fixtures of the volunteering tests: model access, volunteers, opportunities and assignments."""
import datetime as dt
import sys
from pathlib import Path

import pytest


if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]


@pytest.fixture
def make_volunteer(in_db, users):
    """A volunteer (approved by default) available every day from 08:00 to 22:00; returns its id."""
    def make(name="سعد المتطوع", mobile="0551234567", state="approved", skills=("delivery",), weekdays=ALL_DAYS,
             time_from="08:00", time_to="22:00", **extra):
        from plugins.volunteering import service as svc
        from portal.models import User

        with in_db():
            form = {"name": name, "mobile": mobile, "skills": list(skills), "weekdays": [str(d) for d in weekdays],
                    "time_from": time_from, "time_to": time_to, **extra}
            values, errors = svc.clean_volunteer(form)
            assert not errors, errors
            actor = User.get_by_id(users["officer"])
            row = svc.save_volunteer(values, actor=actor)
            if state != "pending":
                svc.set_state(row, state, actor=actor)
            return row.id

    return make


@pytest.fixture
def make_opportunity(in_db, users):
    """An opportunity ``days`` ahead (Saudi time ``hour`` to ``hour + 3``); in the past with a negative ``days``."""
    def make(days=2, hour=16, skills=("delivery",), places=3, title="توصيل السلال الغذائية", kind="delivery"):
        from plugins.volunteering.models import Opportunity
        from portal.dates import from_saudi, saudi_today
        from portal.models import User

        with in_db():
            starts = from_saudi(dt.datetime.combine(saudi_today() + dt.timedelta(days=days), dt.time(hour)))
            row = Opportunity.create(title=title, kind=kind, place="مستودع الجمعية", starts_at=starts,
                                     ends_at=starts + dt.timedelta(hours=3), skills=list(skills), places=places,
                                     created_by=User.get_by_id(users["officer"]))
            return row.id

    return make


@pytest.fixture
def make_assignment(in_db, users):
    """Assign a volunteer to an opportunity in the given state (bypassing the checks, for past opportunities)."""
    def make(opp_id, vol_id, state="confirmed"):
        import secrets

        from plugins.volunteering.models import Assignment

        with in_db():
            row = Assignment.create(opportunity=opp_id, volunteer=vol_id, token=secrets.token_urlsafe(24), state=state)
            return row.id, row.token

    return make


@pytest.fixture
def approved_hours(app, client, auth, make_volunteer, make_opportunity, make_assignment):
    """``make(hours)``: a volunteer who attended an opportunity two days ago, with ``hours`` logged and approved
    by an officer (who stays logged in); answers ``(volunteer id, the assignment's token)``."""
    def make(hours: str):
        from conftest import rows

        from plugins.volunteering.models import HoursLog

        opp = make_opportunity(days=-2)
        vol = make_volunteer()
        assign_id, token = make_assignment(opp, vol, "attended")
        auth.login("officer")
        client.post(f"/volunteering/assignments/{assign_id}/hours", data={"hours": hours})
        [logged] = rows(app, HoursLog)
        client.post(f"/volunteering/hours/{logged.id}/decide", data={"decision": "approve"})
        return vol, token

    return make
