"""Fixtures of the delegates channel tests: files in the delegate's branch (TAIF) and in another (MKK)."""
import sys
from pathlib import Path

import pytest


if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def taif_ben(users, make_beneficiary):
    return make_beneficiary(branch="TAIF", district="الشفا", city="الطائف")


@pytest.fixture
def mkk_ben(users, make_beneficiary):
    return make_beneficiary(branch="MKK", national_id="1234567897", mobile="0551239876")

