"""No import loop inside the core (``portal/``) or inside any plugin: the module graph, built from every
``import`` (top level and inside functions alike, so a loop cannot hide in a function), has no cycle.

A submodule importing its own package (``from portal import hookimpl``, ``from . import graph``) is not an
edge to the package: Python imports a package before any of its submodules anyway."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [ROOT / "portal"] + sorted(p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists())


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path, root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (migrations left out: they are loaded by path)."""
    files = {module_name(p, root): p for p in package.rglob("*.py") if "migrations" not in p.parts}
    graph = {}
    for name, path in files.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here[:len(here) - node.level + 1] + [node.module or ""]).strip(".") if node.level \
                    else node.module
                for alias in node.names:  # ``from pkg import sub`` imports the submodule ``pkg.sub``
                    targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base)
        graph[name] = {t for t in targets if t in files and t != name and not name.startswith(t + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_no_import_cycle(package):
    cycle = find_cycle(import_graph(package, ROOT))
    assert cycle is None, "import loop: " + " -> ".join(cycle)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_planted_loop_is_found_even_inside_a_function(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "from .views import bp\n",
        "pkg/views.py": "from . import models\nbp = None\n",
        "pkg/models.py": "def later():\n    from pkg.views import bp\n    return bp\n",
        "pkg/migrations/0001.py": "from pkg import views\n",
    })
    cycle = find_cycle(import_graph(tmp_path / "pkg", tmp_path))
    assert cycle == ["pkg.views", "pkg.models", "pkg.views"]


def test_importing_the_own_package_or_a_sibling_is_not_a_loop(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "def create():\n    from . import views\n    return views\nhook = 1\n",
        "pkg/views.py": "from pkg import hook\nfrom . import models\nfrom .sub import deep\n",
        "pkg/models.py": "import json\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/deep.py": "from .. import models\nfrom ..models import json\n",
    })
    graph = import_graph(tmp_path / "pkg", tmp_path)
    assert graph["pkg.views"] == {"pkg.models", "pkg.sub.deep"}
    assert graph["pkg.sub.deep"] == {"pkg.models"}
    assert find_cycle(graph) is None
