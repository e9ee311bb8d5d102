"""Quiet hours: no text or chat message reaches a beneficiary at night (``PORTAL_QUIET_HOURS``,
Saudi time, default ``22:00-08:00``; empty turns it off). A message due in quiet hours waits until
they end; urgent purposes (a one-time code the person just asked for) are exempt."""
from __future__ import annotations

import datetime as dt
import re

from .dates import SAUDI_OFFSET

URGENT = ("one_time_code", "self_service")  # codes and answers the person is waiting for
_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse(value) -> tuple[dt.time, dt.time] | None:
    """``"22:00-08:00"`` → (22:00, 08:00); empty → None. Raises ValueError for anything else."""
    if value in (None, "", False):
        return None
    match = _PATTERN.match(str(value))
    if not match:
        raise ValueError(f"PORTAL_QUIET_HOURS must look like 22:00-08:00 (or be empty), not {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"PORTAL_QUIET_HOURS has an impossible time: {value!r}")
    start, end = dt.time(h1, m1), dt.time(h2, m2)
    return None if start == end else (start, end)


def quiet_until(now_utc: dt.datetime, setting, purpose: str = "") -> dt.datetime | None:
    """When the quiet hours around ``now_utc`` (naive UTC) end, as naive UTC; None when a message may go
    now (outside the hours, no hours set, or an urgent purpose)."""
    window = parse(setting)
    if window is None or purpose in URGENT:
        return None
    start, end = window
    local = now_utc + SAUDI_OFFSET
    t = local.time()
    overnight = start > end
    inside = (t >= start or t < end) if overnight else (start <= t < end)
    if not inside:
        return None
    day = local.date()
    if overnight and t >= start:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, end) - SAUDI_OFFSET
