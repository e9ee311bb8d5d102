"""Fixtures of the letters plugin's tests: ``make_case`` (a request at a given status, for letters)."""
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from portal.db import database

# This folder is a package (``__init__.py``), so this conftest has a module name of its own and
# ``from conftest import ...`` in the tests still means tests/conftest.py. The tests import their helper
# module by its plain name: keep this folder on ``sys.path`` for them.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))



@pytest.fixture
def make_case(app, make_beneficiary, users):
    from portal.models import Beneficiary, Case, User

    counter = {"n": 0}

    def make(ben_id=None, status="approved", reasons="", amount="1500", **overrides):
        counter["n"] += 1
        ben_id = ben_id or make_beneficiary()
        with app.app_context(), database.connection_context():
            values = dict(
                reference=f"1448-{counter['n']:06d}", beneficiary=Beneficiary.get_by_id(ben_id),
                request_type="financial_aid", status=status, decision_reasons=reasons,
                amount=Decimal(amount) if amount else None,
                submitted_at=dt.datetime(2026, 11, 10, 9, 0),
                assigned_researcher=User.get_by_id(users["researcher"]),
            )
            values.update(overrides)
            return Case.create(**values).id

    return make
