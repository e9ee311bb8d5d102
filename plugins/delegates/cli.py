"""``portal delegates demo``: demonstration routes, visits and contacts (after ``portal demo``)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.db import database


@click.group("delegates")
def delegates_group():
    """Branch delegates: demo data."""


@delegates_group.command("demo")
@with_appcontext
def demo_command():
    """Add demonstration planned visits, field visits and contacts for the delegates (after ``portal demo``)."""
    from .demo import build

    with database.connection_context():
        counts = build()
    for key, value in counts.items():
        click.echo(f"{key}: {value}")
