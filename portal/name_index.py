"""The name search's index: each file's ``search_key`` and its ``BeneficiaryWord`` rows, written in the same
transaction as every change to the name (``beneficiaries_service.create``/``update``, the import, the demo,
the erasure), and the condition ``search_query`` puts for each word typed.

- SQLite: each word typed is a range of the ``beneficiary_word`` primary key (``word >= 'محمد' AND word <
  'محمه'``, the prefix's successor), so a search reads the matching words' index entries, never the files.
- PostgreSQL: ``search_key LIKE '% محمد%'`` answered by the trigram index ``beneficiary_search_key_trgm``
  (``pg_trgm``, migration 0020). Where the extension could not be installed the same word ranges are used
  (the column's collation is "C", code point order), and the migration said so in the log.

Both mean the same: a word typed matches a file when it begins one of the file's ``name_words``."""
from __future__ import annotations

from peewee import OP, SQL, Expression, Value, fn

from .db import database, is_postgres
from .models import Beneficiary, BeneficiaryWord

TRIGRAM_INDEX = "beneficiary_search_key_trgm"
# A word that begins the names of this many files or more is common (SQLite): measured on the 50,000-file demo,
# looking up and sorting 4,000 files (محمد) took 4.6 ms, testing file by file until a page and the capped
# count were found 10 ms; a quarter of the files (احمد, 13,000) is cheaper tested file by file (2-3 ms).
COMMON = 10_000
_trigram: dict[str, bool] = {}


def store(pairs) -> None:
    """Write the words of ``pairs`` of (file id, ``search_key``) in place of those files' old words; call
    inside the transaction that writes the name (the files' ``search_key`` column is written by the caller,
    with the rest of the row). An empty key (an erased file) leaves no word."""
    pairs = list(pairs)
    if not pairs:
        return
    ids = [ben_id for ben_id, _key in pairs]
    for start in range(0, len(ids), 900):
        BeneficiaryWord.delete().where(BeneficiaryWord.beneficiary.in_(ids[start:start + 900])).execute()
    rows = [{"word": word, "beneficiary": ben_id} for ben_id, key in pairs for word in dict.fromkeys(key.split())]
    for start in range(0, len(rows), 5000):
        BeneficiaryWord.insert_many(rows[start:start + 5000]).execute()


def uses_trigrams() -> bool:
    """PostgreSQL with the trigram index in place (looked up once per process and database)."""
    if not is_postgres():
        return False
    name = f"{database.obj.database}:{id(database.obj)}"
    if name not in _trigram:
        _trigram[name] = database.execute_sql(  # the index of the schema the search path finds
            "SELECT to_regclass(%s) IS NOT NULL", (TRIGRAM_INDEX,)).fetchone()[0]
    return _trigram[name]


def _successor(word: str) -> str:
    """The first string after every string that begins with ``word`` (its last character plus one)."""
    return word[:-1] + chr(ord(word[-1]) + 1)


def _range(word: str):
    return (BeneficiaryWord.word >= word) & (BeneficiaryWord.word < _successor(word))


def words_condition(words: list[str]):
    """Files each of whose ``words`` (already normalised, letters only) begins one of their name words.

    SQLite: a word's index range is read first, at most ``COMMON`` entries, to learn whether the word is rare.
    The rarest word, when rare, drives the query (its files looked up by id, then sorted: fewer than
    ``COMMON``); the other words, and every word when all are common (محمد, احمد: a quarter of the files), are
    tested file by file on the (beneficiary_id, word) index, so that a page in name order is read off the
    ``name_search`` index and stops after its rows instead of sorting thousands of matches."""
    if uses_trigrams():
        # The pattern is bound as it is (no wildcard can be in a word of letters): " word" is a word's start.
        cond = None
        for word in words:
            part = Expression(Beneficiary.search_key, OP.LIKE, Value(f"% {word}%", converter=False))
            cond = part if cond is None else (cond & part)
        return cond
    seen = {word: BeneficiaryWord.select(BeneficiaryWord.beneficiary).where(_range(word)).limit(COMMON).count()
            for word in words}
    rarest = min(words, key=lambda w: seen[w])
    cond = None
    for word in words:
        if word == rarest and seen[word] < COMMON:
            part = Beneficiary.id.in_(BeneficiaryWord.select(BeneficiaryWord.beneficiary).where(_range(word)))
        else:
            part = fn.EXISTS(BeneficiaryWord.select(SQL("1")).where(
                (BeneficiaryWord.beneficiary == Beneficiary.id) & _range(word)))
        cond = part if cond is None else (cond & part)
    return cond
