"""``portal phone import-cdr FILE``: import an Asterisk Master.csv or a FreePBX CDR export."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal.db import database


@click.group("phone")
def phone_group():
    """Phone calls: CDR import."""


@phone_group.command("import-cdr")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 5000))
@click.option("--show-errors", default=20, show_default=True, type=click.IntRange(0, 500),
              help="How many invalid rows to list with their reason.")
@with_appcontext
def import_cdr_command(path, batch_size, show_errors):
    """Import call detail records from PATH (streamed; a re-import adds nothing)."""
    from .cdr import CdrFileError, import_cdr

    # The command line speaks English (the reasons of invalid rows included).
    with force_locale("en"), database.connection_context(), open(path, "rb") as stream:
        try:
            report = import_cdr(stream, file_name=click.format_filename(path), batch_size=batch_size)
        except CdrFileError as exc:
            click.echo(f"{path}: {exc.message}", err=True)
            raise SystemExit(2)
        errors = [(line, str(reason)) for line, reason in report.errors[:show_errors]]
    click.echo(f"{report.format or 'unknown'} format, {report.rows} row(s) in {report.seconds:.2f} s: "
               f"{report.imported} imported ({report.matched} matched to a beneficiary, "
               f"{report.missed} missed), {report.duplicates} duplicate(s), {report.invalid} invalid.")
    for line, reason in errors:
        click.echo(f"  line {line}: {reason}")
    if report.invalid > show_errors:
        click.echo(f"  … and {report.invalid - show_errors} more invalid row(s).")
