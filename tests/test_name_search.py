"""The name search's normalised, indexed key (``portal.text.name_words``, ``portal.name_index``): names found
however they are spelled, the key written in the name's own transaction (create, edit, import, demo,
erasure), the migration that fills it, and the index that answers (SQLite: the ``beneficiary_word`` primary
key; PostgreSQL: the ``pg_trgm`` GIN index). Runs on both databases."""
from __future__ import annotations

import importlib.util

import pytest

from conftest import PG_URL, luhn_id
from portal import beneficiaries_service as service
from portal import name_index
from portal.db import database, is_postgres
from portal.models import Beneficiary, BeneficiaryWord
from portal.text import name_words, normalize_name, search_key


# --- the normalisation (unit) ------------------------------------------------------------------------------

@pytest.mark.parametrize("spellings", [
    ("أحمد", "احمد", "إحمد", "آحمد", "ٱحمد", "أَحْمَد", "احـــمد"),
    ("عبدالله", "عبد الله", "عبد  الله", "عبدُ الله"),
    ("فاطمة", "فاطمه", "فَاطِمَة"),
    ("مصطفى", "مصطفي"),
    ("John", "JOHN", "john", "ＪＯＨＮ"),
])
def test_spellings_of_a_name_have_one_search_form(spellings):
    assert len({normalize_name(s) for s in spellings}) == 1
    assert len({search_key(s) for s in spellings}) == 1


def test_name_words_add_the_spellings_people_type():
    assert name_words("أحمد محمد عبد الله الحربي") == ["احمد", "محمد", "عبدالله", "الله", "الحربي", "حربي"]
    assert name_words("فاطمة أبو بكر") == ["فاطمه", "ابو", "ابوبكر", "بكر"]
    assert name_words("سعد ابوبكر") == ["سعد", "ابوبكر", "بكر"]
    assert name_words("علي ٣ (الأول)") == ["علي", "الاول", "اول"]  # digits and punctuation are not words
    assert search_key("محمد  عبدالله") == " محمد عبدالله الله "
    assert search_key("") == "" and name_words(None) == []


# --- the search, both databases ------------------------------------------------------------------------------

PEOPLE = [  # first, father, grandfather, family, mobile
    ("أحمد", "محمد", "عبد الله", "الحربي", "0501234567"),
    ("فاطمة", "مصطفى", "عبدالرحمن", "الغامدي", "0552223334"),
    ("John", "Peter", "", "SMITH", "0563334445"),
    ("إيمان", "أبو بكر", "سعد", "القحطاني", "0574445556"),
]


@pytest.fixture
def people(app, db):
    ids = []
    for n, (first, father, grand, family, mobile) in enumerate(PEOPLE):
        res = service.validate({"first_name": first, "father_name": father, "grandfather_name": grand,
                                "family_name": family, "national_id": luhn_id(f"10{n:07d}"), "gender": "m",
                                "mobile": mobile})
        assert res.ok, res.errors
        ids.append(service.create(res.values).id)
    return ids


def found(q):
    return sorted(b.id for b in service.search_query(q))


@pytest.mark.parametrize("common", [name_index.COMMON, 1])  # 1: every word "common" (the file-by-file test)
def test_names_are_found_however_they_are_spelled(people, monkeypatch, common):
    monkeypatch.setattr(name_index, "COMMON", common)
    ahmad, fatima, john, iman = people
    for q in ("أحمد", "احمد", "إحمد", "آحمد", "أَحْمَد", "احـمد", "احم"):
        assert found(q) == [ahmad], q
    for q in ("عبدالله", "عبد الله", "عبد  الله", "الله", "عبدالل"):
        assert found(q) == [ahmad], q
    for q in ("فاطمة", "فاطمه", "فَاطِمَة", "مصطفى", "مصطفي", "عبد الرحمن", "عبدالرحمن", "غامدي"):
        assert found(q) == [fatima], q
    for q in ("john", "JOHN", "Smith", "smi", "JOHN smith"):
        assert found(q) == [john], q
    for q in ("ابو بكر", "أبوبكر", "بكر", "ايمان القحطاني", "قحطاني"):
        assert found(q) == [iman], q
    for q in ("عبد", "عبدال", "عبد ال"):  # the start of عبدالله and of عبدالرحمن
        assert found(q) == sorted([ahmad, fatima]), q
    assert found("احمد الحربي") == [ahmad] and found("احمد الغامدي") == []
    assert found("حمد") == []  # a word typed begins a name's word: not any part of it
    assert found("سامي") == [] and found("%") == [] and found("_") == []


def test_id_mobile_and_file_number_in_any_format(people):
    ahmad, fatima = people[:2]
    for q in ("0501234567", "+966 50 123 4567", "966501234567", "٠٥٠١٢٣٤٥٦٧", "050-123-4567"):
        assert found(q) == [ahmad], q
    assert found(luhn_id("100000001")) == [fatima]
    assert found(Beneficiary.get_by_id(fatima).file_number) == [fatima]


def test_results_come_in_name_order_a_page_at_a_time(people):
    rows = list(service.search_query("عبد").limit(1))
    assert [b.id for b in rows] == [people[0]]  # احمد ... before فاطمه ...


def _words(ben_id):
    return sorted(w.word for w in BeneficiaryWord.select().where(BeneficiaryWord.beneficiary == ben_id))


def test_the_key_follows_an_edit_in_the_same_transaction(people):
    ahmad = Beneficiary.get_by_id(people[0])
    values = dict(service.validate({"first_name": "خالد"}, existing=ahmad, partial=True).values)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), database.atomic():  # the edit rolled back: its words too
        service.update(ahmad, values, ahmad.version)
        assert found("خالد") == [ahmad.id] and found("احمد") == []
        raise Abort
    assert found("احمد") == [ahmad.id] and found("خالد") == []
    service.update(ahmad, values, ahmad.version)
    assert found("خالد") == [ahmad.id] and found("احمد") == []
    assert Beneficiary.get_by_id(ahmad.id).search_key == search_key("خالد محمد عبدالله الحربي")
    assert _words(ahmad.id) == sorted(name_words("خالد محمد عبدالله الحربي"))


def test_an_erased_file_is_no_longer_found_by_its_name(people, users):
    from portal.models import User
    from portal.privacy import erase

    erase(Beneficiary.get_by_id(people[1]), User.get_by_id(users["admin"]))
    assert found("فاطمه") == [] and _words(people[1]) == []
    assert Beneficiary.get_by_id(people[1]).search_key == ""


def test_imported_files_are_found_by_name(app, db, users):
    from test_imports import csv_bytes, row

    from portal import imports
    from portal.models import User

    data = csv_bytes([row(1, name="عبد الله سالم ابو زيد"), row(2, name="Mary Jane Watson")])
    with app.test_request_context():
        table = imports.read_table(data, "f.csv")
        report = imports.run(table, imports.guess_mapping(table.headers), file_name="f.csv",
                             actor=User.get_by_id(users["officer"]))
    assert report.created == 2
    abdullah = Beneficiary.get(Beneficiary.national_id == luhn_id(f"12{1:07d}"))
    assert found("عبدالله ابوزيد") == [abdullah.id] == found("زيد")
    assert found("mary watson") == [Beneficiary.get(Beneficiary.national_id == luhn_id(f"12{2:07d}")).id]


def test_the_demo_files_are_found_by_name(app, runner):
    result = runner.invoke(args=["demo", "--beneficiaries", "30", "--entries", "60"])
    assert result.exit_code == 0, result.output
    with app.app_context(), database.connection_context():
        ben = Beneficiary.select().order_by(Beneficiary.id.desc()).first()
        assert ben.search_key == search_key(ben.full_name)
        assert ben.id in found(f"{ben.first_name} {ben.family_name}")
        assert BeneficiaryWord.select().count() >= 30 * 4


def _migration():
    from portal.db import MIGRATIONS_DIR

    spec = importlib.util.spec_from_file_location("m0020", MIGRATIONS_DIR / "0020_name_search_key.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_fills_the_key_of_files_already_registered(people, monkeypatch):
    """Files registered before the key existed: no key, no words; the migration's fill writes both, a few
    files per batch."""
    Beneficiary.update(search_key="").execute()
    BeneficiaryWord.delete().execute()
    assert found("احمد") == []
    migration = _migration()
    monkeypatch.setattr(migration, "BATCH", 3)
    with database.atomic():
        migration.fill(database.obj)
    for ben in Beneficiary.select():
        assert ben.search_key == search_key(ben.name_search)
        assert _words(ben.id) == sorted(ben.search_key.split())
    assert found("عبد الله") == [people[0]] and found("بكر") == [people[3]]


def _plan(query) -> str:
    sql, params = query.sql()
    if is_postgres():
        database.execute_sql("ANALYZE beneficiary")
        with database.atomic():  # no plain scan of the table or of another index: the trigram index or nothing
            database.execute_sql("SET LOCAL enable_seqscan = off")
            database.execute_sql("SET LOCAL enable_indexscan = off")
            return "\n".join(r[0] for r in database.execute_sql("EXPLAIN " + sql, params).fetchall())
    return "\n".join(r[-1] for r in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_the_search_reads_the_index(people):
    from portal.db import bulk_insert

    rows = [{"file_number": f"9{n:05d}", "first_name": "سعد", "father_name": "خالد", "family_name": f"ع{n}",
             "name_search": f"سعد خالد ع{n}", "search_key": f" سعد خالد ع{n} ", "national_id": f"3{n:09d}",
             "gender": "m"} for n in range(500)]
    name_index.store([(ben_id, row["search_key"])
                      for (ben_id,), row in zip(bulk_insert(Beneficiary, rows, returning=("id",)), rows)])
    query = service.search_query("احمد الحربي").limit(50)
    plan = _plan(query)
    if is_postgres():
        assert name_index.uses_trigrams()
        assert name_index.TRIGRAM_INDEX in plan, plan
        assert "Seq Scan on beneficiary" not in plan, plan
    else:
        assert "USING PRIMARY KEY (word>? AND word<?)" in plan, plan  # the rarer word's range drives
        assert "SEARCH t1 USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
        assert not [line for line in plan.splitlines() if line.startswith("SCAN")], plan


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: without pg_trgm the search uses the word index there too")
def test_without_the_trigram_index_postgresql_uses_the_word_index(people, monkeypatch):
    ahmad, fatima = people[:2]
    with database.atomic() as txn:
        database.execute_sql(f"DROP INDEX {name_index.TRIGRAM_INDEX}")  # rolled back below
        monkeypatch.setattr(name_index, "_trigram", {})
        assert not name_index.uses_trigrams()
        assert found("إحمد") == [ahmad] and found("عبد الله") == [ahmad] and found("مصطفي") == [fatima]
        assert found("عبد") == sorted([ahmad, fatima]) and found("حمد") == []
        txn.rollback()
    monkeypatch.setattr(name_index, "_trigram", {})
    assert name_index.uses_trigrams()
