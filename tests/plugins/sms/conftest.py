"""Fixtures of the SMS channel's tests (defined in ``sms_helpers``: a fake SMS gateway on 127.0.0.1, the
settings that point the app at it, a poster of the gateway's webhook)."""
import sys
from pathlib import Path

# This folder is a package (``__init__.py``), so this conftest has a module name of its own and
# ``from conftest import ...`` in the tests still means tests/conftest.py. The tests import their helper
# module by its plain name: keep this folder on ``sys.path`` for them.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from sms_helpers import app_config, ben, gateway, post_report  # noqa: E402,F401  (the folder's fixtures)
