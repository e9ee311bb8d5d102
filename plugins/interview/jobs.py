"""The interview channel's daily job: slots from the weekly templates, and tomorrow's reminders."""
from __future__ import annotations

from huey import crontab

from portal.jobs import periodic_task


def run_daily(now=None) -> dict:
    from .service import generate_slots, send_reminders

    counts = send_reminders(now)
    counts["slots"] = generate_slots(now)
    return counts


@periodic_task(crontab(minute="0", hour="13"))
def interview_daily():
    """Every day at 13:00 UTC (16:00 in Riyadh): reminders for tomorrow's appointments (each sent once,
    whatever the number of runs) and new slots at the end of the booking window."""
    from portal.plugins import get_pm

    if not get_pm().has_plugin("interview"):  # the module was imported by an app that does not enable it
        return None
    return run_daily()
