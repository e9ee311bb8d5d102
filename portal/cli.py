"""The ``portal`` command: migrate, demo, run, worker, user create/password/reset-two-step, token
create/list/revoke, backup, restore, plugin commands."""
from __future__ import annotations

import os
import secrets
import signal
import subprocess  # nosec B404 # starts the portal's own worker (sys.executable -m portal worker)
import sys

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


def _progress_reporter(what: str):
    """``progress(done, total)`` for long bulk work: a bar on a terminal, a line per tenth in a log."""
    import sys

    state = {"bar": None, "shown": 0, "step": -1}

    def progress(done: int, total: int) -> None:
        if total <= 0:
            return
        if sys.stdout.isatty():
            if state["bar"] is None:
                state["bar"] = click.progressbar(length=total, label=what, show_percent=True, show_pos=True)
                state["bar"].__enter__()
            state["bar"].update(done - state["shown"])
            state["shown"] = done
            if done >= total:
                state["bar"].__exit__(None, None, None)
            return
        step = done * 10 // total
        if step != state["step"]:
            state["step"] = step
            click.echo(f"{what}: {done * 100 // total}% ({done:,} of {total:,})")

    return progress


def _plugin_demo_data(seed: int) -> list[tuple[str, dict]]:
    """Each plugin's demonstration data (``demo_data``), as ``(plugin name, counts)``."""
    from .plugins import hook

    found = []
    for impl in hook().demo_data.get_hookimpls():
        counts = impl.function(seed=seed)
        if counts:
            found.append((impl.plugin_name, counts))
    return found


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
            stats = demo.build(beneficiaries=beneficiaries, entries=entries, seed=seed,
                               progress=_progress_reporter("timeline entries"))
            added = _plugin_demo_data(seed)
        click.echo(f"Created {stats['beneficiaries']} beneficiaries, {stats['entries']} timeline entries, "
                   f"{stats['cases']} requests in {stats['seconds']:.1f} s.")
        for name, counts in added:
            click.echo(f"{name}: " + ", ".join(f"{what} {count}" for what, count in counts.items()))
        demo.print_logins(current_app)

    @cli.command("worker")
    @click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
    @with_appcontext
    def worker_command(workers):
        """Run the background job consumer (huey): notifications, letter batches, the daily outreach
        selection (run at start when it has not run today), the heartbeat shown on the health panel."""
        from .health import on_worker_start
        from .jobs import run_consumer

        on_worker_start(current_app._get_current_object())
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
                # The command line speaks English (its other output does); the services' messages are
                # lazy and would otherwise follow the default UI language.
                _english_errors(errors)
                raise SystemExit(2)
            user = create_user(values)
        click.echo(f"Created user {user.username} ({user.roles}).")
        if generate:
            click.echo(f"Password: {password}")

    def _english_errors(errors: dict) -> None:
        from flask_babel import force_locale

        with force_locale("en"):
            for key, message in errors.items():
                click.echo(f"{key}: {message}", err=True)

    def _get_user(username):
        from .models import User

        user = User.get_or_none(User.username == username.strip().lower())
        if user is None:
            click.echo(f"No user named {username}.", err=True)
            raise SystemExit(2)
        return user

    @user_group.command("password")
    @click.argument("username")
    @click.option("--password", default=None, help="Omit to be asked, or to generate one with --generate.")
    @click.option("--generate", is_flag=True, help="Generate a strong password and print it.")
    @with_appcontext
    def user_password(username, password, generate):
        """Set a new password; the user is signed out everywhere and any sign-in lockout is lifted."""
        from .auth import clear_failures
        from .passwords import password_problem
        from .users_service import update_user

        if generate:
            password = secrets.token_urlsafe(12)
        elif password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        with database.connection_context():
            user = _get_user(username)
            problem = password_problem(password, user.username)
            if problem:
                _english_errors({"password": problem})
                raise SystemExit(2)
            update_user(user, {"password": password})
            clear_failures(user.username)
        click.echo(f"Password of {user.username} changed; their sessions have ended.")
        if generate:
            click.echo(f"Password: {password}")

    @user_group.command("reset-two-step")
    @click.argument("username")
    @with_appcontext
    def user_reset_two_step(username):
        """Turn off a user's two-step sign-in (a lost phone); they sign in with the password and enrol again."""
        from .users_service import update_user

        with database.connection_context():
            user = _get_user(username)
            if not user.totp_secret:
                click.echo(f"{user.username} has no two-step sign-in.")
                return
            update_user(user, {"totp_secret": "", "totp_last_step": 0})
        click.echo(f"Two-step sign-in of {user.username} turned off; their sessions have ended.")

    @cli.group("token")
    def token_group():
        """API bearer tokens."""

    @token_group.command("create")
    @click.option("--user", "username", required=True)
    @click.option("--name", required=True, help="What the token is for (shown by `token list`).")
    @click.option("--days", type=click.IntRange(1, 366), default=None,
                  help="Days until it expires (default PORTAL_API_TOKEN_DAYS, 90).")
    @with_appcontext
    def token_create(username, name, days):
        """Create an API token for a user; it is printed once."""
        from .api import create_token

        with database.connection_context():
            user = _get_user(username)
            if not name.strip():
                click.echo("name: give the token a name.", err=True)
                raise SystemExit(2)
            click.echo(create_token(user, name, days))

    @token_group.command("list")
    @click.option("--user", "username", default=None, help="Only this user's tokens.")
    @click.option("--all", "show_all", is_flag=True, help="Include revoked and expired tokens.")
    @with_appcontext
    def token_list(username, show_all):
        """Tokens with their id, prefix, name, user, expiry, last use and state."""
        from .api import token_state
        from .db import utcnow
        from .models import ApiToken, User

        def when(value):
            return value.strftime("%Y-%m-%d %H:%M") if value else "never"

        with database.connection_context():
            query = ApiToken.select(ApiToken, User).join(User).order_by(ApiToken.id)
            if username:
                query = query.where(ApiToken.user == _get_user(username))
            now = utcnow()
            rows = [r for r in query if show_all or token_state(r, now) == "active"]
            if not rows:
                click.echo("No tokens.")
                return
            click.echo(f"{'id':>4}  {'prefix':<12}  {'user':<16}  {'expires (UTC)':<16}  {'last used (UTC)':<16}  "
                       f"{'state':<7}  name")
            for r in rows:
                click.echo(f"{r.id:>4}  {r.prefix:<12}  {r.user.username:<16}  {when(r.expires_at):<16}  "
                           f"{when(r.last_used_at):<16}  {token_state(r, now):<7}  {r.name}")

    @token_group.command("revoke")
    @click.argument("token_id")
    @with_appcontext
    def token_revoke(token_id):
        """Revoke a token by its id or its prefix (from `token list`)."""
        from .api import revoke_token
        from .models import ApiToken

        with database.connection_context():
            row = None
            if token_id.isdigit() and len(token_id) < 12:
                row = ApiToken.get_or_none(ApiToken.id == int(token_id))
            if row is None:
                matches = list(ApiToken.select().where(ApiToken.prefix == token_id[:12]).limit(2))
                row = matches[0] if len(matches) == 1 else None
            if row is None:
                click.echo(f"No token {token_id}.", err=True)
                raise SystemExit(2)
            if not revoke_token(row):
                click.echo(f"Token {row.id} ({row.prefix}) was already revoked.")
                return
        click.echo(f"Revoked token {row.id} ({row.prefix}, {row.name}).")

    @cli.group("import")
    def import_group():
        """Bring data in from spreadsheets."""

    @import_group.command("beneficiaries")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Check every row and print the report; save nothing.")
    @click.option("--user", "username", default=None, help="Who imports (audit trail, branch of a delegate).")
    @with_appcontext
    def import_beneficiaries(file, dry_run, username):
        """Import beneficiaries (and household members) from an XLSX or CSV file, columns guessed from their
        Arabic or English headers; prints the report per row. Importing the same file again changes nothing."""
        from flask_babel import force_locale

        from . import imports

        with database.connection_context(), force_locale("en"):
            actor = _get_user(username) if username else None
            with open(file, "rb") as handle:
                data = handle.read()
            try:
                table = imports.read_table(data, os.path.basename(file))
            except imports.ImportFileError as exc:
                click.echo(f"error: {exc.message}", err=True)
                raise SystemExit(2) from None
            mapping = imports.guess_mapping(table.headers)
            problems = imports.mapping_errors(mapping)
            if problems:
                for problem in problems:
                    click.echo(f"error: {problem}", err=True)
                click.echo("columns: " + ", ".join(h or "?" for h in table.headers), err=True)
                raise SystemExit(2)
            import time

            started = time.perf_counter()
            report = imports.run(table, mapping, file_name=os.path.basename(file), actor=actor, dry_run=dry_run)
            seconds = time.perf_counter() - started
            click.echo(imports.format_report(report))
            rate = len(report.rows) / seconds if seconds else 0
            click.echo(f"{len(report.rows)} rows in {seconds:.1f} s ({rate:,.0f} rows/s).")
        if report.counts()["rejected"]:
            raise SystemExit(1)

    from .backup import register_commands as register_backup_commands

    register_backup_commands(cli)

    app.extensions["portal_pm"].hook.register_commands(cli=cli)


def start_worker(workers: int = 2) -> subprocess.Popen:
    """``portal worker`` in a child process with this process's environment (same instance, same settings)."""
    return subprocess.Popen([sys.executable, "-m", "portal", "worker", "--workers", str(workers)])  # nosec B603 # fixed arguments, no shell


def stop_worker(proc: subprocess.Popen, timeout: float = 15) -> int | None:
    """Stop the worker: SIGINT lets running tasks finish (Ctrl+C in the terminal has already sent it),
    SIGTERM after ``timeout`` seconds, SIGKILL as the last resort. Returns its exit code."""
    for stop in (lambda: proc.send_signal(signal.SIGINT), proc.terminate, proc.kill):
        if proc.poll() is not None:
            break
        stop()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
    return proc.poll()


def _run_command() -> click.Command:
    """Flask's ``run`` (same options) that also runs the job worker in a child process, unless
    ``--without-worker``; one Ctrl+C stops both. With the reloader, only the watching process starts it."""
    from flask.cli import run_command

    def callback(with_worker, worker_threads, **kwargs):
        ctx = click.get_current_context()
        worker = None
        # SIGTERM (a service manager, a test) ends the server like Ctrl+C does, so the worker is stopped too.
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        if with_worker and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
            worker = start_worker(worker_threads)
            click.echo(f"Job worker started (process {worker.pid}).")
        try:
            ctx.invoke(run_command, **kwargs)
        finally:
            signal.signal(signal.SIGTERM, previous)
            if worker is not None:
                code = stop_worker(worker)
                click.echo(f"Job worker stopped (exit code {code}).")

    params = list(run_command.params) + [
        click.Option(["--with-worker/--without-worker"], default=True, show_default=True,
                     help="Also run the background job worker (portal worker) until the server stops."),
        click.Option(["--worker-threads"], default=2, show_default=True, type=click.IntRange(1, 64),
                     help="Threads of that worker."),
    ]
    return click.Command("run", callback=callback, params=params, short_help="Run the server and the job worker.",
                         help="Run the development server and, unless --without-worker, the job worker (huey) "
                              "beside it; Ctrl+C stops both.")


def _build_main() -> FlaskGroup:
    from flask.cli import routes_command, shell_command

    group = FlaskGroup(create_app=_create_app, add_version_option=False, add_default_commands=False,
                       help="Sila (صلة) beneficiary-relations portal.")
    group.add_command(_run_command())
    group.add_command(shell_command)
    group.add_command(routes_command)
    return group


main = _build_main()
