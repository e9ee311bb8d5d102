"""``portal interview remind`` (for cron, besides the worker's daily job) and ``portal interview demo``."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.db import database


@click.group("interview")
def interview_group():
    """In-person interviews: reminders, slots, demo data."""


@interview_group.command("remind")
@with_appcontext
def remind_command():
    """Send tomorrow's appointment reminders (each once) and add slots from the weekly templates."""
    from .jobs import run_daily

    with database.connection_context():
        counts = run_daily()
    for key, value in counts.items():
        click.echo(f"{key}: {value}")


@interview_group.command("demo")
@with_appcontext
def demo_command():
    """Add demonstration slots, appointments, visits and interviews (after ``portal demo``)."""
    from .demo import build

    with database.connection_context():
        counts = build()
    for key, value in counts.items():
        click.echo(f"{key}: {value}")
