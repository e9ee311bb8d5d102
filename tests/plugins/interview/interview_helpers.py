"""Small helpers shared by the interview tests."""
from conftest import text_of  # noqa: F401  (tests/conftest.py)


def rows(app, model, *where):
    from portal.db import database

    with app.app_context(), database.connection_context():
        query = model.select()
        for cond in where:
            query = query.where(cond)
        return list(query)
