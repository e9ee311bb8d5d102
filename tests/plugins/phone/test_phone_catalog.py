"""Every English message of the phone plugin has its Arabic translation."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PLUGIN = Path(__file__).resolve().parents[3] / "plugins" / "phone"


def test_arabic_catalog_is_complete():
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PLUGIN),
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}},
        keywords={"_": None, "_l": None, "gettext": None, "lazy_gettext": None},
    ):
        found.add(message if isinstance(message, str) else message[0])
    with open(PLUGIN / "translations" / "ar" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string}
    assert len(found) > 100
    missing = sorted(found - translated)
    assert not missing, f"add Arabic for: {missing}"
