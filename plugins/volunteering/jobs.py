"""The volunteering service's daily job: tomorrow's reminders to the volunteers assigned."""
from __future__ import annotations

from huey import crontab

from portal.jobs import periodic_task


@periodic_task(crontab(minute="30", hour="13"))
def volunteering_daily():
    """Every day at 13:30 UTC (16:30 in Riyadh): a reminder to each volunteer assigned to an opportunity of
    tomorrow (each sent once, whatever the number of runs)."""
    from portal.plugins import get_pm

    if not get_pm().has_plugin("volunteering"):  # imported by an app that does not enable it
        return None
    from .service import send_reminders

    return send_reminders()
