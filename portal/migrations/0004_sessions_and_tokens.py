"""Sessions that end: a per-user session version, TOTP for two-step sign-in, failed sign-ins stored for
per-account throttling (shared by every worker); API tokens get an expiry."""
import datetime as dt

from peewee import *


def _in_90_days():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=90)


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("user", "session_version", IntegerField(default=1)),
        migrator.add_column("user", "totp_secret", CharField(max_length=64, default="")),
        migrator.add_column("user", "totp_last_step", BigIntegerField(default=0)),
        migrator.add_column("user", "password_changed_at", DateTimeField(null=True)),
        # Tokens made before expiries existed keep working for 90 days from this migration.
        migrator.add_column("api_token", "expires_at", DateTimeField(default=_in_90_days)),
    )

    class LoginFailure(Model):
        username = CharField(max_length=60)
        ip = CharField(max_length=64, default="")
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "login_failure"
            indexes = ((("username", "at"), False),)

    db.create_tables([LoginFailure])
