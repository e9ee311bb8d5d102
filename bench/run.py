"""Sila's benchmark suite: ``make bench`` (50,000 beneficiaries / 1,000,000 timeline entries) and ``make
bench-quick`` (1,000 / 10,000).

It builds the demo database once (kept under ``bench/.data`` and reused while the migrations are unchanged),
serves Sila and two floors (Flask hello world; Flask + peewee reading 200 rows) with the same gunicorn setup,
loads each page with the same load generator, and prints one table: work, Sila, floor, ratio, p50, p99.
The table is written as JSON to ``bench/results/`` with the machine and the versions. Nothing here is a test:
the numbers are read by people (docs/performance.md says how).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import http.client
import io
import json
import multiprocessing
import os
import platform
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess  # nosec B404 # runs the project's own CLI and gunicorn
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
SIZES = {"quick": (1_000, 10_000), "full": (50_000, 1_000_000)}
PASSWORD = "bench-" + "p4ss-w0rd-long"  # nosec B105 # a throwaway account in a throwaway database


# --- data ----------------------------------------------------------------------------------------------

def schema_key() -> str:
    """Changes when any migration (core or plugin) changes: the kept database is rebuilt then."""
    digest = hashlib.sha256()
    for path in sorted(list((ROOT / "portal" / "migrations").glob("*.py"))
                       + list((ROOT / "plugins").glob("*/migrations/*.py"))):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def portal(env: dict, *args: str, capture: bool = True) -> str:
    result = subprocess.run([PYTHON, "-m", "portal", *args], cwd=ROOT, env=env, check=True,  # nosec B603
                            capture_output=capture, text=True)
    return result.stdout if capture else ""


def prepare(size: str, database_url: str | None, instance: Path) -> tuple[dict, dict]:
    """The environment that points the CLI and the servers at the benchmark database, and what building it
    cost (read back from the marker file when the database was kept)."""
    beneficiaries, entries = SIZES[size]
    key = schema_key()
    DATA.mkdir(parents=True, exist_ok=True)
    if database_url:
        name = re.sub(r"\W+", "_", database_url.rsplit("/", 1)[-1])
        marker = DATA / f"pg-{name}-{size}.json"
        url = database_url
    else:
        db_file = DATA / f"demo-{size}-{key}.sqlite3"
        marker = db_file.with_suffix(".json")
        url = f"sqlite:///{db_file}"
        for old in DATA.glob(f"demo-{size}-*.sqlite3*"):
            if not old.name.startswith(db_file.name):
                old.unlink()
    env = dict(os.environ, PORTAL_DATABASE_URL=url, PORTAL_INSTANCE_PATH=str(instance),
               PORTAL_SECRET_KEY=secrets.token_hex(32), PORTAL_HUEY_IMMEDIATE="false",
               PORTAL_SOCIAL_APP_SECRET="bench-app-secret", PORTAL_RATELIMIT_ENABLED="false",
               PYTHONPATH=str(ROOT))
    built = json.loads(marker.read_text()) if marker.exists() else {}
    if built.get("schema") == key and built.get("size") == [beneficiaries, entries]:
        built["kept"] = True
        return env, built
    if database_url:
        _reset_postgres(database_url)
    else:
        for old in DATA.glob(f"demo-{size}-*.sqlite3*"):
            old.unlink()
    print(f"building the {beneficiaries:,} / {entries:,} demo database (kept for the next runs) ...", flush=True)
    started = time.perf_counter()
    portal(env, "migrate")
    portal(env, "demo", "--beneficiaries", str(beneficiaries), "--entries", str(entries), capture=False)
    built = {"schema": key, "size": [beneficiaries, entries], "seconds": round(time.perf_counter() - started, 1),
             "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    marker.write_text(json.dumps(built))
    built["kept"] = False
    return env, built


def _reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def bench_account(env: dict) -> str:
    """A throwaway officer account for the pages and an API token for the API rows."""
    name = "bench" + secrets.token_hex(3)
    portal(env, "user", "create", name, "--role", "officer", "--role", "manager", "--password", PASSWORD)
    token = portal(env, "token", "create", "--user", name, "--name", "benchmark").strip().splitlines()[-1]
    return name, token


# --- servers -------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, app: str, env: dict, workers: int):
        self.port = free_port()
        self.proc = subprocess.Popen(  # nosec B603
            [PYTHON, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}", "--log-level",
             "warning", "--timeout", "120", app], cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{app} did not start") from None
                time.sleep(0.2)

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each gunicorn worker (the children of the arbiter)."""
        sizes = []
        for child in Path("/proc").glob("[0-9]*"):
            try:
                status = (child / "status").read_text()
            except OSError:
                continue
            if re.search(rf"^PPid:\s+{self.proc.pid}$", status, re.M):
                rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
                if rss:
                    sizes.append(round(int(rss.group(1)) / 1024, 1))
        return sizes

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def request(port: int, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.headers, data


def login(port: int, username: str) -> str:
    """Log in as a browser would (CSRF token from the form) and return the Cookie header."""
    status, headers, body = request(port, "GET", "/login")
    cookies = _cookies(headers)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    form = urllib.parse.urlencode({"csrf_token": token.group(1).decode() if token else "", "username": username,
                                   "password": PASSWORD}).encode()
    status, headers, _ = request(port, "POST", "/login", {"Cookie": cookies, "Content-Type":
                                                         "application/x-www-form-urlencoded"}, form)
    if status not in (302, 303):
        raise RuntimeError(f"bench login failed: {status}")
    merged = dict(c.split("=", 1) for c in cookies.split("; ") if c)
    merged.update(dict(c.split("=", 1) for c in _cookies(headers).split("; ") if c))
    return "; ".join(f"{k}={v}" for k, v in merged.items())


def _cookies(headers) -> str:
    return "; ".join(v.split(";", 1)[0] for k, v in headers.items() if k.lower() == "set-cookie")


# --- load ----------------------------------------------------------------------------------------------

def _client(args):
    port, method, path, headers, body, seconds = args
    latencies, errors = [], 0
    conn = None
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            payload = body() if callable(body) else body
            sent = dict(headers(payload) if callable(headers) else headers)
            conn.request(method, path, body=payload, headers=sent)
            response = conn.getresponse()
            response.read()
            if response.status >= 400:
                errors += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            errors += 1
            conn = None
            continue
        latencies.append(time.perf_counter() - started)
    return latencies, errors


def load(port: int, path: str, *, seconds: float, connections: int, method: str = "GET",
         headers: dict | None = None, body=None) -> dict:
    """``connections`` client processes, each one request at a time, for ``seconds``: req/s, p50, p99."""
    payload = body() if callable(body) else body  # warm the worker with one request like the others
    request(port, method, path, headers(payload) if callable(headers) else headers, payload)
    with multiprocessing.get_context("fork").Pool(connections) as pool:
        started = time.perf_counter()
        parts = pool.map(_client, [(port, method, path, headers or {}, body, seconds)] * connections)
        elapsed = time.perf_counter() - started
    latencies = sorted(x for part, _ in parts for x in part)
    errors = sum(e for _, e in parts)
    if not latencies:
        return {"rps": 0.0, "p50_ms": None, "p99_ms": None, "requests": 0, "errors": errors}
    return {"rps": round(len(latencies) / elapsed, 1), "p50_ms": round(_pct(latencies, 50) * 1000, 1),
            "p99_ms": round(_pct(latencies, 99) * 1000, 1), "requests": len(latencies), "errors": errors}


def _pct(values: list[float], p: float) -> float:
    index = min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))
    return values[index]


# --- the rows ------------------------------------------------------------------------------------------

def sample_ids(url: str) -> dict:
    """A beneficiary with many entries (the profile and timeline rows) and a request for the letter row."""
    query = ("SELECT beneficiary_id, count(*) AS n FROM timeline_entry WHERE beneficiary_id IS NOT NULL "
             "GROUP BY beneficiary_id "
             "ORDER BY n DESC LIMIT 1")
    case_query = "SELECT reference FROM \"case\" ORDER BY id LIMIT 1"
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split(":///", 1)[1])
        ben, case = conn.execute(query).fetchone()[0], conn.execute(case_query).fetchone()[0]
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            ben, case = conn.execute(query).fetchone()[0], conn.execute(case_query).fetchone()[0]
    return {"beneficiary": ben, "case": case}


def webhook_body(i: int = 0) -> bytes:
    """One WhatsApp text message in the Cloud API's webhook shape, unique per call."""
    mid = "wamid.bench" + secrets.token_hex(12)
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "bench", "changes": [{"field": "messages",
               "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "966500000000",
                                                                       "phone_number_id": "bench"},
                         "contacts": [{"profile": {"name": "مستفيد"}, "wa_id": "966555000111"}],
                         "messages": [{"from": "966555000111", "id": mid, "timestamp": str(int(time.time())),
                                       "type": "text", "text": {"body": "السلام عليكم، متى موعد الصرف؟"}}]}}]}]}
    return json.dumps(payload, ensure_ascii=False).encode()


def webhook_headers(body: bytes) -> dict:
    signature = hmac.new(b"bench-app-secret", body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + signature}


def page_rows(ids: dict, cookie: str, token: str) -> list[tuple[str, str, dict]]:
    ben = ids["beneficiary"]
    staff = {"Cookie": cookie}
    api = {"Authorization": f"Bearer {token}"}
    htmx = dict(staff, **{"HX-Request": "true"})
    q1, q2 = urllib.parse.quote("محمد"), urllib.parse.quote("احمد")
    return [
        ("staff dashboard", "/", {"headers": staff}),
        ("beneficiary list", "/beneficiaries/", {"headers": staff}),
        ("profile with timeline", f"/beneficiaries/{ben}", {"headers": staff}),
        ("timeline page (20 entries)", f"/beneficiaries/{ben}/timeline", {"headers": htmx}),
        ("live name search محمد", f"/beneficiaries/?q={q1}", {"headers": htmx}),
        ("live name search احمد", f"/beneficiaries/?q={q2}", {"headers": htmx}),
        ("reports page (last month)", "/reports/?period=last_month", {"headers": staff}),
        ("API search", f"/api/v1/beneficiaries?q={q1}", {"headers": api}),
        ("API timeline", f"/api/v1/beneficiaries/{ben}/timeline", {"headers": api}),
        ("public home", "/site/", {"headers": {}}),
        ("public tracking form", "/site/track", {"headers": {}}),
        ("signed WhatsApp webhook", "/webhooks/meta", {"method": "POST", "body": webhook_body,
                                                        "headers": webhook_headers}),
    ]


def cdr_rows_per_second(env: dict, rows: int) -> dict:
    """Import an Asterisk Master.csv of ``rows`` calls (a tenth missed) through the CLI; rows/s."""
    import csv

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
        writer = csv.writer(f)
        start = dt.datetime(2026, 1, 1, 8, 0, 0)
        salt = secrets.randbelow(10 ** 6)
        for i in range(rows):
            at = start + dt.timedelta(seconds=37 * i)
            answered = i % 10 != 0
            caller = f"05{(salt + i) % 10 ** 8:08d}"
            writer.writerow(["", caller, "100", "from-pstn", f'"{caller}" <{caller}>', "SIP/trunk-1", "SIP/100-1",
                             "Dial", "SIP/100", at.isoformat(sep=" "),
                             at.isoformat(sep=" ") if answered else "", (at + dt.timedelta(seconds=90)).isoformat(sep=" "),
                             "90", "80" if answered else "0", "ANSWERED" if answered else "NO ANSWER",
                             "DOCUMENTATION", f"bench{salt}.{i}", ""])
        path = f.name
    try:
        out = portal(env, "phone", "import-cdr", path)
    finally:
        os.unlink(path)
    match = re.search(r"(\d+) row\(s\) in ([\d.]+) s", out)
    if not match:
        return {"note": out.strip()[:200]}
    count, seconds = int(match.group(1)), float(match.group(2))
    return {"rows": count, "seconds": seconds, "rows_per_s": round(count / seconds) if seconds else None}


def _national_id(n: int) -> str:
    """A valid Saudi national ID (1, eight digits, the Luhn check digit) for row ``n``."""
    body = f"1{n % 10 ** 8:08d}"
    total = 0
    for i, ch in enumerate(body):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def import_rows_per_second(env: dict, url: str, rows: int) -> dict:
    """Import a spreadsheet of ``rows`` beneficiaries with Arabic headers (mobiles in five formats, Gregorian
    and Hijri birth dates) through the CLI into a new, migrated database beside the benchmark one (a SQLite
    file, or a schema of the PostgreSQL database dropped afterwards), so the benchmark's data stays as built;
    rows/s as the CLI reports it."""
    import csv

    salt = secrets.randbelow(10 ** 6)
    formats = ("05{0}", "5{0}", "+9665{0}", "009665{0}", "9665{0}")
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(["الاسم", "رقم الهوية", "الجوال", "الجنس", "تاريخ الميلاد", "الفئة", "المدينة"])
        for i in range(rows):
            day = f"0{1 + i % 9}-1{i % 10}"
            birth = f"{1960 + i % 40}-{day}" if i % 3 else f"14{i % 20 + 10:02d}-{day}".replace("-", "/")
            writer.writerow([f"فاطمة محمد علي الزهراني {i}", _national_id(salt * 1000 + i),
                             formats[i % 5].format(f"{(salt + i) % 10 ** 8:08d}"), "أنثى" if i % 2 else "ذكر",
                             birth, "أرملة", "مكة المكرمة"])
        path = f.name
    schema = ""
    if url.startswith("sqlite"):
        target = tempfile.mkdtemp(prefix="sila-bench-import-")
        import_url = f"sqlite:///{target}/import.sqlite3"
    else:
        import psycopg

        target = ""
        schema = "bench_import_" + secrets.token_hex(4)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        import_url = url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    import_env = dict(env, PORTAL_DATABASE_URL=import_url)
    try:
        portal(import_env, "migrate")
        out = portal(import_env, "import", "beneficiaries", path)
    finally:
        os.unlink(path)
        if target:
            shutil.rmtree(target, ignore_errors=True)
        if schema:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    match = re.search(r"(\d+) rows in ([\d.]+) s \(([\d,]+) rows/s\)", out)
    created = re.search(r"(\d+) created", out)
    if not match or not created or int(created.group(1)) != rows:
        return {"note": out.strip()[-200:]}
    return {"rows": int(match.group(1)), "seconds": float(match.group(2)),
            "rows_per_s": int(match.group(3).replace(",", ""))}


def _scalar(url: str, sql: str):
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split(":///", 1)[1], timeout=30)
        try:
            return conn.execute(sql).fetchone()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()


def webhook_processing(env: dict, url: str, first_id: int, timeout: float) -> dict:
    """Run the worker (``portal worker``) over the webhook deliveries the load stored, until none is pending:
    how many were processed, how many needed a second attempt, and how many attempts failed on a lock."""
    where = f"id > {int(first_id)}"
    total = _scalar(url, f"SELECT count(*) FROM social_webhook_delivery WHERE {where}")[0]  # nosec B608
    worker = subprocess.Popen([PYTHON, "-m", "portal", "worker"], cwd=ROOT, env=env,  # nosec B603
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < timeout:
            pending = _scalar(url, f"SELECT count(*) FROM social_webhook_delivery WHERE {where} "  # nosec B608
                                   "AND state = 'pending'")[0]
            if not pending:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
    seconds = time.perf_counter() - started
    processed, retried, locked = _scalar(
        url, "SELECT sum(CASE WHEN state != 'pending' THEN 1 ELSE 0 END), "  # nosec B608
             "sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), "
             "sum(CASE WHEN lower(error) LIKE '%locked%' THEN 1 ELSE 0 END) "
             f"FROM social_webhook_delivery WHERE {where}")
    return {"stored": total, "processed": int(processed or 0), "retried": int(retried or 0),
            "lock_errors": int(locked or 0), "seconds": round(seconds, 1)}


LETTER_SCRIPT = r"""
import json, sys, time, weasyprint
from portal import create_app
from portal.db import database
app = create_app()
captured = []
with app.app_context(), database.connection_context():
    from plugins.letters import render, service
    original = render.html_to_pdf
    def capture(html):
        captured.append(html)
        return original(html)
    render.html_to_pdf = capture
    from portal.models import Case
    case = Case.get(Case.reference == sys.argv[1])
    template = service.template_by_key("acknowledgement")
    service.issue_letter(template=template, case=case)  # an issued letter's HTML: its number and QR codes
    html = captured[-1]
    fetcher = render._fetcher_allowing(render._allowed_urls())
    def bare():
        t = time.perf_counter(); weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
        return (time.perf_counter() - t) * 1000
    bare()  # the first one loads the fonts
    print(json.dumps({"template": template.key}), flush=True)
    for line in sys.stdin:  # one bare render for each line, between two letters through the API
        print(json.dumps({"bare_ms": bare()}), flush=True)
"""


def letter_row(port: int, env: dict, token: str, ids: dict, count: int) -> dict:
    """One letter through the API (POST, then the PDF), median of ``count``, against bare WeasyPrint on the
    HTML of the same template issued for the same request (with its number and its two QR codes; a preview has
    neither) in one warm process (its fonts and stylesheets already loaded after the first). The two
    take turns, one bare render after each letter, so a load that changes during the row moves both."""
    bare_proc = subprocess.Popen([PYTHON, "-c", LETTER_SCRIPT, ids["case"]], cwd=ROOT, env=env,  # nosec B603
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = bare_proc.stdout.readline()
        if not first:
            return {"note": "bare WeasyPrint run failed: " + bare_proc.stderr.read().strip().splitlines()[-1][:200]}
        template = json.loads(first)["template"]
        api = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        times, bare = [], []
        for _ in range(count):
            body = json.dumps({"template": template, "case": ids["case"]}).encode()
            started = time.perf_counter()
            status, _, data = request(port, "POST", "/api/v1/letters", api, body)
            if status != 201:
                return {"note": f"POST /api/v1/letters answered {status}: {data[:200]!r}", "template": template}
            number = json.loads(data)["number"]
            status, _, pdf = request(port, "GET", f"/api/v1/letters/{urllib.parse.quote(number)}.pdf", api)
            times.append(time.perf_counter() - started)
            bare_proc.stdin.write("go\n")
            bare_proc.stdin.flush()
            bare.append(json.loads(bare_proc.stdout.readline())["bare_ms"])
    finally:
        bare_proc.stdin.close()
        bare_proc.wait(30)
    median, bare_ms = statistics.median(times) * 1000, statistics.median(bare)
    return {"median_ms": round(median, 1), "template": template, "bare_ms": round(bare_ms, 1),
            "ratio": round(median / bare_ms, 2)}


BATCH_SCRIPT = r"""
import json, os, sys, time
from pathlib import Path
from portal import create_app
from portal.db import database

def tree_cpu():
    # CPU seconds of this process, of its children waited for, and of its living children with theirs (the
    # batch pool's processes are children of a fork server, which reaps them)
    times = os.times()
    total = times.user + times.system + times.children_user + times.children_system
    tick, me = os.sysconf("SC_CLK_TCK"), str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            total += sum(int(x) for x in fields[11:15]) / tick
    return total

app = create_app()
with app.app_context(), database.connection_context():
    from plugins.letters import service
    from plugins.letters.models import LetterBatch
    from portal.models import Case
    template = service.template_by_key("acknowledgement")
    ids = [i for (i,) in Case.select(Case.id).order_by(Case.id).limit(int(sys.argv[1])).tuples()]
    service.issue_letter(template=template, case=Case.get_by_id(ids[0]))  # a warm worker: fonts, templates
    batch = LetterBatch.create(template=template, case_ids=ids, total=len(ids))
    cpu, wall = tree_cpu(), time.perf_counter()
    service.run_batch(batch.id)
    wall = time.perf_counter() - wall
    time.sleep(0.5)  # let the fork server reap the pool's processes
    cpu = tree_cpu() - cpu
    batch = LetterBatch.get_by_id(batch.id)
    print(json.dumps({"letters": batch.done, "failed": batch.failed, "seconds": round(wall, 2),
                      "per_letter_s": round(wall / max(1, batch.done), 3), "cpu_s": round(cpu, 2),
                      "cores": round(cpu / wall, 2), "cpus": os.cpu_count()}))
"""


def batch_row(env: dict, count: int, cwd: Path = ROOT) -> dict:
    """A batch of ``count`` letters (``service.run_batch``, as the worker runs it) in a warm process: seconds
    per letter and the cores it used (CPU time of the process and its children over the wall time). ``cwd``
    may be another checkout of Sila, to measure its code on the same database."""
    script = subprocess.run([PYTHON, "-c", BATCH_SCRIPT, str(count)], cwd=cwd,  # nosec B603
                            env=dict(env, PYTHONPATH=str(cwd)), capture_output=True, text=True)
    if script.returncode:
        return {"note": "the batch run failed: " + script.stderr.strip().splitlines()[-1][:200]}
    return json.loads(script.stdout.strip().splitlines()[-1])


def export_row(server: "Server", cookie: str) -> dict:
    """The whole beneficiary list as XLSX (``/beneficiaries/export.xlsx``) from a running worker: the rows, the
    time, the file's size, and the workers' resident memory after it (the sheet is streamed through a temporary
    file, so it must not grow with the list)."""
    from openpyxl import load_workbook

    before = max(server.worker_rss_mb() or [0])
    started = time.perf_counter()
    status, _headers, body = request(server.port, "GET", "/beneficiaries/export.xlsx", {"Cookie": cookie})
    seconds = round(time.perf_counter() - started, 2)
    if status != 200:
        return {"note": f"the export answered {status}"}
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    rows = sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))
    after = max(server.worker_rss_mb() or [0])
    return {"export_rows": rows, "seconds": seconds, "file_mb": round(len(body) / 1e6, 1),
            "rss_before_mb": before, "rss_after_mb": after}


# --- the run -------------------------------------------------------------------------------------------

def versions(env: dict) -> dict:
    from importlib.metadata import version

    found = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
             **{name: version(name) for name in ("flask", "peewee", "weasyprint", "gunicorn")}}
    url = env["PORTAL_DATABASE_URL"]
    if not url.startswith("sqlite"):
        import psycopg

        with psycopg.connect(url) as conn:
            found["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    return found


def machine() -> dict:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpus": os.cpu_count(), "cpu": model, "platform": platform.platform(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="quick")
    parser.add_argument("--database-url", help="PostgreSQL URL (its public schema is replaced); SQLite if absent")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None, help="per row (quick: 3, full: 10)")
    parser.add_argument("--letters", type=int, default=None, help="letters for the median (quick: 5, full: 20)")
    parser.add_argument("--batch-letters", type=int, default=None, help="letters in the batch row (quick: 16, full: 40)")
    parser.add_argument("--cdr-rows", type=int, default=None, help="CDR rows to import (quick: 5,000, full: 100,000)")
    parser.add_argument("--import-rows", type=int, default=None,
                        help="beneficiaries to import (quick: 2,000, full: 20,000)")
    args = parser.parse_args(argv)
    quick = args.size == "quick"
    seconds = args.seconds or (3 if quick else 10)
    instance = Path(tempfile.mkdtemp(prefix="sila-bench-"))
    env, built = prepare(args.size, args.database_url, instance)
    url = env["PORTAL_DATABASE_URL"]
    rows, servers = [], []
    try:
        hello = Server("bench.floors:hello", env, args.workers)
        servers.append(hello)
        floor = load(hello.port, "/", seconds=seconds, connections=args.connections)
        rows.append({"work": "floor: Flask hello world", **floor, "floor_rps": floor["rps"], "ratio": 1.0})
        floor_env = dict(env, BENCH_FLOOR_DATABASE_URL=url)
        plain = Server("bench.floors:rows", floor_env, args.workers)
        servers.append(plain)
        rows.append({"work": "floor: peewee 200-row page", **load(plain.port, "/", seconds=seconds,
                                                                  connections=args.connections)})
        plain.stop()
        servers.remove(plain)

        username, token = bench_account(env)
        sila = Server("portal:create_app()", env, args.workers)
        servers.append(sila)
        cookie = login(sila.port, username)
        ids = sample_ids(url)
        first_delivery = (_scalar(url, "SELECT max(id) FROM social_webhook_delivery") or [0])[0] or 0
        for work, path, options in page_rows(ids, cookie, token):
            result = load(sila.port, path, seconds=seconds, connections=args.connections, **options)
            rows.append({"work": work, **result})
        rows.append({"work": "webhook deliveries processed by the worker",
                     **webhook_processing(env, url, first_delivery, timeout=120 if quick else 600)})
        rows.append({"work": "one letter via the API (POST + PDF)",
                     **letter_row(sila.port, env, token, ids, args.letters or (5 if quick else 20))})
        batch_size = args.batch_letters or (16 if quick else 40)
        rows.append({"work": f"batch of {batch_size} letters", **batch_row(env, batch_size)})
        rows.append({"work": "XLSX export of the beneficiary list", **export_row(sila, cookie)})
        rss = sila.worker_rss_mb()
        rows.append({"work": "worker memory after the runs (MB)", "rss_mb": rss})
        rows.append({"work": "CDR import (rows/s)", **cdr_rows_per_second(env, args.cdr_rows or (5_000 if quick
                                                                                               else 100_000))})
        rows.append({"work": "beneficiary import (rows/s)",
                     **import_rows_per_second(env, url, args.import_rows or (2_000 if quick else 20_000))})
        rows.append({"work": f"portal demo {SIZES[args.size][0]:,} / {SIZES[args.size][1]:,}",
                     "seconds": built.get("seconds"), "kept": built.get("kept")})
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(instance, ignore_errors=True)
    hello_rps = rows[0]["rps"] or None
    for row in rows:
        if "rps" in row and hello_rps:
            row["floor_rps"] = hello_rps
            row["ratio"] = round(row["rps"] / hello_rps, 4)
    report = {"size": args.size, "beneficiaries": SIZES[args.size][0], "entries": SIZES[args.size][1],
              "database": "postgresql" if args.database_url else "sqlite", "workers": args.workers,
              "connections": args.connections, "seconds_per_row": seconds,
              "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine(),
              "versions": versions(env), "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{report['when'].replace(':', '')}-{args.size}-{report['database']}-w{args.workers}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print_table(report)
    print(f"\nwritten to {out.relative_to(ROOT)}")
    failed = [r["work"] for r in rows if r.get("errors") or r.get("note")
              or ("processed" in r and r["processed"] < r["stored"])]
    if failed:
        print("rows with errors: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


def print_table(report: dict) -> None:
    print(f"\nSila benchmark: {report['size']} ({report['beneficiaries']:,} beneficiaries / "
          f"{report['entries']:,} entries), {report['database']}, {report['workers']} gunicorn workers, "
          f"{report['connections']} connections, {report['seconds_per_row']} s per row")
    print(f"{'work':<40} {'Sila':>14} {'floor':>10} {'ratio':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for row in report["rows"]:
        if "rps" in row:
            sila = f"{row['rps']:.1f} req/s"
            floor, ratio = f"{row.get('floor_rps', 0):.0f}", f"{row.get('ratio', 0):.4f}"
            p50, p99 = row["p50_ms"], row["p99_ms"]
            err = f"  ({row['errors']} errors)" if row.get("errors") else ""
            print(f"{row['work']:<40} {sila:>14} {floor:>10} {ratio:>8} {p50!s:>8} {p99!s:>8}{err}")
        elif "median_ms" in row:
            print(f"{row['work']:<40} {row['median_ms']:>11.1f} ms {row['bare_ms']:>7.1f} ms {row['ratio']:>7.2f}x")
        elif "per_letter_s" in row:
            print(f"{row['work']:<40} {row['per_letter_s']:>9.3f} s/letter on {row['cores']} of {row['cpus']} cores "
                  f"({row['letters']} letters in {row['seconds']} s, {row['failed']} not issued)")
        elif "export_rows" in row:
            print(f"{row['work']:<40} {row['export_rows']:,} rows in {row['seconds']} s, {row['file_mb']} MB; "
                  f"worker {row['rss_before_mb']} MB before, {row['rss_after_mb']} MB after")
        elif "rows_per_s" in row:
            print(f"{row['work']:<40} {row['rows_per_s']!s:>8} rows/s ({row['rows']:,} rows in {row['seconds']} s)")
        elif "processed" in row:
            print(f"{row['work']:<40} {row['processed']:,} of {row['stored']:,} in {row['seconds']} s; "
                  f"{row['retried']} needed a retry, {row['lock_errors']} attempts failed on a lock")
        elif "rss_mb" in row:
            print(f"{row['work']:<40} {', '.join(str(x) for x in row['rss_mb'])}")
        elif "seconds" in row:
            kept = " (kept from an earlier run)" if row.get("kept") else ""
            print(f"{row['work']:<40} {row['seconds']} s{kept}")
        else:
            print(f"{row['work']:<40} {row.get('note', '')}")


if __name__ == "__main__":
    sys.exit(main())
