"""Small helpers shared by the interview tests."""
from conftest import rows, text_of  # noqa: F401  (tests/conftest.py)
