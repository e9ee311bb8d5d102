"""Registry numbers under concurrency: two processes issuing at once never share a number, on SQLite
and on PostgreSQL (whichever the suite runs on)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from portal.db import database

WORKER = textwrap.dedent("""
    import json, sys
    from portal import create_app
    from portal.db import database
    config, count = json.loads(sys.argv[1]), int(sys.argv[2])
    app = create_app(config)
    with app.app_context(), database.connection_context():
        from plugins.letters import service
        template = service.template_by_key("general")
        for _ in range(count):
            letter = service.issue_letter(template=template, recipient="جهة حكومية",
                                          extra={"subject_text": "إفادة", "body_text": "نص الخطاب."})
            print(letter.number, flush=True)
""")


def test_two_processes_never_share_a_number(app, app_config, tmp_path):
    from plugins.letters.models import Letter

    config = {k: v for k, v in app_config.items() if isinstance(v, (str, int, bool))}
    count = 6
    env = dict(os.environ, PORTAL_INSTANCE_PATH=str(tmp_path / "worker-instance"))
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(config), str(count)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for _ in range(2)]
    outputs = []
    for proc in workers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        outputs.append(out.split())
    numbers = outputs[0] + outputs[1]
    assert len(numbers) == 2 * count and len(set(numbers)) == 2 * count
    with app.app_context(), database.connection_context():
        rows = list(Letter.select().order_by(Letter.sequence))
        assert [r.sequence for r in rows] == list(range(1, 2 * count + 1))  # gap-free
        assert {r.status for r in rows} == {"valid"}  # numbered, drawn outside the lock, then made valid
        assert sorted(r.number for r in rows) == sorted(numbers)
        assert len({r.pdf_sha256 for r in rows}) == 2 * count  # each PDF carries its own number


TOKEN_WORKER = textwrap.dedent("""
    import json, sys
    from portal import create_app
    from portal.db import database
    config, token = json.loads(sys.argv[1]), sys.argv[2]
    app = create_app(config)
    with app.app_context(), database.connection_context():
        from plugins.letters import service
        template = service.template_by_key("general")
        letter = service.issue_letter(template=template, recipient="جهة حكومية", token=token,
                                      extra={"subject_text": "إفادة", "body_text": "نص الخطاب."})
        print(letter.number, flush=True)
""")


def test_the_same_form_sent_by_three_processes_at_once_issues_one_letter(app, app_config, tmp_path):
    """A double submission that reaches two workers: one letter, one number, the same answer to each."""
    from plugins.letters.models import Letter
    from portal.models import Counter

    config = {k: v for k, v in app_config.items() if isinstance(v, (str, int, bool))}
    env = dict(os.environ, PORTAL_INSTANCE_PATH=str(tmp_path / "worker-instance"))
    workers = [subprocess.Popen([sys.executable, "-c", TOKEN_WORKER, json.dumps(config), "same-form-token-0123456"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for _ in range(3)]
    numbers = []
    for proc in workers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        numbers.extend(out.split())
    assert len(numbers) == 3 and len(set(numbers)) == 1
    with app.app_context(), database.connection_context():
        assert [r.number for r in Letter.select()] == numbers[:1]
        assert [v for (v,) in Counter.select(Counter.value).where(Counter.name.startswith("letters_out")).tuples()] == [1]
