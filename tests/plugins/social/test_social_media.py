"""Voice notes, audio, videos and stickers from WhatsApp: downloaded through the Graph API like images,
checked by content in the shared upload service, played on the timeline, served with HTTP ranges,
permission-checked and audited. The sample files are the core's (``tests/media_samples.py``)."""
import copy

import pytest
from social_helpers import app_config, graph, payload, post_webhook, smtp  # noqa: F401  (fixtures)
from media_samples import AMR, MEDIA
from social_helpers import fresh, jpeg_bytes, text_of

from portal.db import database
from portal.models import Attachment, AuditEvent, TimelineEntry

from plugins.social.models import Sender, WebhookDelivery

MEDIA_ID = "1003383421387256"


def media_message(payload, kind: str, mime: str, **extra) -> dict:
    """The voice-note fixture turned into another kind of media message (same shape as Meta sends)."""
    data = copy.deepcopy(payload("wa_audio.json"))
    msg = data["entry"][0]["changes"][0]["value"]["messages"][0]
    msg.pop("audio")
    msg["type"] = kind
    msg[kind] = {"mime_type": mime, "sha256": "c2hhMjU2", "id": MEDIA_ID, **extra}
    return fresh(data)


def only_entry(app):
    with app.app_context(), database.connection_context():
        return TimelineEntry.get()


@pytest.mark.parametrize("name,mime,stored_type", [
    ("voice.ogg", "audio/ogg; codecs=opus", "audio/ogg"),
    ("audio.m4a", "audio/mp4", "audio/mp4"),
    ("audio.mp3", "audio/mpeg", "audio/mpeg"),
    ("audio.aac", "audio/aac", "audio/aac"),
])
def test_voice_notes_and_audio_are_stored_and_played(app, client, auth, graph, post_webhook, payload, name, mime,
                                                     stored_type):
    content = (MEDIA / name).read_bytes()
    graph.media[MEDIA_ID] = (content, mime)
    data = payload("wa_audio.json")
    data["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]["mime_type"] = mime
    post_webhook(fresh(data))
    with app.app_context(), database.connection_context():
        entry = TimelineEntry.get()
        att = Attachment.get()
        assert entry.data["media"]["state"] == "stored" and entry.data["media"]["attachment"] == att.id
        assert att.content_type == stored_type and att.size == len(content)
        assert att.file_name.startswith("whatsapp-audio.")
        sender_id = Sender.get().id
    auth.login("officer")
    page = client.get(f"/social/senders/{sender_id}?lang=en").get_data(as_text=True)
    assert f'<audio controls preload="none" src="/social/media/{att.id}">' in page
    assert "Voice note" in page
    r = client.get(f"/social/media/{att.id}")
    assert r.status_code == 200 and r.data == content and r.mimetype == stored_type
    assert "inline" in r.headers["Content-Disposition"] and r.headers["Accept-Ranges"] == "bytes"


def test_amr_voice_note(app, graph, post_webhook, payload):
    graph.media[MEDIA_ID] = (AMR, "audio/amr")
    post_webhook(media_message(payload, "audio", "audio/amr"))
    with app.app_context(), database.connection_context():
        att = Attachment.get()
        assert att.content_type == "audio/amr" and att.file_name == "whatsapp-audio.amr"


@pytest.mark.parametrize("name,stored_type", [("video.mp4", "video/mp4"), ("video.3gp", "video/3gpp")])
def test_videos_are_stored_and_played(app, client, auth, graph, post_webhook, payload, name, stored_type):
    content = (MEDIA / name).read_bytes()
    graph.media[MEDIA_ID] = (content, stored_type)
    post_webhook(media_message(payload, "video", stored_type, caption="فيديو البيت"))
    with app.app_context(), database.connection_context():
        att = Attachment.get()
        assert att.content_type == stored_type
        assert TimelineEntry.get().body == "فيديو البيت"
        sender_id = Sender.get().id
    auth.login("officer")
    page = client.get(f"/social/senders/{sender_id}").get_data(as_text=True)
    assert f'<video controls preload="metadata" width="320" src="/social/media/{att.id}">' in page


def test_sticker_is_a_webp_image(app, client, auth, graph, post_webhook, payload):
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (20, 160, 90, 255)).save(out, format="WEBP")
    graph.media[MEDIA_ID] = (out.getvalue(), "image/webp")
    post_webhook(media_message(payload, "sticker", "image/webp", animated=False))
    with app.app_context(), database.connection_context():
        att = Attachment.get()
        assert att.content_type == "image/webp" and att.file_name == "whatsapp-sticker.webp"
        sender_id = Sender.get().id
    auth.login("officer")
    page = client.get(f"/social/senders/{sender_id}?lang=en").get_data(as_text=True)
    assert 'alt="Sticker sent by the beneficiary"' in page


def test_voice_note_whose_bytes_are_not_audio_is_refused(app, client, auth, graph, post_webhook, payload):
    """A JPEG (or a web page) announced as a voice note: nothing is kept, the entry says why, nothing plays."""
    graph.media[MEDIA_ID] = (jpeg_bytes(), "audio/ogg; codecs=opus")
    post_webhook(fresh(payload("wa_audio.json")))
    with app.app_context(), database.connection_context():
        assert Attachment.select().count() == 0
        media = TimelineEntry.get().data["media"]
        assert media["state"] == "refused" and media["reason"] == "type"
        assert WebhookDelivery.get().state == "processed"  # a bad file is not retried
        sender_id = Sender.get().id
    auth.login("officer")
    page = client.get(f"/social/senders/{sender_id}?lang=en")
    assert "<audio" not in page.get_data(as_text=True)
    assert "this voice note or audio file is not audio" in text_of(page)
    page = client.get(f"/social/senders/{sender_id}?lang=ar").get_data(as_text=True)
    assert "ليست تسجيلًا صوتيًا" in page


def test_audio_that_only_starts_like_audio_is_refused(app, graph, post_webhook, payload):
    """OGG's four magic bytes in front of anything else are not a voice note: the pages are walked."""
    graph.media[MEDIA_ID] = (b"OggS" + jpeg_bytes(), "audio/ogg")
    post_webhook(fresh(payload("wa_audio.json")))
    with app.app_context(), database.connection_context():
        assert Attachment.select().count() == 0
        media = TimelineEntry.get().data["media"]
        assert media["state"] == "refused" and media["reason"] == "damaged"


def test_video_over_its_limit_is_refused(app, app_config, graph, post_webhook, payload):
    app.config["SOCIAL_MEDIA_LIMITS_MB"] = {"video": 0.001}  # about 1 KB
    graph.media[MEDIA_ID] = ((MEDIA / "video.mp4").read_bytes(), "video/mp4")
    post_webhook(media_message(payload, "video", "video/mp4"))
    with app.app_context(), database.connection_context():
        assert Attachment.select().count() == 0
        media = TimelineEntry.get().data["media"]
        assert media["state"] == "failed" and "larger than" in media["error"]


def _stored_voice_note(app, graph, post_webhook, payload, make_beneficiary=None):
    graph.media[MEDIA_ID] = ((MEDIA / "voice.ogg").read_bytes(), "audio/ogg; codecs=opus")
    post_webhook(fresh(payload("wa_audio.json")))
    with app.app_context(), database.connection_context():
        return Attachment.get()


def test_range_requests(app, client, auth, graph, post_webhook, payload):
    att = _stored_voice_note(app, graph, post_webhook, payload)
    content = (MEDIA / "voice.ogg").read_bytes()
    auth.login("officer")
    r = client.get(f"/social/media/{att.id}", headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.data == content[:100]
    assert r.headers["Content-Range"] == f"bytes 0-99/{len(content)}"
    r = client.get(f"/social/media/{att.id}", headers={"Range": "bytes=100-"})
    assert r.status_code == 206 and r.data == content[100:]
    assert r.headers["Content-Range"] == f"bytes 100-{len(content) - 1}/{len(content)}"
    r = client.get(f"/social/media/{att.id}", headers={"Range": f"bytes={len(content) + 10}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(content)}"
    # one play is audited once: the request from the start, not each range the player asks for
    with app.app_context(), database.connection_context():
        events = AuditEvent.select().where((AuditEvent.action == "read") & (AuditEvent.object_type == "media")).count()
    assert events == 1


def test_media_is_permission_checked(app, client, auth, graph, post_webhook, payload, make_beneficiary):
    make_beneficiary(mobile="0551112233")  # the voice note's sender: it lands on this file's timeline
    att = _stored_voice_note(app, graph, post_webhook, payload)
    with app.app_context(), database.connection_context():
        assert TimelineEntry.get().beneficiary_id is not None
    assert client.get(f"/social/media/{att.id}").status_code in (302, 401)
    auth.login("researcher")  # not assigned to this file
    assert client.get(f"/social/media/{att.id}", headers={"Range": "bytes=0-9"}).status_code == 403
    auth.login("officer")
    assert client.get(f"/social/media/{att.id}").status_code == 200


def test_messenger_video_and_audio_attachments(app, graph, post_webhook, payload):
    """Messenger (and Instagram) attachments of type video and audio are fetched from their address and checked
    the same way: an MP4 video is kept, an "audio" that is a photo is refused."""
    graph.media["clip"] = ((MEDIA / "video.mp4").read_bytes(), "video/mp4")
    graph.media["voice"] = (jpeg_bytes(), "audio/mpeg")
    graph.profiles["7200123456789012"] = {"first_name": "فاطمة", "last_name": "الزهراني", "id": "7200123456789012"}
    for n, (kind, name) in enumerate((("video", "clip"), ("audio", "voice"))):
        data = payload("messenger_image.json")
        message = data["entry"][0]["messaging"][0]["message"]
        message["mid"] += str(n)
        message["attachments"][0] = {"type": kind, "payload": {"url": f"{graph.url}/files/{name}"}}
        assert post_webhook(data).status_code == 200
    with app.app_context(), database.connection_context():
        video, audio = TimelineEntry.select().order_by(TimelineEntry.id)
        assert video.data["media"]["state"] == "stored"
        assert Attachment.get().content_type == "video/mp4" and Attachment.select().count() == 1
        assert audio.data["media"]["state"] == "refused" and audio.data["media"]["reason"] == "type"


def test_media_of_a_request_the_user_may_not_see(app, client, auth, users, graph, post_webhook, payload,
                                                make_beneficiary):
    """An entry filed under a request is seen by who may see that request (the same rule as documents): the
    researcher sees the file through the request assigned to them, not the entry of another request."""
    from portal.timeline import update_entry

    ben = make_beneficiary(mobile="0551112233")
    att = _stored_voice_note(app, graph, post_webhook, payload)
    with app.app_context(), database.connection_context():
        from portal.models import Case

        Case.create(beneficiary=ben, reference="1448-000776", request_type="general", status="in_research",
                    assigned_researcher=users["researcher"])
        other = Case.create(beneficiary=ben, reference="1448-000777", request_type="general", status="in_research")
        entry = TimelineEntry.get()
    auth.login("researcher")
    assert client.get(f"/social/media/{att.id}").status_code == 200  # not filed under a request yet
    with app.app_context(), database.connection_context():
        update_entry(entry, case=other.id)
    assert client.get(f"/social/media/{att.id}").status_code == 403
    auth.login("officer")
    assert client.get(f"/social/media/{att.id}").status_code == 200
