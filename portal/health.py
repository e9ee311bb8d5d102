"""Is the background work being done? The worker writes a heartbeat (``JobState`` row ``worker``) when it
starts and every minute through a periodic task; the daily workflow records its last run (row ``daily``).
The admin's health panel and the staff banner read them with the queue length.

Jobs are "not being processed" when tasks wait in the queue and no heartbeat came for
``PORTAL_WORKER_STALE_MINUTES`` (5) minutes: the worker is down, or busy for that long."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask import current_app
from huey import crontab

from .dates import saudi_date
from .db import database, utcnow
from .jobs import huey, periodic_task, task
from .models import JobState

log = logging.getLogger(__name__)

WORKER = "worker"
DAILY = "daily"
PROBE = "probe"


def record(name: str, *, now: dt.datetime | None = None, day: dt.date | None = None, data=None) -> None:
    """Write the state ``name`` (insert or replace in one statement)."""
    now = now or utcnow()
    (JobState.insert(name=name, at=now, day=day, data=data)
     .on_conflict(conflict_target=[JobState.name], update={JobState.at: now, JobState.day: day, JobState.data: data})
     .execute())


def beat(now: dt.datetime | None = None) -> None:
    """The worker is alive."""
    record(WORKER, now=now)


@periodic_task(crontab(minute="*"))
def heartbeat():
    """Every minute, through the queue itself: a worker too busy to run it counts as not processing."""
    beat()


@task()
def probe(asked_at: str = ""):
    """A test task an admin queues from the health page: when it is done, the queue works end to end."""
    record(PROBE, data={"asked_at": asked_at})


def pending_jobs() -> int | None:
    """Tasks waiting in the queue, or None when the queue's storage cannot be read."""
    try:
        return int(huey.pending_count())
    except Exception:  # noqa: BLE001 - a storage that cannot be read (Redis down, file locked) is "unknown"
        log.warning("the job queue could not be read", exc_info=True)
        return None


def stale_minutes() -> int:
    try:
        return max(1, int(current_app.config.get("WORKER_STALE_MINUTES", 5)))
    except (TypeError, ValueError):
        return 5


@dataclass
class Health:
    last_beat: dt.datetime | None
    pending: int | None
    last_daily: JobState | None
    last_probe: JobState | None
    stale_after: int
    now: dt.datetime

    @property
    def worker_alive(self) -> bool:
        return self.last_beat is not None and self.now - self.last_beat <= dt.timedelta(minutes=self.stale_after)

    @property
    def stalled(self) -> bool:
        """Tasks wait and no worker took a heartbeat recently: jobs are not being processed."""
        return bool(self.pending) and not self.worker_alive


def health(now: dt.datetime | None = None) -> Health:
    """One primary-key read and the queue length: cheap enough for every staff page."""
    rows = {r.name: r for r in JobState.select().where(JobState.name.in_((WORKER, DAILY, PROBE)))}
    worker = rows.get(WORKER)
    return Health(last_beat=worker.at if worker else None, pending=pending_jobs(), last_daily=rows.get(DAILY),
                  last_probe=rows.get(PROBE), stale_after=stale_minutes(), now=now or utcnow())


def daily_due(now: dt.datetime | None = None) -> bool:
    """True when the daily workflow has not run for today's Saudi day."""
    today = saudi_date(now or utcnow())
    row = JobState.get_or_none(JobState.name == DAILY)
    return row is None or row.day is None or row.day < today


def run_daily_once(run, now: dt.datetime | None = None) -> dict | None:
    """Run ``run(now)`` (the daily workflow) unless it already ran for today's Saudi day; records the run.
    Returns its counts, or None when it had already run today."""
    now = now or utcnow()
    if not daily_due(now):
        return None
    counts = run(now)
    record(DAILY, now=utcnow(), day=saudi_date(now), data=counts)
    return counts


_DAILY: dict = {"run": None}


def set_daily(run) -> None:
    """The daily workflow's entry point (``portal.workflow.hooks.run_daily`` registers itself when it is
    imported), so that this module needs no import of the workflow."""
    _DAILY["run"] = run


@task()
def daily_catch_up():
    """The day's workflow when it has not run today (queued by the worker when it starts)."""
    if _DAILY["run"] is None:
        return None
    return run_daily_once(_DAILY["run"])


def on_worker_start(app) -> None:
    """When the worker starts: a first heartbeat, then the day's outreach selection queued if it has not run
    today (a portal started in the afternoon does not wait for tomorrow's 03:15 run)."""
    with app.app_context(), database.connection_context():
        beat()
        due = daily_due()
    if due:
        daily_catch_up()
