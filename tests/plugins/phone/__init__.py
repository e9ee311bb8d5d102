"""Tests of the phone plugin (a package, so that its conftest.py has a name of its own)."""
