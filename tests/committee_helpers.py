"""A committee that meets the session rules (PORTAL_COMMITTEE_MIN_MEMBERS, default 3): the ``committee``
user of the ``users`` fixture chairs, two more committee members are created on first use. Call inside an
app context with an open connection."""
from __future__ import annotations

import datetime as dt


def committee_trio():
    """[chair, second, third]: the ``committee`` user and two more active committee members."""
    from portal.models import User

    chair = User.get(User.username == "committee")
    others = []
    for username, name in (("member2", "عضو ثان"), ("member3", "عضو ثالث")):
        user = User.get_or_none(User.username == username)
        if user is None:
            user = User.create(username=username, full_name=name, roles="committee", password_hash="-")
        others.append(user)
    return [chair, *others]


def open_trio_session(quorum=None, held_on=None, title=""):
    """A session of the three members chaired by ``committee`` (quorum: the majority unless given)."""
    from portal.workflow import committee

    members = committee_trio()
    return committee.open_session(held_on=held_on or dt.date.today(), chair=members[0], quorum=quorum,
                                  members=members, title=title, actor=members[0])


def approve_votes(session, case, voters=2):
    """The first ``voters`` members of the trio vote to approve (the chair first)."""
    from portal.workflow import committee

    for member in committee_trio()[:voters]:
        committee.cast_vote(session, case, member=member, vote="approve")


def reject_votes(session, case, voters=2):
    from portal.workflow import committee

    for member in committee_trio()[:voters]:
        committee.cast_vote(session, case, member=member, vote="reject")
