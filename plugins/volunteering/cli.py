"""``portal volunteering remind`` (for cron, besides the worker's daily job), ``portal volunteering import``
(the website's earlier sign-ups) and ``portal volunteering demo``."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.db import database


@click.group("volunteering")
def volunteering_group():
    """The volunteering service: reminders, sign-ups, demo data."""


def _echo(counts: dict) -> None:
    for key, value in counts.items():
        click.echo(f"{key}: {value}")


@volunteering_group.command("remind")
@with_appcontext
def remind_command():
    """Remind the volunteers assigned to tomorrow's opportunities (each once)."""
    from .service import send_reminders

    with database.connection_context():
        _echo(send_reminders())


@volunteering_group.command("import")
@with_appcontext
def import_command():
    """Add the website's earlier volunteer sign-ups to the registry (each once)."""
    from .service import import_signups

    with database.connection_context():
        _echo({"imported": import_signups()})


@volunteering_group.command("demo")
@with_appcontext
def demo_command():
    """Add demonstration volunteers, opportunities, assignments and hours (after ``portal demo``)."""
    from .demo import build

    with database.connection_context():
        _echo(build())
