"""Work that runs by itself: the worker's heartbeat, the staff banner when jobs wait unprocessed, the admin's
health panel, the daily outreach selection once per Saudi day, and `portal run` running the worker."""
from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import text_of

from portal import health
from portal.db import database, utcnow
from portal.models import JobState

ROOT = Path(__file__).resolve().parent.parent


def _state(app, name):
    with app.app_context(), database.connection_context():
        return JobState.get_or_none(JobState.name == name)


def test_heartbeat_task_records_the_worker(app):
    with app.app_context(), database.connection_context():
        assert health.health().last_beat is None
        assert not health.health().worker_alive
        before = utcnow()
        health.heartbeat()  # the periodic task, run inline (HUEY_IMMEDIATE)
        state = health.health()
        assert state.last_beat is not None and state.last_beat >= before
        assert state.worker_alive
        health.beat(now=utcnow() - dt.timedelta(minutes=6))  # older than PORTAL_WORKER_STALE_MINUTES (5)
        assert not health.health().worker_alive
        assert JobState.select().where(JobState.name == "worker").count() == 1  # replaced, never a second row


@pytest.fixture
def waiting(monkeypatch):
    """Pretend tasks wait in the queue (the tests run tasks inline, so the real queue stays empty)."""
    box = {"n": 3}
    monkeypatch.setattr(health.huey, "pending_count", lambda: box["n"])
    return box


def test_banner_when_tasks_wait_and_no_heartbeat(app, auth, client, waiting):
    auth.login("officer")
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="jobs-stalled"' in html and 'role="alert"' in html
    assert "Tell the administrator" in html or "أبلغ" in text_of(page)
    assert "/admin/health" not in html  # officers cannot open the health page: no link to it

    with app.app_context(), database.connection_context():
        health.beat(now=utcnow() - dt.timedelta(minutes=30))
    assert 'id="jobs-stalled"' in client.get("/beneficiaries/").get_data(as_text=True)  # a stale beat: still shown

    with app.app_context(), database.connection_context():
        health.beat()
    assert 'id="jobs-stalled"' not in client.get("/").get_data(as_text=True)  # the worker is back


def test_no_banner_when_nothing_waits(app, auth, client, waiting):
    waiting["n"] = 0
    auth.login("officer")
    assert 'id="jobs-stalled"' not in client.get("/").get_data(as_text=True)  # no worker, but nothing waits


def test_admin_banner_links_to_health_and_panel_shows_state(app, auth, client, waiting):
    auth.login("admin")
    assert 'href="/admin/health"' in client.get("/beneficiaries/").get_data(as_text=True)
    page = client.get("/admin/health?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="jobs-stalled"' not in html  # the panel says it in full
    assert "Jobs are not being processed" in html
    assert re.search(r'id="health-pending"><bdi>3</bdi>', html)
    assert re.search(r'id="health-beat">never', html)

    with app.app_context(), database.connection_context():
        health.beat()
        health.record(health.DAILY, day=dt.date(2026, 11, 30), data={"follow_up": 4, "escalated": 1})
    html = client.get("/admin/health?lang=en").get_data(as_text=True)
    assert "The worker is running." in html
    assert "Follow-up due: <bdi>4</bdi>" in html
    assert "escalated to the managers: <bdi>1</bdi>" in html


def test_unreadable_queue_is_said_not_hidden(app, auth, client, monkeypatch):
    def broken():
        raise ConnectionError("redis is down")

    monkeypatch.setattr(health.huey, "pending_count", broken)
    auth.login("admin")
    page = client.get("/admin/health?lang=en")
    assert page.status_code == 200
    assert "the queue cannot be read" in page.get_data(as_text=True)
    assert client.get("/").status_code == 200  # no banner, no error page


def test_probe_is_queued_and_recorded(app, auth, client):
    auth.login("admin")
    response = client.post("/admin/health/probe")
    assert response.status_code == 302
    assert _state(app, "probe") is not None  # run inline by the test queue
    assert 'id="health-probe">never' not in client.get("/admin/health").get_data(as_text=True)


def test_daily_selection_runs_once_per_saudi_day(app):
    calls = []

    def run(now):
        calls.append(now)
        return {"follow_up": len(calls)}

    evening = dt.datetime(2026, 11, 30, 20, 30)  # 23:30 in Riyadh, 30 November
    with app.app_context(), database.connection_context():
        assert health.daily_due(evening)
        assert health.run_daily_once(run, evening) == {"follow_up": 1}
        assert health.run_daily_once(run, evening + dt.timedelta(minutes=20)) is None  # 23:50: same day
        assert not health.daily_due(evening)
        after_midnight = evening + dt.timedelta(hours=1)  # 00:30 in Riyadh, 1 December
        assert health.daily_due(after_midnight)
        assert health.run_daily_once(run, after_midnight) == {"follow_up": 2}
        row = JobState.get(JobState.name == "daily")
        assert row.day == dt.date(2026, 12, 1) and row.data == {"follow_up": 2}
    assert len(calls) == 2


def test_worker_start_runs_todays_outreach_once(app, users, make_beneficiary):
    from portal.models import Beneficiary
    from portal.workflow.models import OutreachTask

    ben_id = make_beneficiary()
    with app.app_context(), database.connection_context():
        soon = (utcnow() + dt.timedelta(days=10)).date()
        Beneficiary.update(id_expiry=soon).where(Beneficiary.id == ben_id).execute()
    health.on_worker_start(app)  # beat, then the catch-up task (inline here)
    with app.app_context(), database.connection_context():
        assert OutreachTask.select().where(OutreachTask.kind == "id_expiring").count() == 1
        first = JobState.get(JobState.name == "daily")
        assert first.data["id_expiring"] == 1
        assert health.health().worker_alive
    health.on_worker_start(app)  # a second start the same day: not run again
    with app.app_context(), database.connection_context():
        assert JobState.get(JobState.name == "daily").at == first.at


def test_outreach_command_records_the_run(app, runner):
    result = runner.invoke(args=["outreach", "run"])
    assert result.exit_code == 0, result.output
    assert _state(app, "daily") is not None
    with app.app_context(), database.connection_context():
        assert not health.daily_due()


# --- `portal run` with the worker: a real server and worker on a fresh instance ---------------------

def _wait_for(check, what: str, proc, log: Path, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(f"portal run stopped while waiting for {what}:\n{log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")


def test_portal_run_processes_queued_tasks_and_stops_the_worker(tmp_path):
    import socket

    from portal import create_app
    from portal.db import migrate

    instance = tmp_path / "instance"
    instance.mkdir()
    db_url = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update({"PORTAL_INSTANCE_PATH": str(instance), "PORTAL_DATABASE_URL": db_url,
                "PORTAL_SECRET_KEY": "a-test-secret-key-0123456789abcdef", "PYTHONPATH": str(ROOT)})
    # The test process shares the instance's queue (instance/jobs.sqlite3) and database with the server.
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    try:
        app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": env["PORTAL_SECRET_KEY"], "HUEY_IMMEDIATE": False})
    finally:
        del os.environ["PORTAL_INSTANCE_PATH"]
    with app.app_context(), database.connection_context():
        migrate(app.extensions["portal_pm"])
        health.probe("before-start")  # queued: nothing runs it yet
        assert health.pending_jobs() == 1
        assert JobState.get_or_none(JobState.name == "probe") is None

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "portal", "run", "--port", str(port)], env=env, cwd=str(ROOT),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def answers():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    return r.status == 200
            except (urllib.error.URLError, ConnectionError, OSError):
                return False

        _wait_for(answers, "the server", proc, log)
        worker_pid = int(_wait_for(lambda: re.search(r"Job worker started \(process (\d+)\)", log.read_text()),
                                   "the worker", proc, log).group(1))

        def probe_done():
            with app.app_context(), database.connection_context():
                return JobState.get_or_none(JobState.name == "probe")

        row = _wait_for(probe_done, "the queued task", proc, log)
        assert row.data == {"asked_at": "before-start"}
        with app.app_context(), database.connection_context():
            _wait_for(lambda: _fresh_daily(), "the day's outreach selection", proc, log)
            assert health.health().worker_alive
        _wait_for(lambda: health.pending_jobs() == 0, "an empty queue", proc, log)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C in the terminal: the whole foreground group
        proc.wait(timeout=60)
    assert "Job worker stopped" in log.read_text()
    _wait_for(lambda: not _alive(worker_pid), "the worker to exit", proc=_Done(), log=log, seconds=30)


def _fresh_daily():
    row = JobState.get_or_none(JobState.name == "daily")
    return row is not None and not health.daily_due()


class _Done:
    def poll(self):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie (exited, not yet reaped) is not running
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_portal_run_starts_the_worker_unless_told_not_to(app, monkeypatch):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo, run_command

    from portal import cli

    started, served, stopped = [], [], []
    monkeypatch.setattr(cli, "start_worker", lambda n: started.append(n) or _FakeProc())
    monkeypatch.setattr(cli, "stop_worker", lambda proc: stopped.append(proc) or 0)
    monkeypatch.setattr(run_command, "callback", lambda **kw: served.append(kw))
    before = signal.getsignal(signal.SIGTERM)
    info = ScriptInfo(create_app=lambda: app)
    result = CliRunner().invoke(cli.main, ["run", "--without-worker"], obj=info)
    assert result.exit_code == 0, result.output
    assert started == [] and len(served) == 1 and stopped == []
    result = CliRunner().invoke(cli.main, ["run", "--worker-threads", "3"], obj=info)
    assert result.exit_code == 0, result.output
    assert started == [3] and len(served) == 2 and len(stopped) == 1  # stopped when the server returned
    assert signal.getsignal(signal.SIGTERM) == before  # the SIGTERM handler is given back


class _FakeProc:
    pid = 4242
