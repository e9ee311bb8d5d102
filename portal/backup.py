"""``portal backup FILE`` and ``portal restore FILE``: the database and the uploads in one archive.

The archive is a ``.tar.gz`` holding, in this order:

- ``manifest.json``: format and version, creation time, the portal version, the database kind, the
  migrations applied, the row count of every table, and the size and SHA-256 of every other member;
- the database: ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the portal runs)
  or ``database.pgdump`` (``pg_dump --format=custom``, taken in the same snapshot as the row counts);
- ``uploads/...``: every stored upload (content-addressed files; hidden temporary files and caches are left out).

Restoring verifies everything before touching the instance: the manifest, that every member is listed with
the right size and checksum and nothing else is there, that the database kind matches, that the archive
was not made by a newer portal, and (SQLite) the copy's integrity and row counts. It refuses a non-empty
instance unless forced. Then it replaces the files of the uploads folder (by renames, staged inside that
folder, so a mounted volume works) and the database; if any step fails, the previous uploads come back, and
the database is replaced in one transaction (SQLite's backup API
into the instance's file; on PostgreSQL one ``psql --single-transaction`` that drops the old tables,
loads the dump and checks the row counts before it commits), so a failure leaves the instance as it was.

Not in the archive: the settings and secrets (``instance/config.py``, signing keys), the job queue.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import click
from flask import current_app
from flask.cli import with_appcontext

from .db import database, is_postgres, migrate, migration_sources, sqlite_path

FORMAT = "sila-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


# ---------------------------------------------------------------- helpers

def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _portal_version() -> str:
    try:
        from importlib.metadata import version

        return version("sila-portal")
    except Exception:  # noqa: BLE001 - a source checkout without metadata
        return "unknown"


def _upload_files(root: Path) -> list[Path]:
    """Every stored upload under ``root``, relative; names starting with a dot (temporary files of an upload
    in progress, caches of rendered pages) are not data and are left out."""
    if not root.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                found.append((Path(dirpath) / name).relative_to(root))
    return found


def _sqlite_uri(path, mode: str) -> str:
    """An SQLite URI that opens an existing file only (``mode=ro``/``rw`` never creates one)."""
    return Path(path).absolute().as_uri() + f"?mode={mode}"


def _is_data_table(name: str) -> bool:
    return not name.startswith("schema_migration")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _migrations_applied(conn_execute, tables: set[str]) -> dict[str, list[str]]:
    out = {}
    for table in sorted(t for t in tables if t.startswith("schema_migration")):
        namespace = "core" if table == "schema_migration" else table[len("schema_migration_"):]
        out[namespace] = sorted(row[0] for row in conn_execute(f"SELECT name FROM {_quote(table)}"))  # nosec B608 # table names from the database catalog, quoted by _quote
    return out


def _known_migrations(pm) -> dict[str, set[str]]:
    known = {}
    for namespace, directory in migration_sources(pm):
        known[namespace] = {p.stem for p in Path(directory).glob("[0-9]*.py")}
    return known


# ---------------------------------------------------------------- PostgreSQL client tools

def _pg_bindir() -> str | None:
    return current_app.config.get("PG_BINDIR") or None


def pg_tool(name: str, bindir: str | None = None) -> str:
    """The path of a PostgreSQL client program, or a BackupError saying how to get it."""
    if bindir:
        path = Path(bindir) / name
        found = str(path) if path.is_file() and os.access(path, os.X_OK) else None
    else:
        found = shutil.which(name)
    if not found:
        where = f"in {bindir} (PORTAL_PG_BINDIR)" if bindir else "on the PATH"
        raise BackupError(
            f"{name} was not found {where}. Install the PostgreSQL client tools of the server's major version "
            "(Debian: apt-get install postgresql-client-<major>) or point PORTAL_PG_BINDIR at their folder "
            "(e.g. /usr/lib/postgresql/16/bin).")
    return found


def _tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if not match:
        raise BackupError(f"Cannot tell the version of {path} ({out.strip() or 'no output'}).")
    return int(match.group(1))


def _pg_env(url: str) -> dict:
    """libpq environment variables for ``url`` (so no password shows in the process list)."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url.replace("postgres://", "postgresql://", 1))
    env = dict(os.environ)
    mapping = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
               "dbname": "PGDATABASE", "sslmode": "PGSSLMODE", "options": "PGOPTIONS",
               "connect_timeout": "PGCONNECT_TIMEOUT", "sslrootcert": "PGSSLROOTCERT"}
    for key, value in params.items():
        if key in mapping and value is not None:
            env[mapping[key]] = str(value)
    return env


def _run(args: list[str], env: dict, what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: " + (" / ".join(detail[-5:]) or f"exit status {result.returncode}"))
    return result


def _pg_connect(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)


def _pg_tables(conn) -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    return {r[0] for r in rows}


# ---------------------------------------------------------------- backup

@dataclass
class BackupResult:
    path: Path
    manifest: dict


def _dump_sqlite(url: str, target: Path) -> tuple[dict, dict]:
    """Online copy of the SQLite database; (counts, migrations) read from the copy itself."""
    path = sqlite_path(url)
    if path == ":memory:" or not Path(path).is_file():
        raise BackupError(f"There is no SQLite database at {path}; check PORTAL_DATABASE_URL.")
    source = sqlite3.connect(_sqlite_uri(path, "rw"), uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
    try:
        copy.execute("PRAGMA journal_mode = delete")  # one self-contained file in the archive
        tables = {r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%'")}
        counts = {t: copy.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0] for t in sorted(tables)}  # nosec B608 # table names from sqlite_master, quoted by _quote
        migrations = _migrations_applied(lambda sql: copy.execute(sql).fetchall(), tables)
    finally:
        copy.close()
    return counts, migrations


def _dump_postgres(url: str, target: Path) -> tuple[dict, dict, dict]:
    """``pg_dump --format=custom`` in the snapshot where the row counts are read; (counts, migrations, info)."""
    pg_dump = pg_tool("pg_dump", _pg_bindir())
    client_major = _tool_major(pg_dump)
    conn = _pg_connect(url)
    try:
        server_major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
        if client_major < server_major:
            raise BackupError(
                f"pg_dump {client_major} cannot dump a PostgreSQL {server_major} server. Install "
                f"postgresql-client-{server_major} and point PORTAL_PG_BINDIR at it "
                f"(e.g. /usr/lib/postgresql/{server_major}/bin).")
        conn.autocommit = False
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        tables = _pg_tables(conn)
        counts = {t: conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0] for t in sorted(tables)}  # nosec B608 # table names from the catalog (_pg_tables), quoted by _quote
        migrations = _migrations_applied(lambda sql: conn.execute(sql).fetchall(), tables)
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--schema={schema}",
              f"--snapshot={snapshot}", f"--file={target}"], _pg_env(url), "pg_dump")
        conn.rollback()
    finally:
        conn.close()
    return counts, migrations, {"server_major": server_major, "pg_dump_major": client_major, "schema": schema}


def create_backup(path: Path, *, overwrite: bool = False) -> BackupResult:
    """Write the archive to ``path`` (through a temporary file renamed at the end: never half a file)."""
    path = Path(path).absolute()
    if path.exists() and not overwrite:
        raise BackupError(f"{path} already exists; choose another name or pass --overwrite.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    url = current_app.config["DATABASE_URL"]
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    if not database.is_closed():
        database.close()
    with tempfile.TemporaryDirectory(prefix=".sila-backup-", dir=path.parent) as tmp:
        tmp = Path(tmp)
        manifest = {"format": FORMAT, "version": FORMAT_VERSION,
                    "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                    "portal_version": _portal_version()}
        if is_postgres():
            member = PG_MEMBER
            counts, migrations, info = _dump_postgres(url, tmp / member)
            manifest.update({"database": "postgresql", "postgresql": info})
        else:
            member = SQLITE_MEMBER
            counts, migrations = _dump_sqlite(url, tmp / member)
            manifest["database"] = "sqlite"
        # After the database: every upload a row can point at was stored before its row was written.
        uploads = _upload_files(upload_dir)
        files = {member: {"size": (tmp / member).stat().st_size, "sha256": _sha256_file(tmp / member)}}
        for rel in uploads:
            source = upload_dir / rel
            files[f"uploads/{rel.as_posix()}"] = {"size": source.stat().st_size, "sha256": _sha256_file(source)}
        manifest.update({
            "migrations": migrations, "counts": counts, "uploads": len(uploads),
            "uploads_bytes": sum(v["size"] for k, v in files.items() if k.startswith("uploads/")),
            "files": files,
        })
        partial = tmp / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(dt.datetime.now().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            _add_file(tar, tmp / member, member, files[member])
            for rel in uploads:
                name = f"uploads/{rel.as_posix()}"
                _add_file(tar, upload_dir / rel, name, files[name])
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    return BackupResult(path=path, manifest=manifest)


def _add_file(tar: tarfile.TarFile, source: Path, name: str, expected: dict) -> None:
    """Add ``source`` as ``name``; the bytes written are hashed again, so a file changed between the
    manifest and the archive is caught here and not at restore time."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = expected["size"], int(source.stat().st_mtime), 0o600
    digest = hashlib.sha256()

    class Hashing:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            block = self.fh.read(n)
            digest.update(block)
            return block

    with open(source, "rb") as fh:
        tar.addfile(info, Hashing(fh))
    if digest.hexdigest() != expected["sha256"]:
        raise BackupError(f"{name} changed while the backup was written; run the backup again.")


# ---------------------------------------------------------------- reading and verifying an archive

@dataclass
class Staged:
    manifest: dict
    folder: Path  # the verified members, extracted

    @property
    def database_file(self) -> Path:
        return self.folder / (PG_MEMBER if self.manifest["database"] == "postgresql" else SQLITE_MEMBER)

    @property
    def uploads(self) -> Path:
        return self.folder / "uploads"


def _not_an_archive(path: Path, why: str) -> BackupError:
    return BackupError(f"{path} is not a Sila backup archive ({why}).")


def _check_manifest(path: Path, manifest) -> dict:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _not_an_archive(path, "its manifest is not a Sila backup manifest")
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(f"{path} was written in backup format {version!r}; this portal reads format "
                          f"{FORMAT_VERSION} or older. Restore it with the version of Sila that wrote it.")
    if manifest.get("database") not in ("sqlite", "postgresql"):
        raise _not_an_archive(path, f"unknown database kind {manifest.get('database')!r}")
    files, counts = manifest.get("files"), manifest.get("counts")
    if not isinstance(files, dict) or not isinstance(counts, dict) or not isinstance(manifest.get("migrations"),
                                                                                     dict):
        raise _not_an_archive(path, "its manifest lacks the file list, the row counts or the migrations")
    member = PG_MEMBER if manifest["database"] == "postgresql" else SQLITE_MEMBER
    if member not in files:
        raise _not_an_archive(path, f"the manifest does not list {member}")
    for name, meta in files.items():
        if not _safe_member_name(name) or not (name == member or name.startswith("uploads/")):
            raise _not_an_archive(path, f"unexpected member name {name!r}")
        if not isinstance(meta, dict) or not isinstance(meta.get("size"), int) or \
                not re.fullmatch(r"[0-9a-f]{64}", str(meta.get("sha256", ""))):
            raise _not_an_archive(path, f"no size or checksum for {name}")
    for table, n in counts.items():
        if not isinstance(table, str) or not re.fullmatch(r"[A-Za-z0-9_]+", table) or not isinstance(n, int):
            raise _not_an_archive(path, "its row counts are malformed")
    return manifest


def _safe_member_name(name: str) -> bool:
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return False
    parts = PurePosixPath(name).parts
    return not name.startswith("/") and all(p not in ("", ".", "..") for p in parts) and \
        PurePosixPath(*parts).as_posix() == name


def read_manifest(path: Path) -> dict:
    """The archive's manifest (its first member), checked for shape; nothing else is read."""
    path = Path(path)
    if not path.exists():
        raise BackupError(f"No such file: {path}")
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    try:
        with tarfile.open(path, "r|gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile() or first.size > 50 * CHUNK:
                raise _not_an_archive(path, "it does not start with manifest.json")
            manifest = json.loads(tar.extractfile(first).read().decode("utf-8"))
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise _not_an_archive(path, f"{type(exc).__name__}: {exc}") from None
    return _check_manifest(path, manifest)


def stage(path: Path, folder: Path) -> Staged:
    """Extract and verify every member into ``folder``: each listed once with its size and checksum,
    nothing unlisted, nothing but regular files, the whole compressed stream intact."""
    path = Path(path)
    manifest = read_manifest(path)
    files = manifest["files"]
    seen = set()
    try:
        with tarfile.open(path, "r|gz") as tar:
            for index, member in enumerate(tar):
                if index == 0:
                    continue  # the manifest, read above
                name = member.name
                if name in seen:
                    raise _not_an_archive(path, f"{name} appears twice")
                if name not in files:
                    raise _not_an_archive(path, f"{name!r} is not listed in the manifest")
                if not member.isfile():
                    raise _not_an_archive(path, f"{name} is not a regular file")
                seen.add(name)
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest, size = hashlib.sha256(), 0
                source = tar.extractfile(member)
                with open(target, "wb") as out:
                    for block in iter(lambda: source.read(CHUNK), b""):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
                if size != files[name]["size"] or digest.hexdigest() != files[name]["sha256"]:
                    raise BackupError(f"{path} is damaged: {name} does not match its checksum. "
                                      "Nothing was restored.")
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise BackupError(f"{path} is damaged or incomplete ({type(exc).__name__}: {exc}). "
                          "Nothing was restored.") from None
    missing = sorted(set(files) - seen)
    if missing:
        raise BackupError(f"{path} is incomplete: {len(missing)} listed file(s) are missing "
                          f"(first: {missing[0]}). Nothing was restored.")
    return Staged(manifest=manifest, folder=folder)


# ---------------------------------------------------------------- restore

def instance_contents() -> tuple[int, int]:
    """(rows in data tables, upload files) of the configured instance: (0, 0) is an empty instance."""
    upload_count = len(_upload_files(Path(current_app.config["UPLOAD_DIR"])))
    url = current_app.config["DATABASE_URL"]
    if is_postgres():
        conn = _pg_connect(url)
        try:
            rows = sum(conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0]  # nosec B608 # table names from the catalog (_pg_tables), quoted by _quote
                       for t in _pg_tables(conn) if _is_data_table(t))
        finally:
            conn.close()
        return rows, upload_count
    path = sqlite_path(url)
    if path == ":memory:" or not Path(path).exists():
        return 0, upload_count
    conn = sqlite3.connect(path, timeout=30)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%'")]
        rows = sum(conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0]  # nosec B608 # table names from sqlite_master, quoted by _quote
                   for t in tables if _is_data_table(t))
    finally:
        conn.close()
    return rows, upload_count


def _check_migrations(manifest: dict) -> None:
    known = _known_migrations(current_app.extensions["portal_pm"])
    unknown = [f"{ns}:{name}" for ns, names in manifest["migrations"].items()
               for name in names if name not in known.get(ns, set())]
    if unknown:
        raise BackupError(f"The archive was made by a newer version of Sila (migrations this one does not know: "
                          f"{', '.join(unknown[:5])}). Upgrade Sila first, then restore.")


def _check_sqlite_copy(staged: Staged) -> None:
    conn = sqlite3.connect(_sqlite_uri(staged.database_file, "ro"), uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"The database in the archive is damaged ({result}). Nothing was restored.")
        for table, expected in staged.manifest["counts"].items():
            try:
                got = conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]  # nosec B608 # manifest table names matched [A-Za-z0-9_]+ in read_manifest, quoted
            except sqlite3.DatabaseError:
                got = None
            if got != expected:
                raise BackupError(f"The database in the archive does not match its manifest ({table}: "
                                  f"{got} rows, {expected} expected). Nothing was restored.")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"The database in the archive cannot be read ({exc}). Nothing was restored.") from None
    finally:
        conn.close()


def _restore_sqlite(staged: Staged, url: str) -> None:
    path = sqlite_path(url)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(_sqlite_uri(staged.database_file, "ro"), uri=True)
    target = sqlite3.connect(path, timeout=30)
    try:
        # The backup API writes the whole copy in one write transaction of the target: readers see the
        # old database or the new one, and an error leaves the old one.
        source.backup(target)
        target.execute("PRAGMA journal_mode = wal")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Writing the database failed ({exc}); the instance was left as it was.") from None
    finally:
        source.close()
        target.close()


def _restore_postgres(staged: Staged, url: str, work: Path) -> None:
    bindir = _pg_bindir()
    pg_restore, psql = pg_tool("pg_restore", bindir), pg_tool("psql", bindir)
    made_with = (staged.manifest.get("postgresql") or {}).get("pg_dump_major") or 0
    if _tool_major(pg_restore) < int(made_with):
        raise BackupError(f"The archive was written by pg_dump {made_with}; this pg_restore is older "
                          f"({_tool_major(pg_restore)}). Install postgresql-client-{made_with} and point "
                          "PORTAL_PG_BINDIR at it. Nothing was restored.")
    env = _pg_env(url)
    toc = _run([pg_restore, "--list", str(staged.database_file)], env, "Reading the database dump").stdout
    conn = _pg_connect(url)
    try:
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        old_tables = sorted(_pg_tables(conn))
        old_sequences = sorted(r[0] for r in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()").fetchall())
    finally:
        conn.close()
    source_schema = (staged.manifest.get("postgresql") or {}).get("schema") or "public"
    if source_schema != schema:
        raise BackupError(f"The archive holds the schema {source_schema!r}; this instance uses {schema!r}. "
                          "Restore into a database whose search path is the same schema. Nothing was restored.")
    script = work / "restore.sql"
    # The instance's schema stays (with its owner and grants); only what lives in it is replaced.
    keep = [line for line in toc.splitlines()
            if not re.search(r"\bSCHEMA - |\bCOMMENT - SCHEMA ", line)]
    (work / "restore.list").write_text("\n".join(keep) + "\n", encoding="utf-8")
    _run([pg_restore, "--no-owner", "--no-privileges", "--use-list", str(work / "restore.list"),
          "--file", str(script), str(staged.database_file)], env, "Reading the database dump")
    before = work / "before.sql"
    before.write_text("".join(f"DROP TABLE IF EXISTS {_quote(schema)}.{_quote(t)} CASCADE;\n" for t in old_tables)
                      + "".join(f"DROP SEQUENCE IF EXISTS {_quote(schema)}.{_quote(s)} CASCADE;\n"
                                for s in old_sequences), encoding="utf-8")
    after = work / "after.sql"
    checks = []
    for table, expected in sorted(staged.manifest["counts"].items()):
        checks.append(
            f"  SELECT count(*) INTO n FROM {_quote(schema)}.{_quote(table)};\n"  # nosec B608 # manifest table names matched [A-Za-z0-9_]+ in read_manifest, counts int()
            f"  IF n <> {int(expected)} THEN RAISE EXCEPTION 'restore check: table {table} has %% rows, "
            f"{int(expected)} expected', n; END IF;\n".replace("%%", "%"))
    after.write_text("DO $$\nDECLARE n bigint;\nBEGIN\n" + "".join(checks) + "END $$;\n", encoding="utf-8")
    _run([psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1",
          "--file", str(before), "--file", str(script), "--file", str(after)], env,
         "Restoring the database (rolled back: the instance was left as it was)")


def _move_entries(source: Path, target: Path) -> None:
    """Move the data entries (not the hidden ones: staging, temporary files, caches) of ``source`` into
    ``target``, by rename."""
    for entry in sorted(source.iterdir()):
        if not entry.name.startswith("."):
            os.replace(entry, target / entry.name)


def restore_backup(path: Path, *, force: bool = False) -> dict:
    """Restore the archive into the configured instance; returns its manifest."""
    path = Path(path).absolute()
    manifest = read_manifest(path)
    kind = "postgresql" if is_postgres() else "sqlite"
    if manifest["database"] != kind:
        raise BackupError(f"The archive holds a {manifest['database']} database and this instance uses {kind}; "
                          "restore it into an instance of the same kind.")
    _check_migrations(manifest)
    if not database.is_closed():
        database.close()
    rows, uploads = instance_contents()
    if (rows or uploads) and not force:
        raise BackupError(f"This instance is not empty ({rows} rows, {uploads} uploads). Restoring replaces "
                          "all of it: pass --force to do so, or restore into a fresh instance.")
    url = current_app.config["DATABASE_URL"]
    upload_dir = Path(current_app.config["UPLOAD_DIR"]).absolute()
    upload_dir.mkdir(parents=True, exist_ok=True)
    # Staged inside the uploads folder (a hidden name, never taken for data), so that putting files in place
    # is a rename on one file system even when the folder is a mounted volume.
    with tempfile.TemporaryDirectory(prefix=".sila-restore-", dir=upload_dir) as work:
        work = Path(work)
        staged = stage(path, work / "archive")
        if kind == "sqlite":
            _check_sqlite_copy(staged)
        staged.uploads.mkdir(exist_ok=True)
        previous = work / "previous-uploads"
        previous.mkdir()
        old_moved = False
        try:
            _move_entries(upload_dir, previous)
            old_moved = True
            _move_entries(staged.uploads, upload_dir)
            if kind == "sqlite":
                _restore_sqlite(staged, url)
            else:
                _restore_postgres(staged, url, work)
        except BaseException:
            if old_moved:  # only the archive's files are in the folder now: take them out
                _move_entries(upload_dir, staged.uploads)
            _move_entries(previous, upload_dir)
            raise
    return manifest


# ---------------------------------------------------------------- commands

def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} kB"


def _or_click_error(action, os_error: str):
    """Run ``action``; a refusal (``BackupError``) or a failed write (``OSError``, said with ``os_error``)
    becomes the command's error message."""
    try:
        return action()
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(os_error.format(exc)) from None


def register_commands(cli) -> None:
    @cli.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--overwrite", is_flag=True, help="Replace FILE if it exists.")
    @with_appcontext
    def backup_command(file, overwrite):
        """Write the database and the uploads to one archive (FILE, a .tar.gz); safe while the portal runs."""
        result = _or_click_error(lambda: create_backup(file, overwrite=overwrite),
                                 "The backup could not be written ({}); no archive was made.")
        m = result.manifest
        rows = sum(n for t, n in m["counts"].items() if _is_data_table(t))
        click.echo(f"Backup written to {result.path}: {m['database']} database, {rows} rows in "
                   f"{len(m['counts'])} tables, {m['uploads']} uploads ({_size(m['uploads_bytes'])}), "
                   f"archive {_size(result.path.stat().st_size)}.")

    @cli.command("restore")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Replace the data of an instance that is not empty.")
    @with_appcontext
    def restore_command(file, force):
        """Restore an archive written by `portal backup` into this instance (verified before anything changes).

        Stop the portal (web and worker) first. Settings and secrets are not in the archive."""
        manifest = _or_click_error(lambda: restore_backup(file, force=force),
                                   "The restore failed ({}); the instance was left as it was.")
        rows = sum(n for t, n in manifest["counts"].items() if _is_data_table(t))
        click.echo(f"Restored {file} (made {manifest['created_at']}): {rows} rows, {manifest['uploads']} uploads.")
        with database.connection_context():
            applied = migrate(current_app.extensions["portal_pm"])
        if applied:
            click.echo(f"{len(applied)} newer migration(s) applied: {', '.join(applied)}.")
