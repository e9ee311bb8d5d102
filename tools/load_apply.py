"""Concurrent applicants on the public website against a real ``portal run`` server.

Each simulated applicant is a browser of its own (cookie jar, CSRF token, form stamp) that walks the public
apply steps as a person would: details, household, request (with its questions), one document upload,
declaration, review and send. Every applicant uses a fresh, valid national ID, so every completed walk must
end with exactly one request in the database.

    python tools/load_apply.py                       # 50 applicants for 60 s on a fresh SQLite instance
    python tools/load_apply.py --applicants 20 --applications 3
    python tools/load_apply.py --gunicorn 4                  # gunicorn (4 processes of 8 threads), not portal run
    python tools/load_apply.py --url http://127.0.0.1:5000   # an already running server (no DB check)

Without ``--url`` it makes a throwaway instance (default SQLite in a temporary folder, or
``--database-url``), migrates it, installs the default request types, starts ``portal run`` on a free port
(rate limits and the minimum fill time switched off: they are there to stop abuse, and this is a
deliberate flood), runs the load, stops the server and compares what the applicants were told with what
the database holds. The exit status is 0 only when every application sent got its request and no response
was a server error. ``tests/test_load.py`` runs it scaled down.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    import struct

    raw = b"".join(b"\x00" + b"\x00\x80\xff" * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def luhn_id(prefix9: str) -> str:
    """A valid Saudi-style 10-digit ID (Luhn check digit) starting with ``prefix9``."""
    digits = [int(d) for d in prefix9]
    total = 0
    for i, d in enumerate(digits):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return prefix9 + str((10 - total % 10) % 10)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: int = 0
    submitted: int = 0
    server_errors: int = 0
    failures: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    ids: list = field(default_factory=list)

    def status(self, code: int) -> None:
        with self.lock:
            self.statuses[code] = self.statuses.get(code, 0) + 1
            if code >= 500:
                self.server_errors += 1


class Applicant:
    """One browser: its own cookies; follows the steps and checks every answer."""

    def __init__(self, base: str, tally: Tally):
        self.base = base.rstrip("/")
        self.tally = tally
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(self, method: str, path: str, data: dict | None = None, files: dict | None = None):
        url = self.base + path
        headers = {"Accept-Language": "ar"}
        body = None
        if files:
            boundary = "----sila" + secrets.token_hex(12)
            parts = []
            for key, value in (data or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
                             .encode())
            for key, (name, content, ctype) in files.items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{name}"\r\n'
                             f"Content-Type: {ctype}\r\n\r\n".encode() + content + b"\r\n")
            parts.append(f"--{boundary}--\r\n".encode())
            body = b"".join(parts)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        # The origin check of CSRF protection on HTTPS is not in play on plain HTTP; a Referer keeps it honest.
        headers["Referer"] = url
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=120) as resp:
                code, text, location = resp.status, resp.read().decode("utf-8", "replace"), resp.headers.get("Location")
        except urllib.error.HTTPError as exc:
            code, text, location = exc.code, exc.read().decode("utf-8", "replace"), exc.headers.get("Location")
        self.tally.status(code)
        return code, text, location or ""

    @staticmethod
    def hidden(html: str, name: str) -> str:
        match = re.search(rf'name="{name}" value="([^"]*)"', html)
        if not match:
            raise AssertionError(f"no {name} in the page")
        return match.group(1)

    def expect(self, what: str, got: tuple, code: int, location_end: str | None = None):
        status, text, location = got
        if status != code or (location_end and not location.endswith(location_end)):
            fields = re.findall(r'id="e-(\w+)" class="error">([^<]*)<', text)
            snippet = "; ".join(f"{k}: {v}" for k, v in fields)
            snippet = snippet or re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))[:200]
            raise AssertionError(f"{what}: {status} {location} {snippet}")
        return text

    def apply(self, national_id: str, mobile: str) -> None:
        page = self.expect("form", self.request("GET", "/site/apply/applicant"), 200)
        csrf = self.hidden(page, "csrf_token")
        applicant = {
            "csrf_token": csrf, "form_stamp": self.hidden(page, "form_stamp"), "first_name": "نورة",
            "father_name": "خالد", "grandfather_name": "سالم", "family_name": "القرشي", "national_id": national_id,
            "mobile": mobile, "gender": "f", "birth_date": "1990-01-15", "city": "مكة المكرمة", "district": "الزاهر",
        }
        self.expect("applicant", self.request("POST", "/site/apply/applicant", applicant), 302, "/site/apply/household")
        household = {"csrf_token": csrf, "category": "widow", "housing": "rented", "monthly_income": "900",
                     "m0_name": "ريم", "m0_relation": "daughter", "m0_birth_date": "2014-02-01"}
        self.expect("household", self.request("POST", "/site/apply/household", household), 302, "/site/apply/request")
        chosen = self.expect("choose", self.request("POST", "/site/apply/request", {
            "csrf_token": csrf, "action": "choose", "request_type": "food_basket", "summary": ""}), 200)
        answers = {f"answer_{n}": "4" for n in re.findall(r'name="answer_(\d+)"', chosen)}
        self.expect("request", self.request("POST", "/site/apply/request", {
            "csrf_token": csrf, "request_type": "food_basket", "summary": "سلة غذائية شهرية للأسرة", **answers}),
            302, "/site/apply/documents")
        self.expect("documents", self.request(
            "POST", "/site/apply/documents", {"csrf_token": csrf},
            files={"doc_national_id": (f"id-{national_id}.png", png_bytes(8, 8 + int(national_id[-3:]) % 50),
                                       "image/png")}), 302, "/site/apply/declaration")
        self.expect("declaration", self.request("POST", "/site/apply/declaration", {
            "csrf_token": csrf, "accepted": "1", "consent": "1"}), 302, "/site/apply/review")
        with self.tally.lock:
            self.tally.started += 1
        self.expect("send", self.request("POST", "/site/apply/review", {"csrf_token": csrf, "action": "submit"}),
                    302, "/site/apply/done")
        with self.tally.lock:
            self.tally.submitted += 1
        self.expect("done", self.request("GET", "/site/apply/done"), 200)


def run_load(base: str, applicants: int, applications: int | None, seconds: float | None,
             id_prefix: int = 2) -> Tally:
    """``applicants`` threads, each sending ``applications`` applications or as many as fit in ``seconds``."""
    tally = Tally()
    counter = {"n": 0}
    counter_lock = threading.Lock()
    deadline = time.monotonic() + seconds if seconds else None

    def next_identity():
        with counter_lock:
            counter["n"] += 1
            n = counter["n"]
        # Fresh IDs per run: a random block of 10^5 in the 9-digit prefix space.
        return luhn_id(f"{id_prefix}{run_block:03d}{n:05d}"), f"055{(run_block * 100000 + n) % 10_000_000:07d}"

    run_block = secrets.randbelow(1000)

    def worker():
        done = 0
        while True:
            if applications is not None and done >= applications:
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            national_id, mobile = next_identity()
            with tally.lock:
                tally.ids.append(national_id)
            try:
                Applicant(base, tally).apply(national_id, mobile)
            except Exception as exc:  # noqa: BLE001  (every failure is counted and shown)
                with tally.lock:
                    tally.failures.append(f"{national_id}: {exc}")
            done += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(applicants)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


# ---------------------------------------------------------------- a throwaway instance behind `portal run`

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(instance: Path, database_url: str | None) -> dict:
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_RATELIMIT_ENABLED": "false",
        "PORTAL_WEBSITE_MIN_FILL_SECONDS": "0",
    })
    env.pop("FLASK_DEBUG", None)
    if database_url:
        env["PORTAL_DATABASE_URL"] = database_url
    else:
        env.pop("PORTAL_DATABASE_URL", None)
    return env


PORTAL = [sys.executable, "-c", "import sys; from portal.cli import main; sys.argv[0] = 'portal'; main()"]


def portal(env: dict, *args: str, **kwargs):
    return subprocess.run([*PORTAL, *args], env=env, cwd=str(ROOT), check=True,
                          capture_output=True, text=True, **kwargs)


class Server:
    """``portal run`` (werkzeug, threaded: one thread per connection) on a free port."""

    def __init__(self, env: dict, gunicorn_workers: int = 0):
        self.env = env
        self.gunicorn_workers = gunicorn_workers
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        if self.gunicorn_workers:
            command = [sys.executable, "-m", "gunicorn", "--workers", str(self.gunicorn_workers), "--threads", "8",
                       "--bind", f"127.0.0.1:{self.port}", "portal:create_app()"]
        else:
            command = [*PORTAL, "run", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            command,
            env=self.env, cwd=str(ROOT), stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError("portal run stopped:\n" + self.output())
            try:
                with urllib.request.urlopen(self.url + "/site", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                time.sleep(0.1)
        raise RuntimeError("portal run did not answer:\n" + self.output())

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def prepare_instance(env: dict) -> None:
    portal(env, "migrate")
    portal(env, "workflow", "defaults")


def count_requests(env: dict, national_ids: list[str]) -> dict:
    """Requests and beneficiaries in the database for these IDs (through the app's own models)."""
    code = (
        "import json, sys\n"
        "from portal import create_app\n"
        "from portal.db import database\n"
        "from portal.models import Beneficiary, Case\n"
        "ids = json.load(sys.stdin)\n"
        "app = create_app()\n"
        "with app.app_context(), database.connection_context():\n"
        "    per_id = {}\n"
        "    q = Case.select(Beneficiary.national_id).join(Beneficiary).where(Case.channel == 'website')\n"
        "    for (nid,) in q.tuples():\n"
        "        per_id[nid] = per_id.get(nid, 0) + 1\n"
        "    known = Beneficiary.select().where(Beneficiary.national_id.in_(ids)).count()\n"
        "    print(json.dumps({'requests': sum(per_id.values()), 'ids': per_id, 'beneficiaries': known}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(national_ids), env=env, cwd=str(ROOT),
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def check(tally: Tally, stored: dict | None) -> list[str]:
    """What went wrong, as sentences (empty: nothing was lost)."""
    problems = []
    if tally.server_errors:
        problems.append(f"{tally.server_errors} server error(s) (5xx)")
    if tally.failures:
        problems.append(f"{len(tally.failures)} applicant walk(s) failed")
    if stored is not None:
        if stored["requests"] != tally.submitted:
            problems.append(f"{tally.submitted} applications confirmed but {stored['requests']} requests stored")
        doubled = [nid for nid, n in stored["ids"].items() if n != 1]
        if doubled:
            problems.append(f"{len(doubled)} ID(s) with more than one request")
        confirmed_missing = tally.submitted - len(stored["ids"])
        if confirmed_missing > 0:
            problems.append(f"{confirmed_missing} confirmed application(s) without a request")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=50, help="concurrent applicants (threads)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they keep applying")
    parser.add_argument("--applications", type=int, default=None,
                        help="applications per applicant instead of a duration")
    parser.add_argument("--url", default=None, help="an already running server (no database check)")
    parser.add_argument("--database-url", default=None, help="database of the throwaway instance (default SQLite)")
    parser.add_argument("--gunicorn", type=int, default=0, metavar="N",
                        help="serve with gunicorn, N worker processes of 8 threads, instead of portal run")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    seconds = None if args.applications else args.seconds

    started = time.monotonic()
    stored = None
    server_log = ""
    if args.url:
        tally = run_load(args.url, args.applicants, args.applications, seconds)
    else:
        with tempfile.TemporaryDirectory(prefix="sila-load-") as tmp:
            env = server_env(Path(tmp) / "instance", args.database_url)
            prepare_instance(env)
            with Server(env, args.gunicorn) as server:
                tally = run_load(server.url, args.applicants, args.applications, seconds)
                server_log = server.output()
            stored = count_requests(env, tally.ids)
    elapsed = time.monotonic() - started
    problems = check(tally, stored)
    result = {
        "applicants": args.applicants, "seconds": round(elapsed, 1), "started": len(tally.ids),
        "submitted": tally.submitted, "stored": stored["requests"] if stored else None,
        "server_errors": tally.server_errors, "failures": len(tally.failures), "statuses": tally.statuses,
        "problems": problems,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.applicants} concurrent applicants, {elapsed:.0f} s: {len(tally.ids)} applications started, "
              f"{tally.submitted} sent and confirmed, "
              f"{stored['requests'] if stored else '?'} requests stored, {tally.server_errors} server errors.")
        print("HTTP statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items())))
        for line in tally.failures[:10]:
            print("  " + line)
        if problems:
            print("LOST OR BROKEN: " + "; ".join(problems))
            locked = server_log.count("database is locked")
            if locked:
                print(f"  the server log mentions 'database is locked' {locked} time(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
