"""Small helpers shared by the volunteering tests."""
from conftest import rows, text_of  # noqa: F401  (tests/conftest.py)
