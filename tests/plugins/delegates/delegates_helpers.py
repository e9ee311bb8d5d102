"""Small helpers shared by the delegates tests."""
import io
import uuid

from conftest import rows, text_of  # noqa: F401  (tests/conftest.py)


def count(app, model, *where) -> int:
    return len(rows(app, model, *where))


def new_id() -> str:
    return str(uuid.uuid4())


def visit_form(**extra):
    data = {"client_id": new_id(), "household_seen": "الأم وأربعة أبناء", "needs": "سقف المنزل يحتاج إلى ترميم"}
    data.update(extra)
    return data


def png_bytes(size=(8, 8)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return out.getvalue()
