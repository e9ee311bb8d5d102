"""Small helpers shared by the volunteering tests."""
from conftest import text_of  # noqa: F401  (tests/conftest.py)
from portal.db import database


def rows(app, model, *where):
    with app.app_context(), database.connection_context():
        query = model.select()
        for cond in where:
            query = query.where(cond)
        return list(query)
