"""PDFs written by hand for upload tests: a clean one-page document and the means to craft hostile ones
(escaped names, padding, object streams). Each builder writes a correct cross-reference, so pypdf reads
the file the way a viewer would."""
from __future__ import annotations

import zlib

PAGE_OBJECTS = {
    1: b"<</Type/Catalog/Pages 2 0 R>>",
    2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
    3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
}


def build_pdf(objects: dict[int, bytes] | None = None, *, padding: bytes = b"", version: bytes = b"1.7") -> bytes:
    """A PDF with a classic cross-reference table. ``objects`` are merged over the one-page document
    (object 1 is the catalog); ``padding`` is written before the objects (a comment-free filler stream
    in object 90 when given, so the file stays valid)."""
    objects = {**PAGE_OBJECTS, **(objects or {})}
    if padding:
        objects[90] = b"<</Length %d>>stream\n" % len(padding) + padding + b"\nendstream"
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects, key=lambda n: (n != 90, n)):  # the padding first: what follows is far in
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        if number in offsets:
            out += b"%010d 00000 n \n" % offsets[number]
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def build_pdf_with_object_stream(compressed: dict[int, bytes], objects: dict[int, bytes] | None = None) -> bytes:
    """A PDF 1.5 whose ``compressed`` objects live inside a Flate-compressed object stream (object 20),
    indexed by a cross-reference stream (object 21): their names never appear in the file's bytes."""
    objects = {**PAGE_OBJECTS, **(objects or {})}
    numbers = sorted(compressed)
    header, body = b"", b""
    for number in numbers:
        header += b"%d %d " % (number, len(body))
        body += compressed[number] + b" "
    packed = zlib.compress(header + body)
    objects[20] = (b"<</Type/ObjStm/N %d/First %d/Filter/FlateDecode/Length %d>>stream\n"
                   % (len(numbers), len(header), len(packed)) + packed + b"\nendstream")
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max([*objects, *numbers, 21]) + 1
    rows = bytearray()
    xref_at = len(out)
    for number in range(size):
        if number in offsets:
            rows += bytes([1]) + offsets[number].to_bytes(4, "big") + bytes([0])
        elif number in compressed:
            rows += bytes([2]) + (20).to_bytes(4, "big") + bytes([numbers.index(number)])
        elif number == 21:
            rows += bytes([1]) + xref_at.to_bytes(4, "big") + bytes([0])
        else:
            rows += bytes([0]) + (0).to_bytes(4, "big") + bytes([255])
    out += (b"21 0 obj\n<</Type/XRef/Size %d/W[1 4 1]/Root 1 0 R/Length %d>>stream\n" % (size, len(rows))
            + bytes(rows) + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


MINIMAL_PDF = build_pdf()
