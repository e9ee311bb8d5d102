"""The ``portal`` command: migrate, demo, run, worker, user create, token create, backup, restore, plugin
commands."""
from __future__ import annotations

import secrets

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from .db import database


def _create_app():
    from flask.cli import NoAppException

    from . import ConfigError, create_app

    try:
        return create_app()
    except ConfigError as exc:
        # Shown by click as a one-line "Error: ..." instead of a traceback.
        raise NoAppException(str(exc)) from None


def register(app) -> None:
    cli = app.cli

    @cli.command("demo")
    @click.option("--beneficiaries", default=300, show_default=True, type=click.IntRange(1, 1_000_000))
    @click.option("--entries", default=3000, show_default=True, type=click.IntRange(0, 50_000_000))
    @click.option("--if-empty", is_flag=True, help="Do nothing when beneficiaries already exist.")
    @click.option("--seed", default=1448, show_default=True, help="Random seed (same seed, same data).")
    @with_appcontext
    def demo_command(beneficiaries, entries, if_empty, seed):
        """Fill the database with realistic Arabic demo data and one user per role."""
        from . import demo
        from .db import migrate
        from .models import Beneficiary

        with database.connection_context():
            migrate(current_app.extensions["portal_pm"])
            if if_empty and Beneficiary.select().exists():
                click.echo("Demo data already present.")
                demo.print_logins(current_app)
                return
            stats = demo.build(beneficiaries=beneficiaries, entries=entries, seed=seed)
        click.echo(f"Created {stats['beneficiaries']} beneficiaries, {stats['entries']} timeline entries, "
                   f"{stats['cases']} requests in {stats['seconds']:.1f} s.")
        demo.print_logins(current_app)

    @cli.command("worker")
    @click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
    @with_appcontext
    def worker_command(workers):
        """Run the background job consumer (huey)."""
        from .jobs import run_consumer

        run_consumer(workers=workers)

    @cli.group("user")
    def user_group():
        """Staff accounts."""

    @user_group.command("create")
    @click.argument("username")
    @click.option("--role", "roles", multiple=True, required=True,
                  type=click.Choice(["admin", "officer", "researcher", "committee", "delegate", "manager"]))
    @click.option("--name", "full_name", default=None, help="Full name (defaults to the username).")
    @click.option("--branch", default=None, help="Branch code (required for delegates).")
    @click.option("--password", default=None, help="Omit to be asked, or to generate one with --generate.")
    @click.option("--generate", is_flag=True, help="Generate a strong password and print it.")
    @with_appcontext
    def user_create(username, roles, full_name, branch, password, generate):
        """Create a staff account."""
        from .users_service import create_user, validate_user

        if generate:
            password = secrets.token_urlsafe(12)
        elif password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        with database.connection_context():
            values, errors = validate_user({"username": username, "full_name": full_name or username,
                                            "roles": list(roles), "branch": branch, "password": password})
            if errors:
                from flask_babel import force_locale

                # The command line speaks English (its other output does); the services' messages are
                # lazy and would otherwise follow the default UI language.
                with force_locale("en"):
                    for key, message in errors.items():
                        click.echo(f"{key}: {message}", err=True)
                raise SystemExit(2)
            user = create_user(values)
        click.echo(f"Created user {user.username} ({user.roles}).")
        if generate:
            click.echo(f"Password: {password}")

    @cli.group("token")
    def token_group():
        """API bearer tokens."""

    @token_group.command("create")
    @click.option("--user", "username", required=True)
    @click.option("--name", default="", help="What the token is for.")
    @with_appcontext
    def token_create(username, name):
        """Create an API token for a user; it is printed once."""
        from .api import create_token
        from .models import User

        with database.connection_context():
            user = User.get_or_none(User.username == username.lower())
            if user is None:
                click.echo(f"No user named {username}.", err=True)
                raise SystemExit(2)
            click.echo(create_token(user, name))

    from .backup import register_commands as register_backup_commands

    register_backup_commands(cli)

    app.extensions["portal_pm"].hook.register_commands(cli=cli)


main = FlaskGroup(create_app=_create_app, add_version_option=False, help="Sila (صلة) beneficiary-relations portal.")
