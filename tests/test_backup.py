"""``portal backup`` / ``portal restore``: a round trip gives the same rows and the same upload files, and a
bad archive (damaged, tampered, not an archive, missing, of another kind, from a newer portal) or a
non-empty instance without ``--force`` is refused with nothing changed.

The suite's database decides the kind: SQLite (a temp file per test) or, with ``PORTAL_TEST_DATABASE_URL``,
PostgreSQL; there the restore goes into a database of its own (``<name>_restore``) created and dropped by the
test. ``test_postgres_round_trip`` runs the PostgreSQL round trip in the SQLite leg too (two throwaway
databases on the server of ``tests/test_postgres.py``; skipped with a message without PostgreSQL, a failure
with ``CI=true``).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import tarfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import PG_URL, luhn_id

from portal import create_app
from portal.db import database

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND"
       b"\xaeB`\x82")


# ---------------------------------------------------------------- helpers

def fill(app, users=None, letter=False):
    """Beneficiaries, a request with an uploaded document, timeline entries and (``letter``) an issued letter."""
    from plugins.letters import service as letters
    from portal import beneficiaries_service
    from portal.models import Beneficiary, Document, User
    from portal.timeline import log_entry
    from portal.uploads import store_bytes
    from portal.workflow import intake
    from portal.workflow.defaults import ensure_default_request_types

    with app.app_context(), database.connection_context():
        ensure_default_request_types()
        officer = User.get_by_id(users["officer"]) if users else None
        people = []
        for n in range(3):
            res = beneficiaries_service.validate({
                "first_name": "هند", "father_name": "ناصر", "grandfather_name": "فهد", "family_name": "العتيبي",
                "national_id": luhn_id(f"10{n:07d}"), "gender": "f", "mobile": f"0561{n:06d}"})
            assert res.ok, res.errors
            people.append(beneficiaries_service.create(res.values))
        answers = {str(q.id): "4" for q in intake.questions(intake.get_request_type("food_basket"))}
        case = intake.open_request(people[0], "food_basket", channel="interview", actor=officer,
                                   summary="سلة غذائية", answers=answers)
        stored = store_bytes(PNG, "هوية.png", "png")
        Document.create(beneficiary=people[0], case=case, kind="national_id", file_sha256=stored.sha256,
                        file_name=stored.file_name, content_type=stored.content_type, size=stored.size,
                        expiry_date=dt.date(2030, 1, 1))
        log_entry(channel="phone", direction="in", beneficiary=people[1], summary="اتصال للاستفسار",
                  body="سأل عن موعد الزيارة", actor=officer)
        facts = {"case": case.reference, "upload": stored.sha256}
        if letter:
            issued = letters.issue_letter(template=letters.template_by_key("general"), beneficiary=people[2],
                                          recipient="جهة حكومية", extra={"subject_text": "إفادة", "body_text": "نص."})
            facts["letter"] = issued.number
        assert Beneficiary.select().count() == 3
        return facts


def table_rows(url: str) -> dict:
    """Every row of every table, in a stable order (a raw connection: independent of the portal's proxy)."""
    out = {}
    if url.startswith("sqlite"):
        import sqlite3

        from portal.db import sqlite_path

        conn = sqlite3.connect(sqlite_path(url))
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                 "AND name NOT LIKE 'sqlite_%'")]
            for t in tables:
                out[t] = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{t}"'))
        finally:
            conn.close()
        return out
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()]
        for t in tables:
            out[t] = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{t}"').fetchall())
    return out


def upload_tree(folder) -> dict:
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


def rewrite(archive: Path, target: Path, *, manifest=None, members=None) -> Path:
    """A copy of ``archive`` with the manifest changed by ``manifest(m)`` and members by ``members(name, data)``."""
    with tarfile.open(archive, "r:gz") as tar:
        items = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(target, "w:gz") as tar:
        for name, data in items:
            if name == "manifest.json" and manifest:
                m = json.loads(data)
                manifest(m)
                data = json.dumps(m).encode()
            elif members:
                data = members(name, data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def _admin_url(url: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


class Target:
    """A fresh instance to restore into: a new SQLite file, or a new PostgreSQL database (dropped at the end)."""

    def __init__(self, tmp_path: Path, source_url: str, name: str = "target"):
        self.folder = tmp_path / name
        self.folder.mkdir()
        self.uploads = self.folder / "uploads"
        self.created_db = None
        if source_url.startswith("sqlite"):
            self.url = f"sqlite:///{self.folder / 'portal.sqlite3'}"
        else:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict

            base = conninfo_to_dict(source_url)["dbname"]
            self.created_db = f"{base}_restore_{uuid.uuid4().hex[:6]}"
            self.admin = _admin_url(source_url, "postgres")
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.created_db}"')
            self.url = urlsplit(source_url)._replace(path=f"/{self.created_db}").geturl()
        self.app = None

    def make_app(self, **extra):
        self.app = create_app({
            "TESTING": True, "SECRET_KEY": "test-secret-key-0123456789", "DATABASE_URL": self.url,
            "UPLOAD_DIR": str(self.uploads), "HUEY_IMMEDIATE": True, "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False, "PLUGINS": "all", **extra})
        return self.app

    def invoke(self, *args):
        return self.app.test_cli_runner().invoke(args=list(args))

    def drop(self):
        if not database.is_closed():
            database.close()
        if self.created_db:
            import psycopg

            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.created_db}" WITH (FORCE)')


@pytest.fixture
def target(tmp_path, app):
    made = []

    def make(name="target"):
        t = Target(tmp_path, app.config["DATABASE_URL"], name)
        made.append(t)
        return t

    yield make
    for t in made:
        t.drop()


def backup(app, runner, path: Path):
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    return result


def filled_archive(app, runner, users, tmp_path) -> Path:
    """The portal filled with ``fill`` and backed up to ``sila.tar.gz`` in ``tmp_path``."""
    fill(app, users)
    archive = tmp_path / "sila.tar.gz"
    backup(app, runner, archive)
    return archive


def round_trip(app, runner, make_target, tmp_path, users=None):
    facts = fill(app, users, letter=True)
    archive = tmp_path / "sila.tar.gz"
    out = backup(app, runner, archive)
    source_rows = table_rows(app.config["DATABASE_URL"])
    source_uploads = upload_tree(app.config["UPLOAD_DIR"])
    assert len(source_uploads) >= 2  # the document and the letter's PDF
    assert "Backup written to" in out.output and f"{len(source_uploads)} uploads" in out.output
    assert source_rows["beneficiary"] and source_rows["case"] and source_rows["timeline_entry"]

    t = make_target()
    t.make_app()
    assert t.invoke("migrate").exit_code == 0  # a fresh, migrated instance: empty
    result = t.invoke("restore", str(archive))
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    assert table_rows(t.url) == source_rows
    assert upload_tree(t.uploads) == source_uploads

    # the restored portal works on what it got back
    from plugins.letters.models import Letter
    from portal.models import Case, Document
    from portal.uploads import read_stored

    with t.app.app_context(), database.connection_context():
        assert Case.get(Case.reference == facts["case"]).request_type == "food_basket"
        assert read_stored(facts["upload"]) == PNG
        doc = Document.get(Document.file_sha256 == facts["upload"])
        assert doc.file_name == "هوية.png"
        letter = Letter.get(Letter.number == facts["letter"])
        assert read_stored(letter.pdf_sha256).startswith(b"%PDF")
    return archive


# ---------------------------------------------------------------- the round trip

def test_round_trip_gives_the_same_rows_and_files(app, runner, users, target, tmp_path):
    archive = round_trip(app, runner, target, tmp_path, users)
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[0] == "manifest.json"
    kind = "postgresql" if PG_URL else "sqlite"
    assert manifest["format"] == "sila-backup" and manifest["version"] == 1 and manifest["database"] == kind
    assert manifest["counts"]["beneficiary"] == 3 and manifest["counts"]["case"] == 1
    assert manifest["uploads"] == len([n for n in names if n.startswith("uploads/")]) >= 2
    assert "0001_initial" in manifest["migrations"]["core"]
    assert set(manifest["files"]) == set(names[1:])
    assert oct(archive.stat().st_mode & 0o777) == "0o600"


def test_backup_does_not_overwrite_a_file(app, runner, tmp_path):
    existing = tmp_path / "old.tar.gz"
    existing.write_bytes(b"keep me")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code != 0 and "already exists" in result.output
    assert existing.read_bytes() == b"keep me"
    result = runner.invoke(args=["backup", str(existing), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert tarfile.is_tarfile(existing)
    result = runner.invoke(args=["backup", str(tmp_path / "no-such-folder" / "b.tar.gz")])
    assert result.exit_code != 0 and "does not exist" in result.output


# ---------------------------------------------------------------- refusals: nothing changes

def _state(t: Target):
    return table_rows(t.url), upload_tree(t.uploads)


def _non_empty_target(make_target, name="target"):
    """A migrated instance holding one beneficiary and one upload of its own."""
    from portal import beneficiaries_service
    from portal.uploads import store_bytes

    t = make_target(name)
    t.make_app()
    assert t.invoke("migrate").exit_code == 0
    with t.app.app_context(), database.connection_context():
        res = beneficiaries_service.validate({
            "first_name": "سعد", "father_name": "علي", "grandfather_name": "محمد", "family_name": "الشهري",
            "national_id": luhn_id("200000001"), "gender": "m", "mobile": "0569999999"})
        beneficiaries_service.create(res.values)
        store_bytes(b"%PDF-1.4\n%%EOF\n", "other.pdf", "pdf")
    return t


def _no_leftovers(t: Target):
    folders = [t.uploads.parent] + ([t.uploads] if t.uploads.exists() else [])
    return [p.name for folder in folders for p in folder.iterdir() if p.name.startswith(".sila-")] == []


def test_a_non_empty_instance_needs_force(app, runner, users, target, tmp_path):
    archive = filled_archive(app, runner, users, tmp_path)
    source_rows, source_uploads = table_rows(app.config["DATABASE_URL"]), upload_tree(app.config["UPLOAD_DIR"])

    t = _non_empty_target(target)
    before = _state(t)
    result = t.invoke("restore", str(archive))
    assert result.exit_code != 0 and "not empty" in result.output and "--force" in result.output
    assert _state(t) == before

    result = t.invoke("restore", str(archive), "--force")
    assert result.exit_code == 0, result.output
    assert table_rows(t.url) == source_rows
    assert upload_tree(t.uploads) == source_uploads  # the instance's own upload is gone too
    assert _no_leftovers(t)


@pytest.mark.parametrize("damage", ["flipped", "truncated", "tampered_upload", "extra_member", "missing_member"])
def test_a_damaged_archive_is_refused_before_anything_changes(app, runner, users, target, tmp_path, damage):
    archive = filled_archive(app, runner, users, tmp_path)
    bad = tmp_path / "bad.tar.gz"
    data = archive.read_bytes()
    if damage == "flipped":
        middle = len(data) // 2
        bad.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:])
        expected = "damaged"
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) * 2 // 3])
        expected = "damaged"
    elif damage == "tampered_upload":
        rewrite(archive, bad, members=lambda name, d: d + b"x" if name.startswith("uploads/") else d)
        expected = "does not match its checksum"
    elif damage == "extra_member":
        with tarfile.open(archive, "r:gz") as tar:
            items = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
        with tarfile.open(bad, "w:gz") as tar:
            for name, d in items + [("uploads/../../evil", b"x")]:
                info = tarfile.TarInfo(name)
                info.size = len(d)
                tar.addfile(info, io.BytesIO(d))
        expected = "not listed in the manifest"
    else:
        rewrite(archive, bad, manifest=lambda m: m["files"].update(
            {"uploads/aa/bb/" + "a" * 64: {"size": 1, "sha256": "0" * 64}}))
        expected = "incomplete"

    t = _non_empty_target(target)
    before = _state(t)
    result = t.invoke("restore", str(bad), "--force")
    assert result.exit_code != 0
    assert expected in result.output, result.output
    assert _state(t) == before
    assert _no_leftovers(t)
    assert not (tmp_path / "evil").exists()


def test_a_failure_while_restoring_leaves_the_instance_as_it_was(app, runner, users, target, tmp_path,
                                                                 monkeypatch):
    """Counts that do not match (the database step refuses: on SQLite before writing, on PostgreSQL inside the
    one transaction that rolls back) and a database step that breaks halfway: old rows, old uploads."""
    import portal.backup

    archive = filled_archive(app, runner, users, tmp_path)
    bad = rewrite(archive, tmp_path / "counts.tar.gz",
                  manifest=lambda m: m["counts"].update(beneficiary=m["counts"]["beneficiary"] + 1))
    t = _non_empty_target(target)
    before = _state(t)
    result = t.invoke("restore", str(bad), "--force")
    assert result.exit_code != 0
    assert "beneficiary" in result.output and ("expected" in result.output), result.output
    assert _state(t) == before

    def breaks(*args, **kwargs):
        raise portal.backup.BackupError("disk full (simulated)")

    name = "_restore_postgres" if PG_URL else "_restore_sqlite"
    monkeypatch.setattr(portal.backup, name, breaks)
    result = t.invoke("restore", str(archive), "--force")
    assert result.exit_code != 0 and "disk full" in result.output
    assert _state(t) == before
    assert _no_leftovers(t)
    monkeypatch.undo()

    # the archive's uploads cannot be put in place (after the instance's own were moved aside): those come back
    real_replace, moved = os.replace, []

    def replace(src, dst):
        if "/archive/uploads/" in str(src):
            moved.append(src)
            raise OSError("no space left on device (simulated)")
        return real_replace(src, dst)

    monkeypatch.setattr(portal.backup.os, "replace", replace)
    result = t.invoke("restore", str(archive), "--force")
    monkeypatch.undo()
    assert result.exit_code != 0 and moved
    assert "no space left on device" in result.output and "left as it was" in result.output
    assert _state(t) == before
    assert _no_leftovers(t)


def test_wrong_and_missing_files_are_refused(app, runner, users, target, tmp_path):
    archive = filled_archive(app, runner, users, tmp_path)
    t = target()
    t.make_app()
    assert t.invoke("migrate").exit_code == 0
    before = _state(t)

    png = tmp_path / "photo.tar.gz"
    png.write_bytes(PNG)
    no_manifest = tmp_path / "other.tar.gz"
    with tarfile.open(no_manifest, "w:gz") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"notes"))
    foreign = rewrite(archive, tmp_path / "foreign.tar.gz", manifest=lambda m: m.update(format="other-app"))
    cases = {
        str(tmp_path / "nothing-here.tar.gz"): "No such file",
        str(png): "is not a Sila backup archive",
        str(no_manifest): "does not start with manifest.json",
        str(foreign): "not a Sila backup manifest",
        str(tmp_path): "is a directory",
    }
    for path, message in cases.items():
        result = t.invoke("restore", path)
        assert result.exit_code != 0, path
        assert message in result.output, (path, result.output)
    assert _state(t) == before


def test_an_archive_of_another_kind_or_a_newer_portal_is_refused(app, runner, users, target, tmp_path):
    archive = filled_archive(app, runner, users, tmp_path)
    t = target()
    t.make_app()
    other = "sqlite" if PG_URL else "postgresql"

    def other_kind(m):
        member = next(iter(m["files"]))
        m["database"] = other
        m["files"]["database.pgdump" if other == "postgresql" else "database.sqlite3"] = m["files"].pop(member) \
            if member.startswith("database") else m["files"][member]

    kind = rewrite(archive, tmp_path / "kind.tar.gz", manifest=other_kind)
    result = t.invoke("restore", str(kind))
    assert result.exit_code != 0 and f"holds a {other} database" in result.output, result.output

    newer = rewrite(archive, tmp_path / "newer.tar.gz",
                    manifest=lambda m: m["migrations"]["core"].append("9999_from_the_future"))
    result = t.invoke("restore", str(newer))
    assert result.exit_code != 0 and "newer version of Sila" in result.output
    format2 = rewrite(archive, tmp_path / "format2.tar.gz", manifest=lambda m: m.update(version=2))
    result = t.invoke("restore", str(format2))
    assert result.exit_code != 0 and "backup format 2" in result.output
    assert {name: rows for name, rows in table_rows(t.url).items() if rows} == {}  # nothing was written
    assert not t.uploads.exists()


def test_missing_postgresql_tools_are_named(app, tmp_path):
    from portal.backup import BackupError, pg_tool

    empty = tmp_path / "bin"
    empty.mkdir()
    with pytest.raises(BackupError) as info:
        pg_tool("pg_dump", str(empty))
    message = str(info.value)
    assert "pg_dump was not found" in message and "PORTAL_PG_BINDIR" in message and "postgresql-client" in message


@pytest.mark.skipif(not PG_URL, reason="pg_dump is used on the PostgreSQL leg (and in test_postgres_round_trip)")
def test_backup_without_pg_dump_says_so(app_config, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    app_config["PG_BINDIR"] = str(empty)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(app_config)
    result = application.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.tar.gz")])
    assert result.exit_code != 0 and "pg_dump was not found" in result.output
    assert not (tmp_path / "b.tar.gz").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".sila-")] == []


# ---------------------------------------------------------------- PostgreSQL in the SQLite leg too

def _postgres_server_url() -> str:
    from postgres_server import connect, server_url

    url = server_url("PostgreSQL backup tests")
    connect(url, "PostgreSQL backup tests").close()
    return url


@pytest.mark.postgres
@pytest.mark.skipif(bool(PG_URL), reason="the PostgreSQL leg runs the round trip above on PostgreSQL")
def test_postgres_round_trip(tmp_path, monkeypatch):
    """pg_dump / pg_restore between two databases created (and dropped) here."""
    from portal.db import migrate

    server = _postgres_server_url()
    source = Target(tmp_path, server, "source")
    make_made = []
    try:
        monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
        source_app = source.make_app()
        with source_app.app_context(), database.connection_context():
            migrate(source_app.extensions["portal_pm"])
        runner = source_app.test_cli_runner()

        def make_target(name="target"):
            t = Target(tmp_path, server, name)
            make_made.append(t)
            return t

        # ``fill`` writes through the proxy: point it at the source again (make_target re-points it).
        source_app.config["UPLOAD_DIR"] = str(source.uploads)
        round_trip(source_app, runner, make_target, tmp_path)
    finally:
        for t in make_made:
            t.drop()
        source.drop()
