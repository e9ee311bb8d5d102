"""Small real sound and video files for the upload checks (``media_samples/``, made with ffmpeg: one
second of a tone, a small test picture), and an AMR file written from its format (RFC 4867 section 5:
the magic line, then 50 frames of 12.2 kbit/s)."""
from pathlib import Path

MEDIA = Path(__file__).parent / "media_samples"
AMR = b"#!AMR\n" + (bytes([0x3C]) + bytes(range(31))) * 50


def sample(name: str) -> bytes:
    return (MEDIA / name).read_bytes()
