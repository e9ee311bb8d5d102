"""The phone tests' fixtures live in this folder's conftest.py; the names are kept here for the test modules
that import them (``from phone_fixtures import TOKEN, app_config, ...``)."""
from phone.conftest import TOKEN, OutreachQueue, app_config, in_db, officer_phone, outreach  # noqa: F401
