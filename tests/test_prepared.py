"""``portal.db.Prepared``: a hot page's fixed query with its SQL built once, answering what the same peewee
query answers, with the arguments bound as values."""
import pytest

from portal.db import Prepared
from portal.models import Beneficiary
from portal.workflow.models import RequestType

BY_NAME = Prepared(lambda first, family: Beneficiary.select()
                   .where((Beneficiary.first_name == first) & (Beneficiary.family_name == family))
                   .order_by(Beneficiary.id))


def test_a_prepared_query_answers_what_the_query_answers(app, db, make_beneficiary):
    ids = [make_beneficiary(first_name="نورة", family_name="القحطاني") for _ in range(2)]
    make_beneficiary(first_name="نورة", family_name="الغامدي")
    found = BY_NAME.rows("نورة", "القحطاني")
    assert [b.id for b in found] == ids
    assert found[0].family_name == "القحطاني" and found[0].mobile  # whole rows, as model instances
    assert BY_NAME.first("نورة", "الغامدي").family_name == "الغامدي"
    assert BY_NAME.first("نورة", "' OR '1'='1") is None  # a value, never SQL
    assert BY_NAME.rows("", "") == []


def test_the_sql_is_built_once_per_kind_of_database(app, db):
    calls = []

    def build():
        calls.append(1)
        return RequestType.select().where(RequestType.active == True).order_by(RequestType.id)  # noqa: E712

    active = Prepared(build)
    expected = [t.id for t in RequestType.select().where(RequestType.active == True).order_by(RequestType.id)]  # noqa: E712
    for _ in range(3):
        assert [t.id for t in active.rows()] == expected
    assert len(calls) == 1


def test_wrong_arguments_are_refused(app, db):
    with pytest.raises(TypeError):
        BY_NAME.rows("نورة")
    with pytest.raises(TypeError):
        BY_NAME.rows("نورة", 5)
    unbound = Prepared(lambda name: Beneficiary.select().where(Beneficiary.first_name == "x"))
    with pytest.raises(ValueError):
        unbound.rows("y")
