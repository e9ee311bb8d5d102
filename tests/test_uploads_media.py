"""Sound and video in the shared upload service: each container is recognised by its content and walked
whole (OGG pages, AMR frames, MP4 boxes, MPEG and ADTS frames); a file that only starts like one is
refused; per-kind limits; sound is accepted only where a caller allows it."""
from __future__ import annotations

import io

import pytest
from media_samples import AMR, sample
from pdf_samples import MINIMAL_PDF
from werkzeug.datastructures import FileStorage

from portal.uploads import AUDIO_KINDS, MEDIA_LIMITS, UploadError, sniff, store_upload

MEDIA = AUDIO_KINDS + ("webp", "jpeg", "png")


def store(app, data: bytes, name: str = "upload", allowed=MEDIA, **kw):
    with app.test_request_context():
        return store_upload(FileStorage(io.BytesIO(data), filename=name), allowed=allowed, **kw)


@pytest.mark.parametrize("name,kind,ctype", [
    ("voice.ogg", "ogg", "audio/ogg"), ("audio.m4a", "mp4", "audio/mp4"), ("audio.mp3", "mpeg", "audio/mpeg"),
    ("audio.aac", "aac", "audio/aac"), ("video.mp4", "mp4", "video/mp4"), ("video.3gp", "mp4", "video/3gpp"),
])
def test_real_files_are_recognised(app, name, kind, ctype):
    data = sample(name)
    assert sniff(data[:16]) == kind
    stored = store(app, data, name)
    assert (stored.kind, stored.content_type, stored.size) == (kind, ctype, len(data))


def test_amr(app):
    stored = store(app, AMR, "voice.amr")
    assert stored.content_type == "audio/amr"
    with pytest.raises(UploadError):
        store(app, AMR[:-5], "voice.amr")  # the last frame cut short


@pytest.mark.parametrize("data", [
    b"OggS" + b"\x00" * 200,  # no page structure behind the magic
    sample("voice.ogg")[:-40],  # a download cut short
    sample("video.mp4")[:-10],
    b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08free",  # no moov: nothing to play
    b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"not frames at all" * 10,
    sample("audio.aac")[:-3],
])
def test_files_that_only_start_like_media_are_refused(app, data):
    with pytest.raises(UploadError) as caught:
        store(app, data)
    assert caught.value.code is None


def test_other_content_is_refused_with_the_callers_message(app):
    with pytest.raises(UploadError) as caught:
        store(app, MINIMAL_PDF, refused_message="not audio")
    assert caught.value.code == "type" and str(caught.value.message) == "not audio"


def test_sound_is_refused_where_not_allowed(app):
    with pytest.raises(UploadError) as caught:
        store(app, sample("voice.ogg"), "voice.ogg", allowed=("pdf", "jpeg", "png"))
    assert caught.value.code == "type"


def test_name_must_match_the_content(app):
    with pytest.raises(UploadError):
        store(app, sample("voice.ogg"), "voice.mp3")


def test_limits_per_kind(app):
    with pytest.raises(UploadError) as caught:
        store(app, sample("video.mp4"), limits={"mp4": 1024})
    assert caught.value.code == "size"
    assert store(app, sample("video.mp4"), limits=MEDIA_LIMITS).kind == "mp4"
