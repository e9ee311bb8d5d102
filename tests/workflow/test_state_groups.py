"""The groups of case states live in ``portal/workflow/machine.py`` only: they are consistent with the state
machine, and no other module or template spells a list of states of its own."""
from __future__ import annotations

import re
from pathlib import Path

from portal.workflow import machine

ROOT = Path(__file__).resolve().parent.parent.parent
GROUPS = {name: value for name, value in vars(machine).items() if name.endswith("_STATUSES") and name != "STATUSES"}
# Two quoted case states side by side ("submitted", "incomplete"): the start of a list of states.
STATE_PAIR = re.compile(r"""(["'])({states})\1\s*,\s*(["'])({states})\3""".format(states="|".join(machine.STATUSES)))


def test_every_group_holds_known_states_once():
    assert GROUPS
    for name, states in GROUPS.items():
        assert set(states) <= set(machine.STATUSES), name
        assert len(set(states)) == len(states), name


def test_groups_agree_with_the_state_machine():
    assert machine.TRANSITIONS["withdraw"][0] == machine.OPEN_STATUSES
    assert set(machine.IN_PROGRESS_STATUSES) == set(machine.OPEN_STATUSES) - {"draft"}
    assert set(machine.AWAITING_REPLY_STATUSES) == set(machine.UNDECIDED_STATUSES) - {"draft"}
    assert set(machine.BEFORE_COMMITTEE_STATUSES) < set(machine.UNDECIDED_STATUSES)
    assert not set(machine.UNDECIDED_STATUSES) & set(machine.DECIDED_STATUSES)
    assert set(machine.UNDECIDED_STATUSES) | set(machine.DECIDED_STATUSES) | set(machine.FINAL_STATUSES) \
        == set(machine.STATUSES)
    assert set(machine.SUBMITTED_STATUSES) == set(machine.STATUSES) - {"draft", *machine.FINAL_STATUSES}


def state_lists(root: Path) -> list[str]:
    """Lines of ``root``'s Python and HTML files (migrations and machine.py aside) that list case states."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".html") or "migrations" in path.parts or path.name == "machine.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            if STATE_PAIR.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_no_list_of_states_outside_the_machine():
    found = [line for folder in ("portal", "plugins", "templates") for line in state_lists(ROOT / folder)]
    assert not found, "use a group of portal/workflow/machine.py:\n" + "\n".join(found)


def test_a_planted_list_of_states_is_found(tmp_path):
    (tmp_path / "views.py").write_text('OPEN = ("submitted", "in_research")\nok = status == "draft"\n')
    (tmp_path / "page.html").write_text("{% if case.status in ['approved', 'registered'] %}{% endif %}\n")
    (tmp_path / "machine.py").write_text('GROUP = ("approved", "registered")\n')
    assert state_lists(tmp_path) == ["page.html:1: {% if case.status in ['approved', 'registered'] %}{% endif %}",
                                     'views.py:1: OPEN = ("submitted", "in_research")']
