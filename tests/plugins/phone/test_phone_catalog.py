"""The phone catalog is merged with the core's and the other plugins': shared strings keep one wording."""
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PO = "translations/ar/LC_MESSAGES/messages.po"


def _load(path):
    with open(path, "rb") as fh:
        return read_po(fh, locale="ar")


def test_strings_shared_with_the_core_and_other_plugins_keep_one_wording():
    mine = _load(ROOT / "plugins" / "phone" / PO)
    others = [("core", _load(ROOT / "portal" / PO))] + [
        (path.parts[-5], _load(path)) for path in sorted((ROOT / "plugins").glob(f"*/{PO}")) if "phone" not in path.parts
    ]
    differing = []
    for m in mine:
        if not m.id or not m.string:
            continue
        for name, catalog in others:
            theirs = catalog.get(m.id)
            if theirs is not None and theirs.string and theirs.string != m.string:
                differing.append((name, m.id, m.string, theirs.string))
    assert not differing
