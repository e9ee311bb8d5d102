"""Fetch pinned front-end files from the npm registry and compile message catalogs.

Used by the build hook (``hatch_build.py``) so that ``pip install .`` and editable installs
both end with ``portal/static/vendor/htmx.min.js`` and compiled ``.mo`` files; ``make run`` and
``make test`` (CI) also fetch axe-core for the browser tests into ``tests/browser/vendor/`` (a pin with a
``dest``, left out of the wheel's build). Nothing fetched here is committed to the repository.
"""
from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = ROOT / "portal" / "static" / "vendor"

# Integrity strings as published by the registry for each pinned version.
INTEGRITY = {
    ("htmx.org", "2.0.10"): "sha512-kdeJe7ZVwaS6QMz/ebBIVtZdpwen6L0OQ5GOhPV9MKBb196TCZeZu4yA7ZIQsaLKv7EpXz+So7KSXNuHXhj7Cw==",
    ("axe-core", "4.14.1"): "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
}


def _pins() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["portal"]["vendor"]


def _check_integrity(data: bytes, integrity: str) -> None:
    algo, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"integrity check failed for downloaded package ({algo})")


def fetch_vendor(app_only: bool = False) -> None:
    """Fetch every pinned file; ``app_only``: only those the application serves (the wheel's build)."""
    for name, pin in _pins().items():
        if app_only and pin.get("dest"):
            continue
        # ``dest``: a folder of the repository for files that are not served (the tests' axe-core).
        folder = ROOT / pin["dest"] if pin.get("dest") else VENDOR_DIR
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(pin["file"]).name
        stamp = folder / f".{name}.version"
        if target.exists() and stamp.exists() and stamp.read_text().strip() == pin["version"]:
            continue
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(
                f"npm is needed once at install time to fetch {pin['package']}@{pin['version']} "
                "from the npm registry (apt-get install npm)."
            )
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [npm, "pack", f"{pin['package']}@{pin['version']}", "--silent", "--pack-destination", tmp],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            tarball = next(Path(tmp).glob("*.tgz"))
            data = tarball.read_bytes()
        _check_integrity(data, INTEGRITY[(pin["package"], pin["version"])])
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            member = tar.getmember("package/" + pin["file"])
            target.write_bytes(tar.extractfile(member).read())
        stamp.write_text(pin["version"])


def compile_catalogs() -> None:
    """Compile every ``messages.po`` of the core and the plugins into ``messages.mo`` beside it.

    Fuzzy entries are left out (they show in English until someone confirms them). A translation whose
    placeholders do not match its msgid would fail at run time, so it stops the build with the reason.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    problems = []
    for po_path in sorted(ROOT.glob("portal/translations/*/LC_MESSAGES/*.po")) + sorted(
        ROOT.glob("plugins/*/translations/*/LC_MESSAGES/*.po")
    ):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with open(po_path, "rb") as fh:
            # The locale from the path gives the right plural forms when a hand-written .po has no header.
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        errors = [(message, err) for message, errs in catalog.check() for err in errs]
        if errors:
            rel = po_path.relative_to(ROOT)
            problems.extend(f"{rel}:{message.lineno}: {err} (msgid {message.id!r})" for message, err in errors)
            continue
        with open(mo_path, "wb") as fh:
            write_mo(fh, catalog)
    if problems:
        raise SystemExit("Message catalogs with errors:\n  " + "\n  ".join(problems))


def main(catalogs_only: bool = False, app_only: bool = False) -> None:
    if not catalogs_only:
        fetch_vendor(app_only=app_only)
    compile_catalogs()


if __name__ == "__main__":
    # ``--catalogs-only``: compile the .po files without touching the front-end files (``make catalogs``).
    sys.exit(main(catalogs_only="--catalogs-only" in sys.argv[1:]))
