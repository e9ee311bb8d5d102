"""Every string of the social plugin (code and templates) has an Arabic translation."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PLUGIN = Path(__file__).resolve().parents[3] / "plugins" / "social"


def test_arabic_catalog_is_complete():
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    used = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(PLUGIN), method_map):
        used.add(message if isinstance(message, str) else message[0])
    with open(PLUGIN / "translations" / "ar" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"untranslated: {missing}"
    assert len(used) > 50


def test_strings_shared_with_the_core_keep_the_core_wording():
    """Catalogs are merged: a different translation here would change the core's screens."""
    core_po = PLUGIN.parents[1] / "portal" / "translations" / "ar" / "LC_MESSAGES" / "messages.po"
    with open(core_po, "rb") as fh:
        core = read_po(fh)
    with open(PLUGIN / "translations" / "ar" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        mine = read_po(fh)
    differing = [m.id for m in mine if m.id and core.get(m.id) and core.get(m.id).string
                 and core.get(m.id).string != m.string]
    assert not differing
