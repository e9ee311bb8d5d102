"""Fixtures of the interview channel tests: model access, a branch, slots in the future on open days."""
import datetime as dt
import sys
from pathlib import Path

import pytest


if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


def next_open_day(start: dt.date, *, weekday: int | None = None) -> dt.date:
    """The first day after ``start`` that is not a Friday or a Saturday (or the first ``weekday``)."""
    day = start + dt.timedelta(days=1)
    while (weekday is not None and day.weekday() != weekday) or (weekday is None and day.weekday() in (4, 5)):
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def make_slot(app, in_db, users):
    """A slot at ``hour`` (Saudi time) on ``day`` (the next open day by default); returns its id."""
    def make(day=None, hour=10, officer="officer", branch=None, check=False):
        from plugins.interview import service as svc
        from portal.dates import from_saudi, saudi_today
        from portal.models import User

        with in_db():
            day = day or next_open_day(saudi_today())
            starts = from_saudi(dt.datetime.combine(day, dt.time(hour, 0)))
            slot = svc.add_slot(branch=branch, officer=User.get_by_id(users[officer]) if officer else None,
                                starts_at=starts, minutes_long=30, actor=None, check=check)
            return slot.id

    return make
